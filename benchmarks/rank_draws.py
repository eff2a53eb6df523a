"""How many of the population's draws the rank quantiles need (``estimates.RANK_DRAWS``).

``RankFunction`` averages each group's ``P(rank <= r)`` over draws of the population, and
estimates ``G_s``, the expected number of groups above a rate, from ``RANK_SAMPLE`` rates
shared among those draws. Fewer draws leave more rates to each ``G_s``, so its stated error
(``mc_error``, one standard error of one ``G_s``) shrinks; the average over draws is then
taken over fewer of them. On the real career batting table and on 10^5 synthetic groups
(``groups.synthetic_csv``, seed 2), with draws of the exact grid's posterior of ``(alpha,
beta)`` (the same draws for every setting), this gives each setting's rank quantiles, how
far they are from those of 160 draws (the reference), the stated error, and the seconds the
searches take. Writes the ``rank_draws`` section of RESULTS.md (``make bench
BENCH=rank_draws``, about two minutes).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from common import write_section
from groups import real_and_synthetic_pairs

from pooling import estimates, exact

SETTINGS = (10, 20, 40)
REFERENCE = 160
SIGMA = 10.0


def quantiles(pairs: pd.DataFrame, alpha, beta) -> tuple[np.ndarray, float, float]:
    """The rank quantiles (rows q05, median, q95), the stated error and the search's
    seconds, with the population at the draws given."""
    y = pairs["successes"].to_numpy(float)
    function = estimates.RankFunction(pairs["count"].to_numpy(), alpha[:, None], beta[:, None],
                                      y, pairs["trials"].to_numpy(float) - y,
                                      np.random.default_rng(1))  # fmt: skip
    start = time.perf_counter()
    found = np.array(function.quantiles())
    return found, function.mc_error, time.perf_counter() - start


def main() -> int:
    lines = [
        "| table | draws | stated error (ranks) | largest distance from 160 draws, q05 / median"
        " / q95 | 99th percentile | search (s) |",
        "|---|---:|---:|---|---|---:|",
    ]
    for name, pairs in real_and_synthetic_pairs().items():
        grid = exact.HierarchicalPosterior(pairs, sigma=SIGMA)
        alpha, beta = grid.hyper_draws(REFERENCE, np.random.default_rng(5))
        reference, _, _ = quantiles(pairs, alpha, beta)
        for draws in SETTINGS:
            # Evenly spaced among the reference's draws, as rank_function keeps them.
            kept = np.linspace(0, REFERENCE - 1, draws).round().astype(int)
            found, error, seconds = quantiles(pairs, alpha[kept], beta[kept])
            distance = np.abs(found - reference)
            largest = " / ".join(str(int(v)) for v in distance.max(axis=1))
            high = " / ".join(f"{v:.0f}" for v in np.percentile(distance, 99, axis=1))
            lines.append(f"| {name} | {draws} | {error:.0f} | {largest} | {high} | "
                         f"{seconds:.1f} |")  # fmt: skip
            print(lines[-1], flush=True)
    write_section(
        "rank_draws",
        "## How many population draws the rank quantiles need\n\n"
        "`RankFunction` with the exact posterior's draws of `(alpha, beta)`, against the same "
        f"function with {REFERENCE} of them; `RANK_DRAWS` is {estimates.RANK_DRAWS}.\n\n"
        + "\n".join(lines),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How many draws of the population the hierarchical mixtures need (``MIXTURE_BUDGET``).

Each distinct pair's estimates average its Beta posterior over draws of ``(alpha, beta)``:
``estimates.mixture_draws`` keeps ``MIXTURE_BUDGET // pairs`` of them, at least
``MIN_DRAWS``, evenly spaced (nearly independent). The Monte Carlo error of a pair's
posterior mean over ``S`` such draws is ``sd_s(E[theta | s]) / sqrt(S)``. On the real career
batting table and on 10^5 synthetic groups (``groups.synthetic_csv``, seed 2), with 2,000
draws of the exact grid's posterior of ``(alpha, beta)``, this gives the largest of that
error over every pair, as a share of the pair's posterior sd, at the draws that two budgets
keep. Writes the ``mixture_draws`` section of RESULTS.md (``make bench
BENCH=mixture_draws``, under a minute).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from common import write_section
from groups import real_and_synthetic_pairs

from pooling import estimates, exact

BUDGETS = (4_000_000, 2_000_000)
#: Draws of the population in a fit at notebook 3's settings (4 chains of 5000).
FIT_DRAWS = 20_000
SIGMA = 10.0


def spread(pairs: pd.DataFrame, alpha, beta) -> np.ndarray:
    """Each pair's ``sd_s(E[theta | s])`` over its posterior sd."""
    y = pairs["successes"].to_numpy(float)
    a, b = alpha[:, None] + y, beta[:, None] + pairs["trials"].to_numpy(float) - y
    total = a + b
    mean = a / total
    sd = np.sqrt((a * b / (total**2 * (total + 1))).mean(axis=0) + mean.var(axis=0))
    return mean.std(axis=0) / sd


def main() -> int:
    lines = ["| table | pairs | budget | draws kept | largest MC error / posterior sd |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    for name, pairs in real_and_synthetic_pairs().items():
        grid = exact.HierarchicalPosterior(pairs, sigma=SIGMA)
        ratio = spread(pairs, *grid.hyper_draws(2000, np.random.default_rng(5))).max()
        for budget in BUDGETS:
            draws = min(max(budget // len(pairs), estimates.MIN_DRAWS), FIT_DRAWS)
            lines.append(f"| {name} | {len(pairs):,} | {budget:,} | {draws} | "
                         f"{ratio / np.sqrt(draws):.2%} |")  # fmt: skip
            print(lines[-1], flush=True)
    write_section(
        "mixture_draws",
        "## How many population draws the hierarchical mixtures need\n\n"
        f"`MIXTURE_BUDGET` is {estimates.MIXTURE_BUDGET:,}; the draws kept come from a fit of "
        f"{FIT_DRAWS:,}.\n\n" + "\n".join(lines),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

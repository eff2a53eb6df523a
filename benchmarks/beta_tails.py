"""The upper tail of a Beta in SciPy: ``betaincc(a, b, t)`` or ``betainc(b, a, 1 - t)``.

The table of estimates takes ``P(theta > t)`` for every group and every draw of the
population (``pooling.estimates._upper_tail``). Both ways give the same number; this measures
how long each takes and how far apart they are, on a million seeded shapes like a large
table's (trials log-uniform up to 3,000, rates from Beta(8, 2), Jeffreys' prior), at a fixed
threshold and at each group's population mean. Writes the ``beta_tails`` section of
RESULTS.md: ``make bench BENCH=beta_tails`` (under a minute).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from common import median, write_section
from scipy import special


def shapes(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Posterior shapes ``(a, b)`` of ``size`` groups under Jeffreys' prior."""
    rng = np.random.default_rng(seed)
    trials = np.floor(np.exp(rng.uniform(0, np.log(3000), size))).astype(int)
    successes = rng.binomial(trials, rng.beta(8, 2, size))
    return successes + 0.5, trials - successes + 0.5


def best_of(repeats: int, function, *args) -> tuple[float, np.ndarray]:
    """Median wall time of ``repeats`` calls, in seconds, and the last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    a, b = shapes(args.size, args.seed)
    rows = []
    for what, t, below in (
        ("t = 0.9", 0.9, 0.1),
        ("t = each group's mean", a / (a + b), b / (a + b)),
    ):
        complement, upper = best_of(args.repeats, special.betaincc, a, b, t)
        lower, swapped = best_of(args.repeats, special.betainc, b, a, below)
        difference = np.abs(upper - swapped)
        relative = np.max(difference / np.maximum(upper, np.finfo(float).tiny))
        print(f"{what}: betaincc {complement:.3f} s, betainc {lower:.3f} s", flush=True)
        rows.append(
            f"| {what} | {complement:.2f} | {lower:.2f} | {complement / lower:.1f} | "
            f"{difference.max():.1e} | {relative:.1e} |"
        )
    write_section(
        "beta_tails",
        "## The upper tail of a Beta distribution (`make bench BENCH=beta_tails`)\n\n"
        f"`P(theta > t)` for {args.size:,} seeded groups' posteriors, as "
        "`scipy.special.betaincc(a, b, t)` and as `betainc(b, a, 1 - t)` (the table of "
        "estimates uses the second), median of "
        f"{args.repeats} calls each (`benchmarks/beta_tails.py`).\n\n"
        "| threshold | betaincc s | betainc s | ratio | largest difference | "
        "largest relative difference |\n"
        "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

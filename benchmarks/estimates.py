"""The table of estimates alone (``python -m pooling estimates``) on many groups: time, memory.

For each size, a seeded synthetic CSV (``groups.synthetic_csv``: trials log-uniform up to
3,000, 1 group in 100 without trials, rates from Beta(8, 2)) and the real career batting table
shipped in ``data/`` go through ``python -m pooling estimates`` with the notebooks' default
settings, without predictors and with ``PREDICTORS=log_trials`` (the regression as a fourth
model). Reports the wall time of each, the peak memory of the whole process tree (sum of
proportional set sizes, sampled every 2 s, the run's side process included) and the size
of the table written, with the regression. 10^5 groups is the size of the 30-second target.
Writes the ``estimates`` section of RESULTS.md: ``make bench BENCH=estimates`` (about 4
minutes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import ROOT, measured, write_section
from groups import synthetic_csv

REAL = ("career_batting.csv", "player", "at_bats", "hits")


def run(csv: Path, out: Path, group: str, trials: str, successes: str,
        predictors: str = "") -> dict[str, float]:  # fmt: skip
    """Run the estimates on ``csv`` into ``out``; wall time, peak memory, output size."""
    command = [sys.executable, "-m", "pooling", "estimates", "--data", csv, "--group", group,
               "--trials", trials, "--successes", successes, "--out", out]  # fmt: skip
    if predictors:
        command += ["-p", "PREDICTORS", predictors]
    status, seconds, peak = measured(command)
    if status != 0:
        raise SystemExit(f"estimates: the run on {csv.name} failed (exit status {status})")
    written = sum(p.stat().st_size for p in (out / "estimates.parquet").iterdir())
    return {"seconds": seconds, "peak": peak, "written": written}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="estimates-bench-") as scratch:
        cases = [(ROOT / "data" / REAL[0], REAL[1:], f"career batting ({REAL[0]})")]
        for n_groups in args.sizes:
            csv = Path(scratch) / f"groups_{n_groups}.csv"
            synthetic_csv(n_groups, args.seed, csv)
            cases.append((csv, ("hospital", "cases", "recoveries"), "synthetic"))
        for csv, columns, what in cases:
            n_groups = sum(1 for _ in csv.open()) - 1
            plain = run(csv, Path(scratch) / f"out-{csv.stem}", *columns)
            both = run(csv, Path(scratch) / f"out-{csv.stem}-log_trials", *columns, "log_trials")
            print(f"{what}: {n_groups} groups: {plain}, with log_trials {both}", flush=True)
            rows.append(
                f"| {what} | {n_groups:,} | {plain['seconds']:.0f} | {both['seconds']:.0f} | "
                f"{both['peak'] / 2**30:.2f} | {both['written'] / 2**20:.0f} |"
            )
    write_section(
        "estimates",
        "## The table of estimates for many groups\n\n"
        "`python -m pooling estimates` (`make estimates`) with the notebooks' default settings "
        "(5000 + 5000 draws in 4 chains, seed 20240129): the population fitted on the folded "
        "likelihood, checked against the exact grid, then every group's estimates under the "
        "three models, and with `PREDICTORS=log_trials` the regression as a fourth "
        "(`benchmarks/estimates.py`). Peak memory and size are those of the run with the "
        "regression; memory is the whole process tree's.\n\n"
        "| data | groups | seconds | seconds with log_trials | peak memory GiB | "
        "estimates.parquet MiB |\n"
        "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

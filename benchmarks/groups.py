"""The whole collection on synthetic data with many groups: time, memory and output size.

For each size, a seeded synthetic CSV (trials log-uniform up to 3,000, about 1 group in 10
without trials, rates drawn from Beta(8, 2)) goes through ``python -m pooling run`` with the
settings that the run itself suggests past ``pooling.build.own_data.MANY_GROUPS``
groups (``QUICK_SETTINGS`` there). Reports the wall time of the whole run, the peak memory of
its processes (the sum of their proportional set sizes, sampled every 2 s, so pages that the
forked kernels share count once) and the size of what it wrote. Writes the ``groups`` section
of RESULTS.md. Not part of the default ``make bench`` (10,000 groups take about 20
minutes here): ``make bench BENCH=groups``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import measured, write_section

from pooling.build.own_data import QUICK_SETTINGS


def synthetic_csv(n_groups: int, seed: int, path: Path) -> int:
    """Write the synthetic CSV; return its number of distinct (trials, successes) records."""
    rng = np.random.default_rng(seed)
    trials = np.floor(np.exp(rng.uniform(0, np.log(3000), n_groups))).astype(int) - 1
    trials[rng.random(n_groups) < 0.01] = 0
    successes = rng.binomial(trials, rng.beta(8, 2, n_groups))
    frame = pd.DataFrame(
        {"hospital": [f"H{i:05d}" for i in range(n_groups)], "cases": trials,
         "recoveries": successes}
    )  # fmt: skip
    frame.to_csv(path, index=False)
    return len(frame[["cases", "recoveries"]].drop_duplicates())


def run(csv: Path, out: Path) -> dict[str, float]:
    """Run the collection on ``csv`` into ``out``; wall time, peak memory, output size."""
    settings = [arg for name, value in QUICK_SETTINGS.items() for arg in ("-p", name, value)]
    command = [
        sys.executable, "-m", "pooling", "run", "--data", csv, "--group", "hospital",
        "--trials", "cases", "--successes", "recoveries", "--out", out, *settings,
    ]  # fmt: skip
    status, seconds, peak = measured(command)
    if status != 0:
        raise SystemExit(f"groups: the run on {csv.name} failed (exit status {status})")
    written = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    return {"seconds": seconds, "peak": peak, "written": written}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args(argv)
    rows = []
    for n_groups in args.sizes:
        with tempfile.TemporaryDirectory(prefix="groups-bench-") as scratch:
            csv = Path(scratch) / f"groups_{n_groups}.csv"
            distinct = synthetic_csv(n_groups, args.seed, csv)
            result = run(csv, Path(scratch) / "out")
        print(f"{n_groups} groups: {result}", flush=True)
        rows.append(
            f"| {n_groups:,} | {distinct:,} | {result['seconds'] / 60:.1f} | "
            f"{result['peak'] / 2**30:.1f} | {result['written'] / 2**30:.2f} |"
        )
    flags = " ".join(f"-p {name} {value}" for name, value in QUICK_SETTINGS.items())
    write_section(
        "groups",
        "## The whole collection with many groups\n\n"
        f"`python -m pooling run ... {flags}` on synthetic data (seed {args.seed}; see "
        "`benchmarks/groups.py`): all four notebooks with their checks.\n\n"
        "| groups | distinct records | minutes | peak memory GiB | written GiB |\n"
        "|---:|---:|---:|---:|---:|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

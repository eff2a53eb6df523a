"""The whole collection with many groups, at the default settings: time, memory, output size.

Runs ``python -m pooling run`` with no ``-p`` flags (every check on) on the real table of
17,593 players' career batting (``data/career_batting.csv``) and on seeded synthetic CSVs
(trials log-uniform up to 3,000, about 1 group in 100 without trials, rates drawn from
Beta(8, 2)). Reports the wall time of the whole run, the peak memory of its processes (the
sum of their proportional set sizes, sampled every 2 s, so pages that the forked kernels
share count once) and the size of what it wrote. Writes the ``groups`` section of
RESULTS.md. Not part of the default ``make bench`` (about 10 minutes in all):
``make bench BENCH=groups``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from common import measured, write_section

REAL = Path(__file__).resolve().parents[1] / "data" / "career_batting.csv"
REAL_COLUMNS = ("player", "at_bats", "hits")
SYNTHETIC_COLUMNS = ("hospital", "cases", "recoveries")


def synthetic_csv(n_groups: int, seed: int, path: Path) -> None:
    """Write the synthetic CSV."""
    rng = np.random.default_rng(seed)
    trials = np.floor(np.exp(rng.uniform(0, np.log(3000), n_groups))).astype(int) - 1
    trials[rng.random(n_groups) < 0.01] = 0
    successes = rng.binomial(trials, rng.beta(8, 2, n_groups))
    frame = pd.DataFrame(
        {"hospital": [f"H{i:07d}" for i in range(n_groups)], "cases": trials,
         "recoveries": successes}
    )  # fmt: skip
    frame.to_csv(path, index=False)


def synthetic_pairs(n_groups: int, seed: int = 2) -> pd.DataFrame:
    """The distinct pairs of :func:`synthetic_csv`'s groups (:func:`folded_pairs`)."""
    with tempfile.TemporaryDirectory(prefix="pairs-") as scratch:
        path = Path(scratch) / "groups.csv"
        synthetic_csv(n_groups, seed, path)
        return folded_pairs(pd.read_csv(path))


def real_and_synthetic_pairs() -> dict[str, pd.DataFrame]:
    """Career batting and 10^5 synthetic groups (seed 2), each folded to its distinct pairs
    (:func:`folded_pairs`)."""
    return {"career batting": folded_pairs(pd.read_csv(REAL)),
            "100,000 synthetic": synthetic_pairs(100_000)}  # fmt: skip


def folded_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """A groups table's distinct pairs (``trials``, ``successes``, ``count``), indexed
    ``"N/y"``; its columns are group, trials and successes, in that order."""
    frame = frame.set_axis(["group", "trials", "successes"], axis=1)
    pairs = frame.groupby(["trials", "successes"]).size().rename("count").reset_index()
    return pairs.set_index(pairs["trials"].astype(str) + "/" + pairs["successes"].astype(str))


def distinct(csv: Path, columns: tuple[str, str, str]) -> tuple[int, int]:
    """Groups and distinct (trials, successes) records of ``csv``."""
    frame = pd.read_csv(csv, usecols=list(columns[1:]))
    return len(frame), len(frame.drop_duplicates())


def run(csv: Path, columns: tuple[str, str, str], out: Path) -> dict[str, float]:
    """Run the collection on ``csv`` into ``out``; wall time, peak memory, output size."""
    group, trials, successes = columns
    command = [
        sys.executable, "-m", "pooling", "run", "--data", csv, "--group", group,
        "--trials", trials, "--successes", successes, "--out", out,
    ]  # fmt: skip
    status, seconds, peak = measured(command)
    if status != 0:
        raise SystemExit(f"groups: the run on {csv.name} failed (exit status {status})")
    written = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    return {"seconds": seconds, "peak": peak, "written": written}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--no-real", action="store_true", help="skip the career batting table")
    args = parser.parse_args(argv)
    rows = []
    cases = [] if args.no_real else [("career batting (real)", None)]
    cases += [(f"synthetic, seed {args.seed}", n) for n in args.sizes]
    for label, n_groups in cases:
        with tempfile.TemporaryDirectory(prefix="groups-bench-") as scratch:
            if n_groups is None:
                csv, columns = REAL, REAL_COLUMNS
            else:
                csv, columns = Path(scratch) / f"groups_{n_groups}.csv", SYNTHETIC_COLUMNS
                synthetic_csv(n_groups, args.seed, csv)
            size, records = distinct(csv, columns)
            result = run(csv, columns, Path(scratch) / "out")
        print(f"{label}, {size} groups: {result}", flush=True)
        rows.append(
            f"| {label} | {size:,} | {records:,} | {result['seconds'] / 60:.1f} | "
            f"{result['peak'] / 2**30:.2f} | {result['written'] / 2**20:.0f} |"
        )
    write_section(
        "groups",
        "## The whole collection with many groups, at the default settings\n\n"
        "`python -m pooling run` with no `-p` flags: all four notebooks with every check "
        "(see `benchmarks/groups.py`; past `pooling.scale.MANY` groups the fits take the "
        "listed groups' rates and the others in closed form). Targets: 20,000 groups in 5 "
        "minutes and 4 GiB, 1,000,000 in 15 minutes and 8 GiB.\n\n"
        "| data | groups | distinct records | minutes | peak memory GiB | written MiB |\n"
        "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

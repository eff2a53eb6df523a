"""The table of estimates on a local Dask cluster, from 10^5 to 10^7 groups in Parquet parts.

For each size, a seeded synthetic data set (the distribution of ``groups.synthetic_csv``:
trials log-uniform up to 3,000, 1 group in 100 without trials, rates from Beta(8, 2)) is
written as Parquet files of :data:`PART_ROWS` groups each. A fresh cluster of one scheduler
and two single-threaded workers with a 4 GiB memory limit each
(:func:`pooling.pipeline.cluster.local_processes`) then runs ``python -m pooling estimates
--scheduler`` at the notebooks' default settings. Reported: the wall time of the run, the
peak memory of the client process and of each worker (proportional set size, sampled every
second), and the sizes of input and output. At the smallest size the run is repeated on this
process's threads and its files compared byte for byte with the cluster's. Writes the
``distributed`` section of RESULTS.md: ``make bench BENCH=distributed`` (about 15 minutes;
the file is not called ``distributed.py``, which would hide the ``distributed`` package).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from common import PeakMemory, machine, write_section

from pooling.pipeline.cluster import local_processes

#: Groups per Parquet file.
PART_ROWS = 500_000
COLUMNS = ("ad", "impressions", "clicks")


def synthetic_parquet(n_groups: int, seed: int, directory: Path) -> int:
    """Write ``n_groups`` synthetic groups as Parquet files; the number of distinct pairs."""
    directory.mkdir(parents=True)
    distinct = set()
    for part, start in enumerate(range(0, n_groups, PART_ROWS)):
        rng = np.random.default_rng([seed, part])
        size = min(PART_ROWS, n_groups - start)
        trials = np.floor(np.exp(rng.uniform(0, np.log(3000), size))).astype(np.int64) - 1
        trials[rng.random(size) < 0.01] = 0
        successes = rng.binomial(trials, rng.beta(8, 2, size))
        names = pd.Series(np.arange(start, start + size)).map("ad{:09d}".format)
        table = pa.table({COLUMNS[0]: names.to_numpy(object), COLUMNS[1]: trials,
                          COLUMNS[2]: successes})  # fmt: skip
        pq.write_table(table, directory / f"part-{part:05d}.parquet")
        distinct.update(np.unique(trials * 2**32 + successes).tolist())
    return len(distinct)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(data: Path, out: Path, scheduler: str | None, workers: list[int],
        predictors: str | None = None) -> dict:  # fmt: skip
    """``python -m pooling estimates`` on ``data``: seconds and peak memories (bytes)."""
    group, trials, successes = COLUMNS
    command = [sys.executable, "-m", "pooling", "estimates", "--data", data, "--out", out,
               "--group", group, "--trials", trials, "--successes", successes]  # fmt: skip
    if predictors:
        command += ["-p", "PREDICTORS", predictors]
    if scheduler:
        command += ["--scheduler", scheduler]
    watched = [PeakMemory(pid, every=1.0) for pid in workers]
    start = time.perf_counter()
    process = psutil.Popen([str(arg) for arg in command])
    client = PeakMemory(process.pid, every=1.0)
    status = process.wait()
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "client": client.stop(),
              "workers": [w.stop() for w in watched]}  # fmt: skip
    if status != 0:
        raise SystemExit(f"distributed: the run on {data} failed (exit status {status})")
    return result


def same_bytes(a: Path, b: Path) -> bool:
    """Whether two output directories hold the same files with the same bytes."""
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    if names != sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()):
        return False
    return all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--scratch", type=Path, help="where to write the data (default: /tmp)")
    parser.add_argument("--predictors", help="PREDICTORS for a fourth model; its own section")
    args = parser.parse_args(argv)
    rows, notes = [], []
    for n_groups in args.sizes:
        with tempfile.TemporaryDirectory(prefix="distributed-bench-", dir=args.scratch) as tmp:
            data, out = Path(tmp) / "data", Path(tmp) / "out"
            distinct = synthetic_parquet(n_groups, args.seed, data)
            with local_processes(workers=2, memory_limit="4GiB") as (address, pids):
                result = run(data, out, address, pids["workers"], args.predictors)
            rows_out = sum(pq.ParquetFile(p).metadata.num_rows
                           for p in (out / "estimates.parquet").iterdir())  # fmt: skip
            line = (
                f"| {n_groups:,} | {len(list(data.iterdir()))} | {distinct:,} | "
                f"{result['seconds'] / 60:.1f} | {result['client'] / 2**30:.2f} | "
                f"{max(result['workers']) / 2**30:.2f} | {_size(data) / 2**20:.0f} | "
                f"{rows_out:,} | {_size(out) / 2**20:.0f} |"
            )
            print(line, flush=True)
            rows.append(line)
            if n_groups == min(args.sizes):
                here = Path(tmp) / "here"
                local = run(data, here, None, [], args.predictors)
                same = "byte for byte the same" if same_bytes(out, here) else "NOT the same"
                notes.append(
                    f"At {n_groups:,} groups the same run on this process's threads took "
                    f"{local['seconds'] / 60:.1f} minutes (peak {local['client'] / 2**30:.2f} "
                    f"GiB), and its files are {same} as the cluster's."
                )
                shutil.rmtree(here)
    with_predictors = f" with `PREDICTORS={args.predictors}`" if args.predictors else ""
    bench_args = f' BENCH_ARGS="--predictors {args.predictors}"' if args.predictors else ""
    write_section(
        "distributed_predictors" if args.predictors else "distributed",
        f"## The table of estimates on a Dask cluster{with_predictors}\n\n"
        f"{machine()}. `make bench BENCH=distributed{bench_args}` (`benchmarks/dask_cluster.py`): "
        "synthetic "
        f"groups in Parquet files of {PART_ROWS:,}, estimated by `python -m pooling estimates "
        "--scheduler` on a local cluster of two single-threaded worker processes with a 4 GiB "
        "memory limit each, at the notebooks' default settings. Memory is the peak "
        "proportional set size of each process.\n\n"
        "| groups | files | distinct pairs | minutes | client peak GiB | worker peak GiB | "
        "input MiB | rows written | output MiB |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows)
        + "\n\n"
        + " ".join(notes),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

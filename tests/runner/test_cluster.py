"""The estimates on a real Dask cluster on 127.0.0.1: the same bytes as in one process, even
when a worker is killed in the middle of the run."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from pooling.runner import cluster, takeaway
from pooling.runner.cli import main

LABELS = {"group": "ad", "trials": "impressions", "successes": "clicks"}
QUICK = {"DRAWS": 2000, "TUNE": 1000, "THRESHOLD": 0.3}


@pytest.fixture(scope="module")
def local():
    """One scheduler and two worker processes, stopped by process id afterwards."""
    with cluster.local_processes(workers=2, memory_limit="2GiB") as (address, pids):
        yield address, pids
    for pid in [pids["scheduler"], *pids["workers"]]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Six parts, Parquet and CSV, of 3,000 synthetic groups each."""
    directory = tmp_path_factory.mktemp("parts")
    rng = np.random.default_rng(11)
    for k in range(6):
        trials = rng.integers(0, 60, 3000)
        frame = pd.DataFrame({"ad": [f"ad{k}-{i}" for i in range(3000)], "impressions": trials,
                              "clicks": rng.binomial(trials, rng.beta(3, 9, 3000))})  # fmt: skip
        if k % 3 == 2:
            frame.to_csv(directory / f"part-{k}.csv", index=False)
        else:
            frame.to_parquet(directory / f"part-{k}.parquet", index=False)
    return directory


@pytest.fixture(scope="module")
def here(data, tmp_path_factory):
    """The run on this process's threads: the reference."""
    out = tmp_path_factory.mktemp("here") / "out"
    takeaway.run_estimates(data, out, LABELS, QUICK)
    return out


def _files(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_partitioned_table_gives_the_same_bytes_on_the_cluster(local, data, here, tmp_path):
    address, _ = local
    out = takeaway.run_estimates(data, tmp_path / "out", LABELS, QUICK, scheduler=address)
    assert len(list(out.iterdir())) == 18  # three models x six parts
    assert _files(tmp_path / "out") == _files(here)


def test_a_killed_worker_changes_nothing(data, here, tmp_path):
    # A cluster of its own: the one worker left carries on alone.
    with cluster.local_processes(workers=2, memory_limit="2GiB") as (address, pids):
        killed = []

        def kill_when_the_fit_is_done():
            # The staging directory appears once the population is fitted, with every part
            # read and held by the workers and all of the per-group work still ahead.
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not any(tmp_path.glob(".out.staging-*")):
                time.sleep(0.05)
            os.kill(pids["workers"][0], signal.SIGKILL)
            killed.append(time.monotonic())

        watcher = threading.Thread(target=kill_when_the_fit_is_done, daemon=True)
        watcher.start()
        try:
            takeaway.run_estimates(data, tmp_path / "out", LABELS, QUICK, scheduler=address)
        except Exception as err:  # allowed: one clear line, and OUT untouched
            assert "\n" not in str(err).strip()
            assert not (tmp_path / "out").exists()
        else:
            assert _files(tmp_path / "out") == _files(here)
        watcher.join()
        assert killed, "the worker was not killed during the run"
        assert not psutil.pid_exists(pids["workers"][0])


def test_no_scheduler_at_the_address_is_one_line(tmp_path, capsys):
    status = main(["estimates", "--out", str(tmp_path / "out"), "--scheduler",
                   "tcp://127.0.0.1:9"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("error: no Dask scheduler answers at tcp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()

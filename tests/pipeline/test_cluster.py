"""The estimates and the calibration on a real Dask cluster on 127.0.0.1: the same bytes and
ranks as in one process, even when a worker is killed in the middle of the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from pooling.pipeline import cluster
from pooling.runner.cli import main

LABELS = {"group": "ad", "trials": "impressions", "successes": "clicks"}
QUICK = {
    "DRAWS": 1000,
    "TUNE": 1000,
    "THRESHOLD": 0.3,
    "PREDICTORS": "log_trials",
    "REGRESSION_DRAWS": 500,
}  # fewer draws than the exchangeable fit: each its own


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
        # 55 distinct (trials, successes) at most, zero trials among them: every path, and
        # little per-pair work, which does not shrink with the number of groups
        trials = rng.integers(0, 10, 3000)
        frame = pd.DataFrame({"ad": [f"ad{k}-{i}" for i in range(3000)], "impressions": trials,
                              "clicks": rng.binomial(trials, rng.beta(3, 9, 3000))})  # fmt: skip
        if k % 3 == 2:
            frame.to_csv(directory / f"part-{k}.csv", index=False)
        else:
            frame.to_parquet(directory / f"part-{k}.parquet", index=False)
    return directory


def _estimates(data, out, scheduler=None, **popen):
    """``python -m pooling estimates`` in a process of its own, as a user runs it, with the
    portable settings that the command would otherwise restart itself with."""
    settings = [arg for name, value in QUICK.items() for arg in ("-p", name, str(value))]
    command = [sys.executable, "-c", "import sys; from pooling.runner.cli import main; "
               "sys.exit(main())", "estimates", "--data", str(data), "--out", str(out),
               "--group", "ad", "--trials", "impressions", "--successes", "clicks", *settings,
               *(["--scheduler", scheduler] if scheduler else [])]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **cluster.PORTABLE}, **popen)  # fmt: skip


def _finished(process):
    stdout, stderr = process.communicate(timeout=600)
    return process.returncode, stderr


@pytest.fixture(scope="module")
def here(data, tmp_path_factory):
    """The run on the threads of one process: the reference.

    After a first run that fills the compile cache: a model compiled afresh and one loaded
    from the cache can differ in the last bits of their draws (seen with the regression
    model), and every later run loads it.
    """
    status, stderr = _finished(_estimates(data, tmp_path_factory.mktemp("warm") / "out"))
    assert status == 0, stderr
    out = tmp_path_factory.mktemp("here") / "out"
    status, stderr = _finished(_estimates(data, out))
    assert status == 0, stderr
    return out


def _files(out):
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_partitioned_table_gives_the_same_bytes_on_the_cluster(local, data, here, tmp_path):
    status, stderr = _finished(_estimates(data, tmp_path / "out", local[0]))
    assert status == 0, stderr
    assert "warning" not in stderr  # the workers have the portable settings
    # 4 models (with the predictors' population) x 6 parts
    assert len(list((tmp_path / "out" / "estimates.parquet").iterdir())) == 24
    assert _files(tmp_path / "out") == _files(here)


def test_no_scheduler_at_the_address_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)  # nothing will answer: give up soon
    status = main(["estimates", "--out", str(tmp_path / "out"), "--scheduler",
                   "tcp://127.0.0.1:9"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("error: no Dask scheduler answers at tcp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()


# --- calibration: the replicates on the workers --------------------------------------------
#: A small calibration, run here and on the cluster by one portable process (as notebook 05's
#: kernel is one): its simulator and fit live in ``__main__`` and travel by value.
CALIBRATION = """
import sys
import numpy as np
import pymc as pm
from distributed import Client
from pooling import calibration
from pooling.fits import CompiledSampler
from pooling.runner import compile_cache

# Compiled through the disk cache, here and on the workers, as make's kernels compile.
assert compile_cache.use_in_this_process()
with Client(sys.argv[1]) as client:
    assert all(client.run(compile_cache.use_in_this_process).values())

TRIALS = np.array([5, 9, 12, 20])
with pm.Model() as model:
    successes = pm.Data("successes", np.zeros(TRIALS.size, dtype=int))
    theta = pm.Beta("theta", 0.5, 0.5, shape=TRIALS.size)
    pm.Binomial("y", n=TRIALS, p=theta, observed=successes)
sampler = CompiledSampler(model)

def simulate(rng):
    theta = rng.beta(0.5, 0.5, size=TRIALS.size)
    return {"theta[0]": theta[0]}, {"successes": rng.binomial(TRIALS, theta)}

def fit(data, seed):
    idata = sampler.sample(draws=200, tune=200, chains=2, target_accept=0.8, seed=seed,
                           data=data)
    theta = idata.posterior["theta"].to_numpy()
    return {"theta[0]": theta[..., 0]}, int(idata.sample_stats["diverging"].sum())

address, out = sys.argv[1:]
for where, scheduler in (("here", None), ("there", address)):
    table = calibration.simulate_ranks(simulate, fit, 8, 50, seed=4, scheduler=scheduler)
    table.to_csv(f"{out}/{where}.csv")
"""


def test_calibration_ranks_are_the_same_on_the_cluster(local, tmp_path):
    subprocess.run([sys.executable, "-c", CALIBRATION, local[0], str(tmp_path)], check=True,
                   env={**os.environ, **cluster.PORTABLE}, timeout=600)  # fmt: skip
    here = pd.read_csv(tmp_path / "here.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "there.csv"), here)
    assert here["theta[0]"].nunique() > 1 and len(here) == 8


# Last in this file: it kills one of the module's workers, and the one left carries on alone.
def test_a_killed_worker_changes_nothing(local, data, here, tmp_path):
    address, pids = local
    run = _estimates(data, tmp_path / "out", address)
    # The staging directory appears once the population is fitted, with every part read
    # and held by the workers and all of the per-group work still ahead.
    deadline = time.monotonic() + 300
    while not any(tmp_path.glob(".out.staging-*")) and time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()
        time.sleep(0.05)
    os.kill(pids["workers"][0], signal.SIGKILL)
    assert run.poll() is None, "the run ended before the worker was killed"
    status, stderr = _finished(run)
    if status == 0:
        assert _files(tmp_path / "out") == _files(here)
    else:  # allowed: one clear line, and OUT untouched
        assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("error: "), stderr
        assert not (tmp_path / "out").exists()
    killed = pids["workers"][0]  # gone, or a zombie until the fixture's teardown reaps it
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == "zombie"

"""`python -m pooling run`: bad input stops before anything runs, an interrupted run leaves
the output directory exactly as it was, and data with many groups runs cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import nbformat
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from pooling.paths import ROOT
from pooling.runner import lint


def pooling_run(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "pooling", "run", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, **kwargs,
    )  # fmt: skip


def test_help_lists_the_options():
    out, _ = pooling_run("--help").communicate(timeout=60)
    for option in ("--data", "--out", "--group", "--trials", "--successes", "--parameter"):
        assert option in out


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("vehicle,launches,successes\nA,5,2\nB,5,7\n", "more successes than launches"),
        ("vehicle,launches\nA,5\nB,6\n", "column 'successes' not found"),
        ("", "the file is empty"),
    ],
)
def test_bad_input_exits_with_one_line_and_writes_nothing(tmp_path, text, problem):
    data = tmp_path / "groups.csv"
    data.write_text(text)
    out = tmp_path / "out"
    start = time.perf_counter()
    proc = pooling_run("--data", data, "--out", out)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert stderr.count("\n") == 1 and problem in stderr and str(data) in stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [data]
    assert time.perf_counter() - start < 60  # stopped before any kernel or compilation


@pytest.mark.parametrize(("predictors", "problem"), [
    ("skill", "predictor 'skill'"),
    ("log_trials,log_trials", "'log_trials' is named twice"),
])  # fmt: skip
def test_bad_predictors_exit_with_one_line_and_write_nothing(tmp_path, predictors, problem):
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.txt").write_text("an earlier run")
    for command in ("run", "estimates"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "pooling", command, "--out", str(out), "-p", "PREDICTORS",
             predictors], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 2, stderr
        assert stderr.count("\n") == 1 and problem in stderr and "fix:" in stderr
        assert [p.name for p in out.iterdir()] == ["kept.txt"]


def test_a_constant_built_in_predictor_stops_the_estimates_in_one_line(tmp_path):
    """log_trials with one number of trials: found while the regression is fitted beside the
    exchangeable model (in the run's side process), and reported as any bad input."""
    data = tmp_path / "groups.csv"
    rows = "".join(f"v{i},20,{i % 20}\n" for i in range(30))
    data.write_text("vehicle,launches,successes\n" + rows)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pooling", "estimates", "--data", str(data), "--out", str(out),
         "-p", "PREDICTORS", "log_trials"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT,
    )  # fmt: skip
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stderr
    assert stderr.count("\n") == 1 and "'log_trials' has the same value in every group" in stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [data]


def test_unknown_parameter_exits_with_one_line(tmp_path):
    proc = pooling_run("--out", tmp_path / "out", "-p", "NO_SUCH_PARAMETER", "1")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert stderr.count("\n") == 1 and "unknown notebook parameter NO_SUCH_PARAMETER" in stderr
    assert "MARGINAL_TARGET_ACCEPT" in stderr  # the line lists the parameters there are
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "estimates"])
def test_a_second_run_into_the_same_out_stops_in_one_line_naming_the_first(tmp_path, command):
    from pooling.runner.own_data import claimed

    out = tmp_path / "out"
    with claimed(out):  # the first run, still writing
        proc = subprocess.Popen([sys.executable, "-m", "pooling", command, "--out", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT)  # fmt: skip
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2 and stderr.count("\n") == 1
    assert f"{out} is being written by another run (process {os.getpid()}," in stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with claimed(out):  # released when its holder ends
        pass


def test_failed_check_keeps_the_partial_notebook_beside_out_and_names_the_next_step(tmp_path):
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "old.png").write_bytes(b"previous figure")
    # 100 draws cannot reach the notebooks' ESS >= 1000: the convergence check fails.
    proc = pooling_run("--out", out, "-j", 1, "-p", "DRAWS", 100, "-p", "TUNE", 100,
                       "-p", "REFIT_GROUPS", 0)  # fmt: skip
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1
    (line,) = stderr.strip().splitlines()[-1:]
    assert f"{out} is unchanged" in line and "CheckFailed: Convergence check failed" in line
    assert "(cell [" in line and "next: try -p DRAWS" in line
    kept = sorted(tmp_path.glob("out.*.partial.ipynb"))
    assert len(kept) == 1 and str(kept[0]) in line
    nb = nbformat.read(kept[0], as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "CheckFailed"
    assert sorted(p.name for p in out.rglob("*")) == ["figures", "old.png"]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs at ``tmp_path / "disk"``, unmounted afterwards (mounting needs root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)


def test_a_full_disk_leaves_out_as_it_was_and_says_so_in_one_line(small_disk):
    out = small_disk / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "old.png").write_bytes(b"previous figure")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = pooling_run("--out", out, "-j", 1, "-p", "REFIT_GROUPS", 0)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stderr
    line = stderr.strip().splitlines()[-1]
    assert f"no space left on the device of {out}; free space there" in line, stderr
    assert f"{out} is unchanged" in line and "Errno" not in line
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not list(small_disk.glob(".out.staging-*"))  # the half-written run is gone


def test_interrupted_run_leaves_previous_output_untouched(tmp_path):
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "old.png").write_bytes(b"previous figure")
    (out / "01_no_pooling.ipynb").write_text("previous notebook")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = pooling_run("--out", out, start_new_session=True)
    # Kill it once the notebooks have written into the staging directory beside OUT, while
    # they are still running.
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".out.staging-*/**/*.*")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind


def test_run_past_scale_lists_the_extremes_refits_only_those_and_estimates_every_group(
    tmp_path,
):
    # Past pooling.scale.MANY groups, one of them without trials: the notebooks fit the listed
    # groups' rates (the 6 lowest and 6 highest observed rates), the others in closed form, and
    # say so; only the listed groups are refitted; the table of estimates has every group.
    from pooling import scale

    n_groups = scale.MANY + 50
    rng = np.random.default_rng(5)
    trials = rng.integers(1, 300, n_groups)
    trials[7] = 0
    successes = rng.binomial(trials, rng.beta(8, 2, n_groups))
    names = [f"u{i:03d}" for i in range(n_groups)]
    csv = tmp_path / "units.csv"
    csv.write_text(
        "unit,n,k\n"
        + "".join(f"{n},{t},{s}\n" for n, t, s in zip(names, trials, successes, strict=True))
    )
    out = tmp_path / "out"
    settings = {"DRAWS": 1000, "TUNE": 1000, "REFIT_DRAWS": 300, "REFIT_TUNE": 300}
    parameters = [arg for name, value in settings.items() for arg in ("-p", name, str(value))]
    proc = pooling_run("--data", csv, "--group", "unit", "--trials", "n", "--successes", "k",
                       "--out", out, *parameters)  # fmt: skip
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr
    # Every notebook clean (no warnings in the outputs), every figure written.
    for notebook in sorted(out.glob("*.ipynb")):
        assert lint.execution_problems(notebook) == []
        assert f"{n_groups} groups: more than {scale.MANY}" in notebook.read_text()
    # 20 and 03's check of rates against trials, which only a run on your own data shows.
    assert len(list((out / "figures").glob("*.png"))) == 21
    assert (out / "figures" / "03_hierarchical_trials.png").exists()
    assert "hierarchical: " in (out / "03_hierarchical.ipynb").read_text()
    # The check of rates against trials, in fifths of the 149 groups with trials.
    model_checks = pd.read_csv(out / "results" / "model_checks.csv")
    assert model_checks.groupby("model")["groups"].sum().to_dict() == {
        "full pooling": n_groups - 1,
        "hierarchical": n_groups - 1,
    }
    assert (model_checks.groupby("model").size() == 5).all()
    rate = np.where(trials > 0, successes / np.maximum(trials, 1), np.inf)
    order = np.argsort(rate, kind="stable")
    listed = sorted(names[i] for i in np.r_[order[:6], order[n_groups - 1 - 6 : n_groups - 1]])
    fit = xr.open_dataset(out / "results" / "03_hierarchical.nc", group="posterior")
    assert sorted(fit["unit"].to_numpy().tolist()) == listed
    for stem in ("01_no_pooling", "02_full_pooling", "03_hierarchical"):
        refits = xr.open_dataset(out / "results" / f"{stem}_refits.nc")
        assert sorted(refits["unit"].to_numpy().tolist()) == listed
        assert {"elpd", "se", "k"} <= set(refits.data_vars)
    # Per-group figures stay at 12 groups: the trace plot has 12 rows of theta (1.8 inches
    # each at 100 dpi), and an inch at most for its title.
    with Image.open(out / "figures" / "01_no_pooling_trace.png") as image:
        assert image.height <= (12 * 1.8 + 1) * 100
    table = pd.read_csv(out / "results" / "estimates.csv")
    assert len(table) == 3 * n_groups and table["mean"].notna().all()
    assert table.loc[table["model"] == "hierarchical", "rank_median"].notna().all()
    text = (out / "04_model_comparison.ipynb").read_text()
    assert "P(u007 is the most reliable)" not in text  # not listed: no trials
    # The refits cover 12 groups of 150: no total over every group, and the page says so.
    totals = [
        cell.outputs[0]["data"]["text/plain"]
        for cell in nbformat.read(out / "04_model_comparison.ipynb", as_version=4).cells
        if cell.source.startswith("# A total needs every group")
    ]
    assert totals and "NaN" in totals[0] and "hierarchical" in totals[0]

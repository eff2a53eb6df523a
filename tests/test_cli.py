"""`python -m pooling run`: bad input stops before anything runs, and an interrupted run
leaves the output directory exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from pooling.paths import ROOT


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


def test_unknown_parameter_exits_with_one_line(tmp_path):
    proc = pooling_run("--out", tmp_path / "out", "-p", "NO_SUCH_PARAMETER", "1")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert stderr.count("\n") == 1 and "unknown notebook parameter NO_SUCH_PARAMETER" in stderr
    assert "MARGINAL_TARGET_ACCEPT" in stderr  # the line lists the parameters there are
    assert not (tmp_path / "out").exists()


def test_interrupted_run_leaves_previous_output_untouched(tmp_path):
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "old.png").write_bytes(b"previous figure")
    (out / "01_no_pooling.ipynb").write_text("previous notebook")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = pooling_run("--out", out, start_new_session=True)
    for line in proc.stdout:  # wait until the run is well under way, then kill it
        if "02_full_pooling: running" in line:
            break
    time.sleep(2)
    os.kill(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind

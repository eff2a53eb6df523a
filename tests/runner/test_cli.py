"""The one command line: its subcommands and one-line reports."""

from __future__ import annotations

import os
import subprocess
import sys

from pooling.paths import NOTEBOOKS_DIR
from pooling.runner.staleness import ON_DEMAND


def test_report_stale_says_so_in_one_line_and_runs_nothing(tmp_path, capsys):
    from pooling.runner.cli import main

    (stem,) = ON_DEMAND
    source = tmp_path / f"{stem}.py"
    source.write_text((NOTEBOOKS_DIR / f"{stem}.py").read_text())
    assert main(["stale", str(source)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{stem}.ipynb is out of date") and "make calibration" in line
    assert not source.with_suffix(".ipynb").exists()


def test_a_full_disk_is_named_as_such_in_one_line(tmp_path):
    from pooling.runner.cli import failure_line

    class NotebookFailed(Exception):  # papermill's error carries the kernel's as text
        ename, evalue, notebook, exec_count = (
            "OSError",
            "[Errno 28] Driver write request failed",
            "01",
            7,
        )

    direct = OSError(28, "No space left on device")
    for err in (NotebookFailed("cell failed"), direct):
        line = failure_line(err, tmp_path / "out")
        assert "\n" not in line and "Errno" not in line and "Driver" not in line
        assert f"no space left on the device of {tmp_path / 'out'}" in line
        assert f"{tmp_path / 'out'} is unchanged" in line and "free space there" in line
    assert "no space left" not in failure_line(OSError(13, "Permission denied"), tmp_path)


def _python(args, tmp_path, name, env=None):
    # A cache directory of its own: the compiled models stay where they are, so that the fit
    # need not compile afresh.
    from pooling.runner.compile_cache import CACHE_ENV, cache_dir

    environment = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    environment.update({**(env or {}), "XDG_CACHE_HOME": str(tmp_path / name),
                        CACHE_ENV: str(cache_dir())})  # fmt: skip
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=environment, cwd=tmp_path)  # fmt: skip


def test_a_failed_check_of_an_estimates_run_is_one_line(tmp_path):
    # A fit too short for its convergence check: the run fails, with one line.
    run = _python(["-m", "pooling", "estimates", "--out", "x", "-p", "DRAWS", "100", "-p", "TUNE",
                   "200"], tmp_path, "run")  # fmt: skip
    assert run.returncode == 1 and run.stderr.splitlines() == [
        run.stderr.strip()] and "Convergence check failed" in run.stderr  # fmt: skip


def test_estimates_restart_with_the_portable_settings_when_they_lack_them(monkeypatch):
    from pooling.pipeline.cluster import PORTABLE
    from pooling.runner import cli

    started = []
    monkeypatch.setattr(os, "execve", lambda *args: started.append(args))
    monkeypatch.setattr(sys, "argv", ["pooling", "estimates", "--out", "x"])
    for name in PORTABLE:
        monkeypatch.delenv(name, raising=False)
    cli._portable_or_again()
    ((program, command, env),) = started
    assert command == [sys.executable, "-m", "pooling", "estimates", "--out", "x"]
    assert all(env[name] == value for name, value in PORTABLE.items())
    for name, value in PORTABLE.items():
        monkeypatch.setenv(name, value)
    cli._portable_or_again()  # already portable: carries on here
    assert len(started) == 1

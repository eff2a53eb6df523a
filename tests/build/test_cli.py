"""The one command line: its subcommands and one-line reports."""

from __future__ import annotations

from pooling.build.staleness import ON_DEMAND
from pooling.paths import NOTEBOOKS_DIR


def test_report_stale_says_so_in_one_line_and_runs_nothing(tmp_path, capsys):
    from pooling.build.cli import main

    (stem,) = ON_DEMAND
    source = tmp_path / f"{stem}.py"
    source.write_text((NOTEBOOKS_DIR / f"{stem}.py").read_text())
    assert main(["stale", str(source)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{stem}.ipynb is out of date") and "make calibration" in line
    assert not source.with_suffix(".ipynb").exists()

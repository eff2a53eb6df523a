"""A long cell's progress: written for the runner when it asks, nothing otherwise."""

from __future__ import annotations

from pooling import progress


def test_report_writes_the_line_the_runner_reads(tmp_path, monkeypatch):
    path = tmp_path / "progress.txt"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    progress.report(3, 10, "hierarchical: replicates")
    assert path.read_text() == "hierarchical: replicates 3/10"
    progress.report(4, 10, "hierarchical: replicates")
    assert path.read_text() == "hierarchical: replicates 4/10"
    assert [p.name for p in tmp_path.iterdir()] == ["progress.txt"]  # no temporary file left


def test_report_does_nothing_without_a_runner(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    progress.report(1, 2, "replicates")
    assert not list(tmp_path.iterdir()) and capsys.readouterr() == ("", "")

"""Paths: derived from the package, redirected away from the repository under test."""

from __future__ import annotations

from pooling import paths


def test_outputs_are_redirected_under_test():
    assert paths.ROOT not in paths.figures_dir().parents
    assert paths.ROOT not in paths.results_dir().parents


def test_paths_do_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert paths.DEFAULT_DATA.is_file()
    assert (paths.ROOT / "pyproject.toml").is_file()

"""Atomic writes: a failed write keeps the old file; written files are readable by others."""

from __future__ import annotations

import pytest

from pooling import files


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.nc"
    target.write_text("previous")
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("interrupted")
    assert target.read_text() == "previous"
    assert list(tmp_path.iterdir()) == [target]


def test_written_files_are_readable_by_others(tmp_path):
    target = tmp_path / "x.txt"
    with files.atomic_path(target) as tmp:
        tmp.write_text("x")
    assert target.stat().st_mode & 0o044 == 0o044

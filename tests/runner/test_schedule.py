"""The scheduler: warm and plain runs give the same bytes; a failure stops the run."""

from __future__ import annotations

import pytest

from pooling.paths import NOTEBOOKS_DIR
from pooling.runner import compile_cache
from pooling.runner.schedule import run_all

SOURCE = NOTEBOOKS_DIR / "02_full_pooling.py"


SMALL = {"DRAWS": 1000, "TUNE": 500, "REFIT_DRAWS": 200, "REFIT_TUNE": 200}


def outputs(directory):
    return {
        "output": directory / f"{SOURCE.stem}.ipynb",
        "figures": directory / "figures",
        "results": directory / "results",
    }


def test_the_plain_way_says_so_once_and_gives_the_same_bytes(tmp_path, monkeypatch, capsys):
    """After a library upgrade that breaks the machinery, make still runs, to the same bytes."""

    def upgraded():
        raise AttributeError("numba.core.ccallback.CFunc.enable_caching is gone")

    with monkeypatch.context() as patch:
        patch.setattr(compile_cache, "check", upgraded)
        patch.delenv("IPYTHONDIR", raising=False)  # no start-up file: a kernel as a user's
        run_all([SOURCE], lambda source: outputs(tmp_path / "plain"), SMALL)
    notes = [line for line in capsys.readouterr().out.splitlines() if "plain way" in line]
    assert len(notes) == 1 and "enable_caching is gone" in notes[0]
    run_all([SOURCE], lambda source: outputs(tmp_path / "warm"), SMALL)  # forked, cached
    assert "plain way" not in capsys.readouterr().out
    plain, warm = tmp_path / "plain", tmp_path / "warm"
    assert (warm / f"{SOURCE.stem}.ipynb").read_bytes() == (
        plain / f"{SOURCE.stem}.ipynb"
    ).read_bytes()
    figures = sorted(p.name for p in (plain / "figures").iterdir())
    assert figures == sorted(p.name for p in (warm / "figures").iterdir())
    for name in figures:
        assert (warm / "figures" / name).read_bytes() == (plain / "figures" / name).read_bytes()


def test_a_failing_notebook_stops_the_run(tmp_path):
    with pytest.raises(Exception, match="not found: run `make` first"):  # 04 without results
        run_all(
            [NOTEBOOKS_DIR / "04_model_comparison.py"],
            lambda source: {"output": tmp_path / "04.ipynb", "figures": tmp_path / "f",
                            "results": tmp_path / "empty"},
        )  # fmt: skip
    assert not (tmp_path / "04.ipynb").exists()

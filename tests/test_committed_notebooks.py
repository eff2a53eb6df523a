"""The committed notebooks as readers see them: in sync with their sources, executed top to
bottom without errors or debris, and every figure they show present in figures/."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import pytest

from pooling.paths import NOTEBOOKS_DIR, ROOT

SOURCES = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))


def cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells if c.source.strip()]


def outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    return code, [o for c in code for o in c.get("outputs", [])]


@pytest.fixture(params=SOURCES, ids=lambda p: p.stem)
def source(request):
    return request.param


def test_there_are_three_or_more_notebooks():
    assert len(SOURCES) >= 3


def test_notebook_matches_its_source(source):
    executed = source.with_suffix(".ipynb")
    assert executed.is_file(), f"{executed.name} missing: run make"
    assert cells(jupytext.read(executed)) == cells(jupytext.read(source)), (
        f"{executed.name} is out of sync with {source.name}: run make"
    )


def test_executed_top_to_bottom_without_errors_or_debris(source):
    code, outs = outputs(source.with_suffix(".ipynb"))
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1))
    assert not [o for o in outs if o["output_type"] == "error"]
    assert not [o for o in outs if o.get("name") == "stderr"], "stderr (warnings, progress bars)"
    text = json.dumps([o.get("data", {}).get("text/plain", "") for o in outs])
    assert " at 0x" not in text, "memory addresses in outputs"


def test_every_figure_shown_is_in_figures(source):
    _, outs = outputs(source.with_suffix(".ipynb"))
    shown_png = sum("image/png" in o.get("data", {}) for o in outs)
    shown_svg = sum("image/svg+xml" in o.get("data", {}) for o in outs)
    saved = list((ROOT / "figures").glob(f"{source.stem}_*"))
    assert shown_png >= 4  # trace, forest, posterior predictive, exact overlay at least
    assert shown_png == sum(p.suffix == ".png" for p in saved)
    assert shown_svg == sum(p.suffix == ".svg" for p in saved)

"""The committed notebooks as readers see them: in sync with their sources, executed top to
bottom without errors or debris, ending with a watermark, and every figure they show present
in figures/."""

from __future__ import annotations

import base64
import json

import nbformat
import pytest

from pooling.paths import NOTEBOOKS_DIR, ROOT
from pooling.runner import lint

SOURCES = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))


@pytest.fixture(params=SOURCES, ids=lambda p: p.stem)
def source(request):
    return request.param


def test_there_are_three_or_more_notebooks():
    assert len(SOURCES) >= 3


def test_notebook_matches_its_source(source):
    assert lint.pair_problems(source) == []


def test_executed_top_to_bottom_without_debris(source):
    assert lint.execution_problems(source.with_suffix(".ipynb")) == []


def test_every_figure_shown_is_in_figures(source):
    nb = json.loads(source.with_suffix(".ipynb").read_text(encoding="utf-8"))
    outs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    shown_png = sum("image/png" in o.get("data", {}) for o in outs)
    shown_svg = sum("image/svg+xml" in o.get("data", {}) for o in outs)
    saved = list((ROOT / "figures").glob(f"{source.stem}_*"))
    assert shown_png >= 4  # trace, forest, posterior predictive, exact overlay at least
    assert shown_png == sum(p.suffix == ".png" for p in saved)
    assert shown_svg == sum(p.suffix == ".svg" for p in saved)
    # The notebook shows the very files (pooling.figures.show_figure), not another drawing.
    shown = sorted(base64.b64decode(o["data"]["image/png"]) for o in outs
                   if "image/png" in o.get("data", {}))  # fmt: skip
    assert shown == sorted(p.read_bytes() for p in saved if p.suffix == ".png")


def test_lint_catches_a_notebook_run_out_of_order(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", execution_count=2),
        nbformat.v4.new_code_cell("print(x)", execution_count=1),
    ]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    problems = lint.execution_problems(path)
    assert any("top to bottom" in p for p in problems)
    assert any("watermark" in p for p in problems)


def test_valid_for_github_small_and_without_widget_state(source):
    path = source.with_suffix(".ipynb")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)  # raises on anything outside the nbformat schema
    assert "widgets" not in nb.metadata
    assert path.stat().st_size < 5 * 2**20, f"{path.name} is over 5 MB"

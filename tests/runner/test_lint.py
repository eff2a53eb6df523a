"""The notebook lint finds what it is for: unpaired sources and disordered or noisy runs."""

from __future__ import annotations

import json

import jupytext
import nbformat

from pooling.runner import lint


def executed(tmp_path, cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "01_x.ipynb"
    path.write_text(json.dumps(nb))
    return path


def code(source, count, outputs=()):
    cell = nbformat.v4.new_code_cell(source, execution_count=count)
    cell.outputs = list(outputs)
    return cell


def watermark(count):
    return code("%watermark", count, [nbformat.v4.new_output("stream", text="Python 3.11")])


def test_a_clean_run_has_no_problems(tmp_path):
    assert lint.execution_problems(executed(tmp_path, [code("x = 1", 1), watermark(2)])) == []


def test_out_of_order_errors_stderr_and_a_missing_watermark_are_each_reported(tmp_path):
    stderr = nbformat.v4.new_output("stream", name="stderr", text="Sampling: 100%")
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
    path = executed(tmp_path, [code("x = 1", 2, [stderr]), code("y = 2", 1, [error])])
    problems = " ".join(lint.execution_problems(path))
    for words in ("top to bottom", "error outputs", "stderr", "watermark"):
        assert words in problems


def test_an_nbval_marker_in_the_code_is_reported(tmp_path):
    marked = code("# NBVAL_CHECK_OUTPUT\nx = 1", 1)
    problems = lint.execution_problems(executed(tmp_path, [marked, watermark(2)]))
    assert problems and "cell tags" in problems[0]


def test_a_source_edited_after_the_run_is_out_of_sync(tmp_path):
    path = executed(tmp_path, [code("x = 1", 1), watermark(2)])
    source = path.with_suffix(".py")
    jupytext.write(jupytext.read(path), source, fmt="py:percent")
    assert lint.pair_problems(source) == []
    source.write_text(source.read_text().replace("x = 1", "x = 2"))
    assert "out of sync" in lint.pair_problems(source)[0]
    assert "missing" in lint.pair_problems(tmp_path / "02_y.py")[0]

"""The progress board: cells, sections and a long cell's own progress, shown by the runner
and never written into the executed notebook."""

from __future__ import annotations

import io
import json
import time

import nbformat
import pytest

from pooling.runner import board as boards
from pooling.runner.execute import execute

SOURCE = """# %% [markdown]
# # A long notebook

# %%
import time
from pooling.progress import report

# %% [markdown]
# ## The long loop

# %%
for i in range(8):
    time.sleep(0.25)
    report(i + 1, 8, "model: replicates")
print("loop over")
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run with a plain (log) board, in a fresh kernel."""
    tmp = tmp_path_factory.mktemp("progress")
    source = tmp / "long.py"
    source.write_text(SOURCE, encoding="utf-8")
    stream = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boards, "LOG_EVERY", 0.0)
        with boards.Board(stream, live=False) as board:
            execute(source, tmp / "long.ipynb", {}, tmp / "figures", tmp / "results",
                    board=board)  # fmt: skip
            board.finish("long", "long: done")
    return stream.getvalue().splitlines(), json.loads((tmp / "long.ipynb").read_text())


def test_a_log_gets_a_plain_line_per_section_and_the_loop_progress(executed):
    lines, _ = executed
    assert lines[0] == "long: running" and lines[-1] == "long: done"
    assert any(line.startswith("long: 0/2 cells, A long notebook") for line in lines)
    assert any(line.startswith("long: 1/2 cells, The long loop") for line in lines)
    loop = [line for line in lines if "model: replicates" in line]
    counts = [int(line.split("replicates ")[1].split("/")[0]) for line in loop]
    assert len(set(counts)) >= 2 and counts == sorted(counts)  # the loop, as it went
    assert all("\r" not in line for line in lines)


def test_nothing_of_it_reaches_the_notebook(executed):
    _, nb = executed
    text = json.dumps([cell.get("outputs", []) for cell in nb["cells"]])
    assert "loop over" in text and "replicates" not in text


def test_a_terminal_gets_one_redrawn_line():
    stream = io.StringIO()
    board = boards.Board(stream, live=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    hooks, env = board.start("nb", nb, {})
    assert set(env) == {boards.PROGRESS_ENV}
    hooks["on_cell_start"](cell=nbformat.v4.new_markdown_cell("## Fitting"), cell_index=0)
    time.sleep(0.7)  # the board redraws twice a second
    board.finish("nb", "nb: done in 0.7 s")
    board.close()
    out = stream.getvalue()
    assert "\r\x1b[Knb: 0/1 cells, Fitting, " in out  # the live line, redrawn in place
    assert "\r\x1b[Knb: done in 0.7 s\n" in out and out.endswith("\r\x1b[K")

"""Checks on the committed notebooks, shared by pre-commit and the test suite.

Command line (pre-commit passes the changed files; with none, every notebook is checked)::

    python -m pooling lint [notebooks/01_no_pooling.py ...]
"""

from __future__ import annotations

import json
from pathlib import Path

from pooling.paths import NOTEBOOKS_DIR

__all__ = ["TEST_MARKER", "WATERMARK", "check_notebooks", "execution_problems", "pair_problems"]

#: What the last code cell of every notebook must run.
WATERMARK = "%watermark"
#: How nbval's markers start; in a reader's code they belong in cell tags instead.
TEST_MARKER = "# NBVAL_"


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _text(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def pair_problems(source: Path) -> list[str]:
    """Problems with the pairing of a ``.py`` source and its executed ``.ipynb``.

    Parameters
    ----------
    source : pathlib.Path
        ``notebooks/NN_topic.py``.

    Returns
    -------
    list of str
        Empty when the ``.ipynb`` exists and holds the same cells as the source.
    """
    import jupytext

    executed = source.with_suffix(".ipynb")
    if not executed.is_file():
        return [f"{executed.name}: missing; run make"]

    def cells(nb):
        return [(c.cell_type, c.source.strip()) for c in nb.cells if c.source.strip()]

    if cells(jupytext.read(executed)) != cells(jupytext.read(source)):
        return [f"{executed.name}: out of sync with {source.name}; run make"]
    return []


def execution_problems(executed: Path) -> list[str]:
    """Problems with how a committed notebook was executed.

    Parameters
    ----------
    executed : pathlib.Path
        ``notebooks/NN_topic.ipynb``.

    Returns
    -------
    list of str
        Empty when every code cell ran once, top to bottom from 1, with no error or stderr
        output and no memory address in a plain-text output, no test marker in the code
        (:data:`TEST_MARKER`: nbval reads cell tags, which the rendered notebook does not
        show), and the last code cell is a watermark that produced output.
    """
    nb = json.loads(executed.read_text(encoding="utf-8"))
    code = _code_cells(nb)
    problems = []
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(f"{executed.name}: not executed top to bottom once (counts {counts})")
    outputs = [o for c in code for o in c.get("outputs", [])]
    if any(o["output_type"] == "error" for o in outputs):
        problems.append(f"{executed.name}: has error outputs")
    if any(o.get("name") == "stderr" for o in outputs):
        problems.append(f"{executed.name}: has stderr output (warnings or progress bars)")
    plain = json.dumps([o.get("data", {}).get("text/plain", "") for o in outputs])
    if " at 0x" in plain:
        problems.append(f"{executed.name}: memory addresses in outputs")
    if any(TEST_MARKER in _text(c) for c in code):
        problems.append(f"{executed.name}: nbval markers in the code; use cell tags instead")
    if not code or WATERMARK not in _text(code[-1]) or not code[-1].get("outputs"):
        problems.append(f"{executed.name}: does not end with an executed {WATERMARK} cell")
    return problems


def check_notebooks(args: list[str]) -> int:
    """Check the notebooks named by ``args`` (any of their files), or all of them.

    Returns
    -------
    int
        0 when every check passes, else 1 (each problem printed on a line).
    """
    stems = {Path(a).stem for a in args if Path(a).parent.name == NOTEBOOKS_DIR.name}
    sources = [
        p for p in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py")) if not args or p.stem in stems
    ]
    problems = []
    for source in sources:
        problems += pair_problems(source)
        if source.with_suffix(".ipynb").is_file():
            problems += execution_problems(source.with_suffix(".ipynb"))
    for problem in problems:
        print(problem)
    return 1 if problems else 0

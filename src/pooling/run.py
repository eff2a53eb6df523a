"""Execute the collection's notebooks from their text (jupytext percent) sources.

``notebooks/NN_topic.py`` is the source a reviewer reads; executing it writes
``notebooks/NN_topic.ipynb`` with every output, the form GitHub renders. Execution goes
through papermill, so any parameter of the ``parameters`` cell can be overridden. The
executed notebook is stripped of run-specific metadata (timestamps, durations) and written
atomically.

Command line::

    python -m pooling.run notebooks/01_no_pooling.py [-p DRAWS 200] [--output path.ipynb]
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

from pooling.figures import atomic_path
from pooling.paths import FIGURES_ENV, NOTEBOOKS_DIR, RESULTS_ENV


def normalise(nb) -> None:
    """Remove what changes from run to run without changing the content.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Executed notebook, modified in place: papermill's and nbclient's timing metadata
        are dropped and cell ids are numbered, so re-running gives a small diff.
    """
    nb.metadata.pop("papermill", None)
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        cell["id"] = f"cell-{i:02d}"


def execute(
    source: str | Path,
    output: str | Path | None = None,
    parameters: dict | None = None,
    figures: str | Path | None = None,
    results: str | Path | None = None,
):
    """Execute a notebook source and write the executed ``.ipynb``.

    Parameters
    ----------
    source : str or pathlib.Path
        A jupytext percent ``.py`` file (or an ``.ipynb``).
    output : str or pathlib.Path, optional
        Executed notebook; defaults to ``source`` with the suffix ``.ipynb``.
    parameters : dict, optional
        Values that override the notebook's ``parameters`` cell.
    figures, results : str or pathlib.Path, optional
        Directories for figures and results; default to the repository's (or to the
        ``POOLING_FIGURES_DIR`` / ``POOLING_RESULTS_DIR`` environment variables).

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.

    Raises
    ------
    papermill.PapermillExecutionError
        When a cell fails; nothing is written then.
    """
    import jupytext
    import papermill

    source = Path(source)
    output = Path(output) if output else source.with_suffix(".ipynb")
    nb = jupytext.read(source)
    # A fixed hash seed makes set iteration, and so the node order of the model graphs,
    # the same on every run.
    env = {FIGURES_ENV: figures, RESULTS_ENV: results, "PYTHONHASHSEED": "0"}
    saved = {key: os.environ.get(key) for key in env}
    try:
        for key, value in env.items():
            if value is not None:  # the kernel inherits this process's environment
                os.environ[key] = value if key == "PYTHONHASHSEED" else str(Path(value).resolve())
        nb = papermill.execute_notebook(
            nb,
            None,
            parameters=parameters or {},
            cwd=str(NOTEBOOKS_DIR),
            progress_bar=False,
            kernel_name="python3",
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    normalise(nb)
    with atomic_path(output) as tmp:
        jupytext.write(nb, tmp, fmt="ipynb")
    return nb


def _value(text: str):
    """A parameter value: a Python literal when it parses as one, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m pooling.run", description="Execute notebook sources to .ipynb."
    )
    parser.add_argument("sources", nargs="+", type=Path, help="notebook sources (.py)")
    parser.add_argument("--output", type=Path, help="executed notebook (one source only)")
    parser.add_argument("--figures", type=Path, help="directory for figures")
    parser.add_argument("--results", type=Path, help="directory for results")
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="override a parameter of the notebook (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.output and len(args.sources) > 1:
        parser.error("--output takes a single source")
    parameters = {name: _value(value) for name, value in args.parameter}
    for source in args.sources:
        start = time.perf_counter()
        print(f"{source.stem}: running", flush=True)
        execute(source, args.output, parameters, args.figures, args.results)
        print(f"{source.stem}: done in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

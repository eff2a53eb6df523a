"""Execute one notebook from its text (jupytext percent) source.

``notebooks/NN_topic.py`` is the source a reviewer reads; executing it writes
``notebooks/NN_topic.ipynb`` with every output, the form GitHub renders. Execution goes
through papermill, so any parameter of the ``parameters`` cell can be overridden. The
executed notebook is stripped of run-specific metadata (timestamps, durations), records the
digest of its inputs (:func:`pooling.runner.staleness.input_digest`), as its results do when it
runs in place, and is written atomically.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pooling import portable
from pooling.files import atomic_path
from pooling.paths import FIGURES_ENV, NOTEBOOKS_DIR, RESULTS_ENV
from pooling.runner.staleness import input_digest, results_record

__all__ = ["execute", "normalise", "partial_path"]


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


def partial_path(output: Path) -> Path:
    """Where a notebook that failed part-way is kept: ``NN_topic.partial.ipynb`` beside it."""
    return output.with_name(f"{output.stem}.partial.ipynb")


def execute(
    source: str | Path,
    output: str | Path | None = None,
    parameters: dict | None = None,
    figures: str | Path | None = None,
    results: str | Path | None = None,
    server=None,
    board=None,
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
    server : pooling.runner.kernels.KernelServer, optional
        Fork the kernel from this warm server instead of starting a fresh Python.
    board : pooling.runner.board.Board, optional
        Show the notebook's progress there as it runs.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.

    Raises
    ------
    papermill.PapermillExecutionError
        When a cell fails. ``output`` is not written then; the notebook as far as it ran,
        with the error, is at ``err.partial`` (:func:`partial_path`).
    """
    import jupytext
    import papermill

    source = Path(source).resolve()
    output = Path(output).resolve() if output else source.with_suffix(".ipynb")
    nb = jupytext.read(source)
    # A fixed hash seed makes set iteration, and so the node order of the model graphs,
    # the same on every run.
    env = {"PYTHONHASHSEED": "0", **portable.ENV}  # the same draws on any x86-64 CPU
    for key, value in ((FIGURES_ENV, figures), (RESULTS_ENV, results)):
        if value is not None:
            env[key] = str(Path(value).resolve())
    # papermill writes the notebook there as it stands when a cell fails (and at the end): a
    # failed run leaves it for the user to read; a successful one removes it.
    partial = partial_path(output)
    options = {"cwd": str(NOTEBOOKS_DIR), "progress_bar": False, "kernel_name": "python3",
               "request_save_on_cell_execute": False}  # fmt: skip
    if board is not None:
        hooks, progress_env = board.start(source.stem, nb, parameters or {})
        options.update(hooks)  # nbclient's cell hooks, passed on by papermill
        env.update(progress_env)
    try:
        if server is not None:
            nb = papermill.execute_notebook(
                nb, str(partial), parameters=parameters or {}, **options,
                kernel_manager_class=server.kernel_manager(env),
            )  # fmt: skip
        else:
            # A fresh kernel inherits this process's environment; its log would warn, on every
            # start, that the connection from this machine to itself is not encrypted.
            with _environment(env):
                nb = papermill.execute_notebook(
                    nb, str(partial), parameters=parameters or {}, **options,
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                )  # fmt: skip
    except Exception as err:
        err.partial = partial if partial.exists() else None
        raise
    partial.unlink(missing_ok=True)
    normalise(nb)
    digest = input_digest(source, parameters)
    nb.metadata["pooling"] = {"inputs": digest}
    with atomic_path(output) as tmp:
        jupytext.write(nb, tmp, fmt="ipynb")
    if output == source.with_suffix(".ipynb"):  # in place: the results are the collection's
        record = results_record(source.stem, Path(results).resolve() if results else None)
        if record.parent.is_dir():
            with atomic_path(record) as tmp:
                tmp.write_text(digest + "\n", encoding="utf-8")
    return nb


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    """Set environment variables for the duration of the block."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

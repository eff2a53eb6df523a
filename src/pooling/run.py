"""Execute the collection's notebooks from their text (jupytext percent) sources.

``notebooks/NN_topic.py`` is the source a reviewer reads; executing it writes
``notebooks/NN_topic.ipynb`` with every output, the form GitHub renders. Execution goes
through papermill, so any parameter of the ``parameters`` cell can be overridden. The
executed notebook is stripped of run-specific metadata (timestamps, durations) and written
atomically.

Command lines::

    python -m pooling.run notebooks/01_no_pooling.py [-p DRAWS 200] [--output path.ipynb]
    python -m pooling run --data my.csv --out my-analysis   # every notebook on other data

The second form (:func:`run_collection`) validates the CSV before anything is compiled and
builds the whole output in a staging directory beside ``--out``, moving it into place only
when every notebook has succeeded: a failed or interrupted run leaves ``--out`` as it was.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pooling import portable
from pooling.figures import atomic_path
from pooling.paths import (
    DEFAULT_DATA,
    FIGURES_ENV,
    NOTEBOOKS_DIR,
    PACKAGE_DIR,
    RESULTS_ENV,
    ROOT,
    results_dir,
)


class ParameterError(ValueError):
    """A notebook parameter that no notebook declares."""


#: Past this many groups, a run at the notebooks' default settings takes hours (see README).
MANY_GROUPS = 2000
#: Settings that keep a run on that many groups short; see :func:`advice`.
QUICK_SETTINGS = {"DRAWS": 2000, "TUNE": 1000, "REFIT_GROUPS": 0}


def advice(n_groups: int, parameters: dict) -> str | None:
    """A note on run time for data with very many groups, when the settings are the defaults.

    The no-pooling and as-written hierarchical models sample one rate per group, and every
    leave-one-out refit samples them all again, so time grows with groups times draws.

    Parameters
    ----------
    n_groups : int
        Groups in the data.
    parameters : dict
        The notebook parameters given on the command line.

    Returns
    -------
    str or None
        One line naming quicker settings, or ``None`` when there are at most
        :data:`MANY_GROUPS` groups or any of those settings was given.
    """
    if n_groups <= MANY_GROUPS or set(QUICK_SETTINGS) & set(parameters):
        return None
    flags = " ".join(f"-p {name} {value}" for name, value in QUICK_SETTINGS.items())
    return (
        f"note: {n_groups:,} groups: at the notebooks' default draws and refits this run takes "
        f"hours; {flags} is much quicker (README, Many groups)"
    )


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
    server : pooling.kernels.KernelServer, optional
        Fork the kernel from this warm server instead of starting a fresh Python.

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
    try:
        if server is not None:
            nb = papermill.execute_notebook(
                nb, str(partial), parameters=parameters or {}, **options,
                kernel_manager_class=server.kernel_manager(env),
            )  # fmt: skip
        else:
            with _environment(env):  # a fresh kernel inherits this process's environment
                nb = papermill.execute_notebook(
                    nb, str(partial), parameters=parameters or {}, **options
                )
    except Exception as err:
        err.partial = partial if partial.exists() else None
        raise
    partial.unlink(missing_ok=True)
    normalise(nb)
    nb.metadata["pooling"] = {"inputs": input_digest(source)}
    with atomic_path(output) as tmp:
        jupytext.write(nb, tmp, fmt="ipynb")
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


#: Notebooks run only on demand (``make calibration``), never by ``make`` or an own-data run.
ON_DEMAND = ("05_calibration",)


def sources() -> list[Path]:
    """The collection's notebook sources, in reading (and execution) order.

    The notebooks of :data:`ON_DEMAND` are left out: they take minutes and do not feed the
    others.
    """
    every = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))
    return [source for source in every if source.stem not in ON_DEMAND]


def declared_parameters(source: Path) -> set[str]:
    """Names assigned in a notebook source's ``parameters`` cell."""
    import jupytext
    import papermill

    return set(papermill.inspect_notebook(jupytext.read(source)))


#: Notebooks that read other notebooks' results; the rest depend on nothing but the data.
NEEDS = {"04_model_comparison": ("01_no_pooling", "02_full_pooling", "03_hierarchical")}


def input_digest(source: Path) -> str:
    """SHA-256 of what an executed notebook depends on: its source, the shipped data, the
    package's code and the locked environment.

    Recorded in the executed notebook's metadata, it tells whether an on-demand notebook is
    out of date by content, where modification times say nothing (a fresh clone).
    """
    digest = hashlib.sha256()
    lock = ROOT / "requirements.lock"
    for path in [source, DEFAULT_DATA, lock, *sorted(PACKAGE_DIR.glob("*.py"))]:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def recorded_digest(notebook: Path) -> str | None:
    """The :func:`input_digest` an executed notebook was made from, if it records one."""
    import json

    try:
        metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return None
    return metadata.get("pooling", {}).get("inputs")


def changed(candidates: list[Path]) -> list[Path]:
    """The sources among ``candidates`` whose executed notebook or results are out of date.

    Pass every source: a notebook is only found out of date through one it reads if both
    are among ``candidates``.

    A notebook is out of date when its ``.ipynb`` or ``results/<stem>.nc`` is missing or
    older than its source, the shipped data, the package's code, the installed environment or the
    results it reads, or when a notebook it reads is itself out of date (the rules ``make``
    would apply; the Makefile leaves them to this function so that all stale notebooks run in
    one warm :class:`~pooling.kernels.KernelServer`). A notebook of :data:`ON_DEMAND` is out of
    date when the :func:`input_digest` its ``.ipynb`` records is not the current one.
    """
    stale_on_demand = [
        source for source in candidates if source.stem in ON_DEMAND
        and recorded_digest(source.with_suffix(".ipynb")) != input_digest(source)
    ]  # fmt: skip
    candidates = [source for source in candidates if source.stem not in ON_DEMAND]
    common = [DEFAULT_DATA, *PACKAGE_DIR.glob("*.py"), ROOT / ".venv" / ".installed"]
    newest_common = max((f.stat().st_mtime for f in common if f.exists()), default=0.0)
    stale: set[str] = set()
    for source in sorted(candidates, key=lambda path: path.name):  # readers after what they read
        outputs = [source.with_suffix(".ipynb"), results_dir() / f"{source.stem}.nc"]
        needs = NEEDS.get(source.stem, ())
        inputs = [source, *(results_dir() / f"{stem}.nc" for stem in needs)]
        newest = max([newest_common, *(f.stat().st_mtime for f in inputs if f.exists())])
        outdated = any(not f.exists() or f.stat().st_mtime < newest for f in outputs)
        if outdated or stale.intersection(needs):
            stale.add(source.stem)
    return [source for source in candidates if source.stem in stale] + stale_on_demand


def run_all(
    notebooks: list[Path],
    outputs: Callable[[Path], dict],
    parameters: dict | None = None,
    jobs: int = 1,
) -> None:
    """Execute notebooks, independent ones in parallel, each in a warm forked kernel.

    Parameters
    ----------
    notebooks : list of pathlib.Path
        Sources to execute. A notebook listed in :data:`NEEDS` starts once the notebooks it
        reads (those of them in this list) have finished.
    outputs : callable
        ``outputs(source)`` gives the keyword arguments ``output``, ``figures`` and
        ``results`` of :func:`execute` for that source.
    parameters : dict, optional
        Parameters; each notebook gets those its ``parameters`` cell declares.
    jobs : int, optional
        Notebooks executed at the same time.

    Raises
    ------
    Exception
        The first notebook's failure; the other kernels are stopped then.
    """
    from pooling.kernels import KernelServer

    # Longest first (source size stands in for run time), so that the slowest notebook is not
    # left to run alone at the end; absolute paths, as papermill changes the working directory.
    pending = sorted((Path(n).resolve() for n in notebooks), key=lambda p: -p.stat().st_size)
    jobs = max(jobs, 1)
    running: dict[str, threading.Thread] = {}
    finished: queue.Queue = queue.Queue()

    def work(source: Path) -> None:
        start = time.perf_counter()
        try:
            own = declared_parameters(source)  # papermill warns about the others
            mine = {name: value for name, value in (parameters or {}).items() if name in own}
            execute(source, parameters=mine, server=server, **outputs(source))
        except BaseException as err:  # reported to the main thread, which raises it
            err.notebook = source.stem  # which notebook failed, for the error message
            finished.put((source.stem, err))
        else:
            finished.put((source.stem, None))
            print(f"{source.stem}: done in {time.perf_counter() - start:.1f} s", flush=True)

    def ready(source: Path) -> bool:
        todo = {p.stem for p in pending} | set(running)
        return not todo.intersection(NEEDS.get(source.stem, ()))

    with KernelServer() as server:
        while pending or running:
            for source in [p for p in pending if ready(p)][: max(jobs - len(running), 0)]:
                pending.remove(source)
                print(f"{source.stem}: running", flush=True)
                running[source.stem] = threading.Thread(target=work, args=(source,), daemon=True)
                running[source.stem].start()
            stem, error = finished.get()
            running.pop(stem).join()
            if error is not None:
                raise error  # leaving the block stops the server and every other kernel


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Treat ``kill`` (SIGTERM) like Ctrl-C, so the clean-up below runs for both."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _publish(staging: Path, out: Path) -> None:
    """Move every entry of ``staging`` into ``out``, replacing what was there.

    Each entry is swapped by two renames on the same file system; signals are held off
    meanwhile, so an interrupt cannot leave a half-swapped entry.
    """
    out.mkdir(parents=True, exist_ok=True)
    old = staging / ".replaced"
    old.mkdir()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        for entry in sorted(staging.iterdir()):
            if entry == old:
                continue
            target = out / entry.name
            if target.exists():
                target.rename(old / entry.name)
            entry.rename(target)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def run_collection(
    data: Path,
    out: Path,
    labels: dict[str, str],
    parameters: dict | None = None,
    jobs: int = 1,
) -> list[Path]:
    """Execute every notebook on another groups CSV, writing everything into ``out``.

    Parameters
    ----------
    data : pathlib.Path
        The groups CSV.
    out : pathlib.Path
        Receives the executed notebooks, ``figures/`` and ``results/``.
    labels : dict
        Column names: keys ``group``, ``trials``, ``successes``.
    parameters : dict, optional
        Further notebook parameters (``DRAWS``, ``SEED``, ...).
    jobs : int, optional
        Notebooks executed at the same time.

    Returns
    -------
    list of pathlib.Path
        The executed notebooks in ``out``.

    Raises
    ------
    pooling.data.DataError
        When the CSV is invalid; nothing has been compiled or written then.
    ParameterError
        When ``parameters`` names a parameter that no notebook has.
    Exception
        A notebook's failure; ``out`` is untouched, and the failed notebook as far as it ran
        is kept beside it as ``<out>.<stem>.partial.ipynb`` (``err.partial``).
    """
    from pooling.data import load_groups

    data, out = Path(data).resolve(), Path(out).resolve()
    groups = load_groups(data, **labels)  # fail on bad input before any model is compiled
    known = set().union(*(declared_parameters(source) for source in sources()))
    unknown = sorted(set(parameters or {}) - known)
    if unknown:
        raise ParameterError(
            f"unknown notebook parameter {', '.join(unknown)}; the notebooks' parameters are "
            f"{', '.join(sorted(known))}"
        )
    note = advice(len(groups), parameters or {})
    if note:
        print(note, flush=True)
    params = {
        "DATA": str(data),
        "GROUP": labels["group"],
        "TRIALS": labels["trials"],
        "SUCCESSES": labels["successes"],
        **(parameters or {}),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        with _sigterm_as_interrupt():
            run_all(
                sources(),
                lambda source: {
                    "output": staging / f"{source.stem}.ipynb",
                    "figures": staging / "figures",
                    "results": staging / "results",
                },
                params,
                jobs,
            )
            _publish(staging, out)
    except Exception as err:
        # Keep the failed notebook, as far as it ran, beside OUT (never in it).
        partial = getattr(err, "partial", None)
        if partial is not None and partial.exists():
            kept = out.parent / f"{out.name}.{partial.name}"
            shutil.move(partial, kept)
            err.partial = kept
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / f"{source.stem}.ipynb" for source in sources()]


def parse_value(text: str):
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
        "--changed", action="store_true", help="only the sources whose outputs are out of date"
    )
    parser.add_argument(
        "--report-stale", action="store_true",
        help="run nothing: print one line per source whose outputs are out of date",
    )  # fmt: skip
    parser.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1,
        help="notebooks executed at the same time (default: the number of CPUs)",
    )  # fmt: skip
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
    if args.report_stale:
        for source in changed(args.sources):
            print(
                f"{source.with_suffix('.ipynb').name} is out of date: run `make "
                f"{source.stem.split('_', 1)[1]}` to refresh it (a few minutes)"
            )
        return 0
    todo = changed(args.sources) if args.changed else args.sources
    if todo:
        parameters = {name: parse_value(value) for name, value in args.parameter}
        outputs = {
            key: value and value.resolve()
            for key, value in (("output", args.output), ("figures", args.figures),
                               ("results", args.results))
        }  # fmt: skip
        run_all(todo, lambda source: outputs, parameters, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

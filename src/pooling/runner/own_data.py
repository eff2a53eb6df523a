"""Run the whole collection on another groups CSV, into a directory of its own.

:func:`run_collection` validates the CSV before anything is compiled and builds the whole
output in a staging directory beside ``out``, moving it into place only when every notebook
has succeeded: a failed or interrupted run leaves ``out`` as it was.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from pooling.runner.schedule import run_all, warm_kernels
from pooling.runner.staleness import OPTIONAL, declared_parameters, sources

__all__ = ["OutBusy", "ParameterError", "claimed", "parse_value", "publish",
           "run_collection", "sigterm_as_interrupt"]  # fmt: skip


class ParameterError(ValueError):
    """A notebook parameter that no notebook declares."""


class OutBusy(RuntimeError):
    """Another run is writing into the same ``out``."""


@contextlib.contextmanager
def claimed(out: Path):
    """Hold ``out`` for this run: a second run into the same ``out`` stops at once.

    Two runs publishing into one directory would each replace the other's files, and both
    would say "done". The claim is an advisory lock, which the system releases when the run
    ends, however it ends, on a file named by ``out``'s absolute path in the temporary
    directory: nothing is written beside ``out``.

    Raises
    ------
    OutBusy
        Naming the run that holds ``out``.
    """
    locks = Path(tempfile.gettempdir()) / "pooling-out-locks"
    locks.mkdir(exist_ok=True)
    name = hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:32]
    with open(locks / f"{name}.lock", "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise OutBusy(f"{out} is being written by another run ({holder}); wait for it to "
                          "finish, or choose another OUT") from None  # fmt: skip
        lock.seek(0)
        lock.truncate()
        lock.write(f"process {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        lock.flush()
        yield


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Treat ``kill`` (SIGTERM) like Ctrl-C, so the clean-up below runs for both."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def publish(staging: Path, out: Path) -> None:
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
        Further notebook parameters (``DRAWS``, ``SEED``, ...). With ``PREDICTORS``, notebook
        6 runs too (:data:`pooling.runner.staleness.OPTIONAL`).
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
    from pooling import predictors
    from pooling.data import load_groups

    data, out = Path(data).resolve(), Path(out).resolve()
    chosen = _chosen(parameters)
    staging = None
    try:
        # The warm kernels' helper imports while the CSV and the parameters are checked (a bad
        # input stops it before any of the user's models is compiled). run_all stops every
        # kernel before it raises, so nothing writes into staging when it is removed below.
        with claimed(out), sigterm_as_interrupt(), warm_kernels() as server:
            groups = load_groups(data, **labels)  # bad input fails before any model compiles
            names = predictors.parse_names((parameters or {}).get("PREDICTORS"))
            predictors.design(groups, names, data)
            known = set().union(*(declared_parameters(source) for source in sources()))
            unknown = sorted(set(parameters or {}) - known)
            if unknown:
                raise ParameterError(
                    f"unknown notebook parameter {', '.join(unknown)}; the notebooks' "
                    f"parameters are {', '.join(sorted(known))}"
                )
            params = {
                "DATA": str(data),
                "GROUP": labels["group"],
                "TRIALS": labels["trials"],
                "SUCCESSES": labels["successes"],
                **(parameters or {}),
            }
            out.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
            run_all(
                chosen,
                lambda source: {
                    "output": staging / f"{source.stem}.ipynb",
                    "figures": staging / "figures",
                    "results": staging / "results",
                },
                params,
                jobs,
                server,
            )
            publish(staging, out)
    except Exception as err:
        # Keep the failed notebook, as far as it ran, beside OUT (never in it).
        partial = getattr(err, "partial", None)
        if partial is not None and partial.exists():
            kept = out.parent / f"{out.name}.{partial.name}"
            shutil.move(partial, kept)
            err.partial = kept
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return [out / f"{source.stem}.ipynb" for source in chosen]


def _chosen(parameters: dict | None) -> list[Path]:
    """The notebooks of an own-data run: those of :data:`OPTIONAL` only with their parameter."""
    given = set(parameters or {})
    return [source for source in sources()
            if source.stem not in OPTIONAL or OPTIONAL[source.stem] in given]  # fmt: skip


def parse_value(text: str):
    """A parameter value: a Python literal when it parses as one, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text

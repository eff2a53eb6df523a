"""Run several notebooks at once, each as soon as the notebooks it reads have finished."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pooling.runner import speedups
from pooling.runner.board import Board
from pooling.runner.execute import _environment, execute
from pooling.runner.staleness import NEEDS, declared_parameters

__all__ = ["STOP_WAIT", "run_all", "warm_kernels"]

#: Seconds that the notebooks still running get, in all, to stop after a failure or an
#: interrupt (see :func:`run_all`).
STOP_WAIT = 5.0


@contextlib.contextmanager
def warm_kernels():
    """Start the warm kernels' helper now; yield it, or None when the plain way must do.

    The helper spends several seconds importing; starting it before other set-up (checking a
    CSV, reading the notebooks' parameters) takes that off the run's critical path. When
    :func:`pooling.runner.speedups.install` finds the machinery unfit, one line says so and
    None is yielded.

    Yields
    ------
    pooling.runner.kernels.KernelServer or None
    """
    server = _kernel_server()
    speed = speedups.install()  # overlaps with the helper's imports
    if not speed:
        if server is not None:
            server.close()
        print(speed.note(), flush=True)
        yield None
        return
    with server:
        yield server


def run_all(
    notebooks: list[Path],
    outputs: Callable[[Path], dict],
    parameters: dict | None = None,
    jobs: int = 1,
    server=...,
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
    server : pooling.runner.kernels.KernelServer or None, optional
        From :func:`warm_kernels`, when the caller started it early; None: the plain way.
        By default this function starts its own.

    Notes
    -----
    Kernels are forked from a warm helper and compile through the disk cache when
    :func:`pooling.runner.speedups.install` allows; otherwise the notebooks run one at a time,
    each in a freshly started kernel with nutpie's own compile (the kernels get
    :data:`~pooling.runner.speedups.PLAIN_ENV`, which their kernel spec's start line obeys),
    and one line says so. The draws are the same.

    Raises
    ------
    Exception
        The first notebook's failure, once the other kernels are stopped and their threads
        have finished.
    """
    if server is ...:
        with warm_kernels() as server:
            return run_all(notebooks, outputs, parameters, jobs, server)
    if server is None:
        # A fresh kernel inherits os.environ, which execute() sets per notebook; the plain way
        # is plain in the kernels too, whose kernel spec would switch the disk cache on.
        with _environment({speedups.PLAIN_ENV: "1"}):
            return _run(notebooks, outputs, parameters, 1, None)
    return _run(notebooks, outputs, parameters, jobs, server)


def _run(notebooks, outputs, parameters, jobs, server) -> None:
    """:func:`run_all` with its kernels settled."""
    # Longest first (source size stands in for run time), so that the slowest notebook is not
    # left to run alone at the end; absolute paths, as papermill changes the working directory.
    pending = sorted((Path(n).resolve() for n in notebooks), key=lambda p: -p.stat().st_size)
    jobs = max(jobs, 1)
    running: dict[str, threading.Thread] = {}
    finished: queue.Queue = queue.Queue()

    board = Board()

    def work(source: Path) -> None:
        start = time.perf_counter()
        try:
            own = declared_parameters(source)  # papermill warns about the others
            mine = {name: value for name, value in (parameters or {}).items() if name in own}
            execute(source, parameters=mine, server=server, board=board, **outputs(source))
        except BaseException as err:  # reported to the main thread, which raises it
            board.finish(source.stem)
            err.notebook = source.stem  # which notebook failed, for the error message
            finished.put((source.stem, err))
        else:
            board.finish(source.stem, f"{source.stem}: done in {time.perf_counter() - start:.1f} s")
            finished.put((source.stem, None))

    def ready(source: Path) -> bool:
        todo = {p.stem for p in pending} | set(running)
        return not todo.intersection(NEEDS.get(source.stem, ()))

    try:
        while pending or running:
            for source in [p for p in pending if ready(p)][: max(jobs - len(running), 0)]:
                pending.remove(source)
                running[source.stem] = threading.Thread(target=work, args=(source,), daemon=True)
                running[source.stem].start()
            stem, error = finished.get()
            running.pop(stem).join()
            if error is not None:
                raise error
    except BaseException:
        # A failure or an interrupt: stop every other kernel, and give their threads a moment
        # to finish writing (a partial notebook) before the caller cleans up their output
        # directories. A thread whose kernel is gone may wait on it for good (nbclient does
        # not always see a forked kernel die), so the wait is short: an interrupt took a
        # minute when each thread had 30 s.
        if server is not None:
            server.close()
        deadline = time.monotonic() + STOP_WAIT
        for thread in running.values():
            thread.join(timeout=max(deadline - time.monotonic(), 0))
        raise
    finally:
        board.close()


def _kernel_server():
    """A started :class:`~pooling.runner.kernels.KernelServer`, or None if none can start."""
    if speedups.plain_requested():
        return None
    try:
        from pooling.runner.kernels import KernelServer

        return KernelServer()
    except Exception:  # speedups.install() says why
        return None

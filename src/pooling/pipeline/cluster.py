"""Where a run's tasks go: this process's threads, or an existing Dask cluster.

The tasks are the same either way, and each is a pure function of its inputs (every random
draw comes from a generator seeded by the task's own numbers), so the output does not depend
on where they run. This project starts no cluster of its own for a run: ``SCHEDULER`` names
one that is already there (``dask scheduler`` and ``dask worker``, or any deployment of
``dask.distributed``).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from pooling import portable

__all__ = ["CONNECT_TIMEOUT", "PORTABLE", "ClusterError", "connect", "is_portable",
           "local_processes", "shared"]  # fmt: skip

#: Seconds to wait for the scheduler to answer.
CONNECT_TIMEOUT = 10


class ClusterError(RuntimeError):
    """The cluster cannot be reached or lost the work; the message is one line."""


def shared(value):
    """``value`` as an input of many tasks: one node of the graph, sent once to each worker
    that runs one of them.

    A node of the graph, not data scattered to the workers: the scheduler holds it, so a lost
    worker loses no copy that cannot be sent again (``Client.scatter(broadcast=True)`` can
    wait forever on a worker that died meanwhile). :func:`connect` raises distributed's
    warning threshold for large graphs above what the folded pairs of 10^7 groups take.

    Parameters
    ----------
    value : object
        An array or frame that many tasks read.

    Returns
    -------
    dask.delayed.Delayed
        What to pass to the tasks in its place.
    """
    import dask

    return dask.delayed(value, pure=True)


@contextmanager
def connect(address: str | None = None, threads: int | None = None):
    """Run the ``dask`` computations inside on ``address``'s cluster, or on local threads.

    Parameters
    ----------
    address : str, optional
        A scheduler's address (``tcp://host:port``); without it, a thread pool in this
        process (no cluster to start).
    threads : int, optional
        Threads of the local pool; default the CPU count.

    Yields
    ------
    distributed.Client or None
        The client of the cluster, or ``None`` for local threads.

    Raises
    ------
    ClusterError
        When no scheduler answers at ``address``.
    """
    import dask

    if not address:
        with dask.config.set(scheduler="threads", num_workers=threads or os.cpu_count()):
            yield None
        return
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=True)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"no Dask scheduler answers at {address} ({type(exc).__name__}: {exc}); fix: start "
            "one (dask scheduler) with workers (dask worker ADDRESS), or correct SCHEDULER"
        ) from None
    # The folded pairs travel in the graph (shared): tens of MiB at 10^7 groups.
    with client, dask.config.set({"distributed.admin.large-graph-warning-threshold": "1GiB"}):
        _say_if_not_portable(client)
        yield client


#: The environment of every process whose numbers must match: the portable settings, and
#: the fixed hash seed that orders model graphs as the kernels' do.
PORTABLE = {**portable.ENV, "PYTHONHASHSEED": "0"}


def is_portable(environ=os.environ) -> bool:
    """Whether a process started with ``environ`` computes what every other such one does."""
    return portable.is_portable(environ) and environ.get("PYTHONHASHSEED") == "0"


def _say_if_not_portable(client) -> None:
    """One line when some worker lacks :data:`PORTABLE`: its last bits may differ from here."""
    import sys

    answers = client.run(is_portable)
    lacking = sorted(worker for worker, ok in answers.items() if not ok)
    if lacking:
        names = ", ".join(f"{k}={v}" for k, v in PORTABLE.items())
        print(f"warning: {len(lacking)} of {len(answers)} Dask workers were started without "
              f"the portable settings, so their numbers may differ from a run here in the last "
              f"bits; fix: start them with {names}", file=sys.stderr)  # fmt: skip


@contextmanager
def local_processes(workers: int = 2, memory_limit: str = "4GiB", threads: int = 1):
    """A real Dask cluster on 127.0.0.1: one scheduler and ``workers`` worker processes.

    Started with the ``dask`` command of this environment and :data:`PORTABLE` (no nanny,
    so that a killed worker stays dead), and stopped by process id on the way out. For the
    tests and the benchmarks; a run itself never starts a cluster.

    Parameters
    ----------
    workers : int, optional
    memory_limit : str, optional
        Each worker's limit, as ``dask worker --memory-limit`` takes it.
    threads : int, optional
        Threads per worker.

    Yields
    ------
    address : str
        The scheduler's address.
    pids : dict
        ``"scheduler"`` and ``"workers"`` (a list): the process ids.
    """
    import json
    import signal
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    dask_cli = [str(Path(sys.executable).with_name("dask"))]  # the environment's own
    processes = []
    with tempfile.TemporaryDirectory(prefix="pooling-cluster-") as scratch:
        file = Path(scratch) / "scheduler.json"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
                 "env": {**os.environ, **PORTABLE}}  # fmt: skip
        try:
            processes.append(subprocess.Popen(
                [*dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--scheduler-file", str(file)], **quiet))  # fmt: skip
            deadline = time.monotonic() + 60
            while not file.exists() or not file.read_text().strip():
                if time.monotonic() > deadline or processes[0].poll() is not None:
                    raise ClusterError("the local Dask scheduler did not start")
                time.sleep(0.2)
            address = json.loads(file.read_text())["address"]
            for k in range(workers):
                processes.append(subprocess.Popen(
                    [*dask_cli, "worker", address, "--no-nanny", "--nthreads", str(threads),
                     "--memory-limit", memory_limit, "--name", f"worker-{k}",
                     "--local-directory", scratch], **quiet))  # fmt: skip
            from distributed import Client

            with Client(address, timeout=CONNECT_TIMEOUT) as client:
                client.wait_for_workers(workers, timeout=60)
            yield address, {"scheduler": processes[0].pid,
                            "workers": [p.pid for p in processes[1:]]}  # fmt: skip
        finally:
            # The workers first, while the scheduler still answers their goodbye; stopped
            # together, a worker can wait out its timeout for a scheduler that is gone.
            for group in (processes[1:], processes[:1]):
                for process in group:
                    if process.poll() is None:
                        process.send_signal(signal.SIGTERM)
                for process in group:
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()

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

__all__ = ["CONNECT_TIMEOUT", "ClusterError", "connect"]

#: Seconds to wait for the scheduler to answer.
CONNECT_TIMEOUT = 20


class ClusterError(RuntimeError):
    """The cluster cannot be reached or lost the work; the message is one line."""


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
    with client:
        yield client

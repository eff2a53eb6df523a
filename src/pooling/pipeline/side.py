"""A second process for an estimates run: the work that would otherwise wait for the first.

With predictors, that is the regression's fit (NUTS and its exact grid) while this process
fits the exchangeable model; without, the exchangeable model's exact grid while this
process samples it. On threads they would not overlap: each NUTS step calls into Python,
and the other work holds the interpreter's lock often enough to make those calls queue
(measured: slower than one after the other). A spawned process has its own lock, and
imports what it needs while this one is still importing.
"""

from __future__ import annotations

import importlib
import multiprocessing
import queue
import threading

import pandas as pd

from pooling import exact

__all__ = ["Pending", "SideProcess", "SideProcessError", "exchangeable"]


def exchangeable(pairs: pd.DataFrame, sigma: float, listed: pd.Index) -> pd.DataFrame:
    """The exchangeable model's exact summary, with the rates of the ``listed`` pairs.

    Parameters
    ----------
    pairs : pandas.DataFrame
        The distinct pairs (``trials``, ``successes``, ``count``), indexed by name.
    sigma : float
        Scale of the hyperpriors.
    listed : pandas.Index
        The pairs whose rates to include.
    """
    return exact.HierarchicalPosterior(pairs, sigma=sigma).summary(listed)


class SideProcessError(RuntimeError):
    """The side process stopped before it answered."""


def _imported(names: list[str]) -> None:
    """Import the modules named (nothing comes back: a module does not pickle)."""
    for name in names:
        importlib.import_module(name)


def _serve(calls, answers) -> None:
    """The process's loop: a call taken, its value (or error) put back, until ``None``."""
    for function, args in iter(calls.get, None):
        try:
            answer = (True, function(*args))
        except Exception as err:  # raised again in the caller's process
            answer = (False, err)
        answers.put(answer)


class SideProcess:
    """One spawned process that computes the calls sent to it, one after the other.

    Started at once, so that it imports NumPy, SciPy and the grids (and what
    :meth:`preload` names) while the caller goes on. A call is queued without waiting for
    the process to take it. A context manager: leaving it stops the process, finished or
    not, so that an interrupted run leaves nothing behind. Spawned, so the caller's main
    module is imported there again: a script that starts an estimates run needs ``if
    __name__ == "__main__":``, as for any spawned process; without it the process stops,
    and :meth:`Pending.get` says so rather than wait.
    """

    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self._calls, self._answers = context.Queue(), context.Queue()
        self._process = context.Process(target=_serve, args=(self._calls, self._answers),
                                        daemon=True, name="pooling side")  # fmt: skip
        self._process.start()
        #: The process's id.
        self.pid = self._process.pid
        # Apart: a call may be queued while another thread waits for an answer.
        self._sending, self._receiving = threading.Lock(), threading.Lock()
        self._sent, self._received = 0, []

    def __enter__(self) -> SideProcess:
        return self

    def __exit__(self, *exc) -> None:
        # Calls not taken yet are dropped, not flushed to a process about to stop.
        self._calls.cancel_join_thread()
        self._process.terminate()
        self._process.join()

    def preload(self, *modules: str) -> None:
        """Import these modules there now, before a call needs them."""
        self.submit(_imported, list(modules))

    def submit(self, function, *args) -> Pending:
        """Queue ``function(*args)`` (both picklable); the answers come in order of sending."""
        with self._sending:
            self._calls.put((function, args))
            self._sent += 1
            return Pending(self, self._sent - 1)

    def _answer(self, number: int):
        with self._receiving:
            while len(self._received) <= number:
                try:
                    self._received.append(self._answers.get(timeout=0.2))
                except queue.Empty:
                    if not self._process.is_alive():
                        raise SideProcessError(
                            f"the estimates run's side process stopped (exit code "
                            f"{self._process.exitcode}); fix: a script that starts an "
                            "estimates run needs if __name__ == '__main__':"
                        ) from None
        returned, value = self._received[number]
        if not returned:
            raise value
        return value


class Pending:
    """A call sent to a :class:`SideProcess`."""

    def __init__(self, process: SideProcess, number: int):
        self._process, self._number = process, number

    def get(self):
        """The call's value, once it has come back; its error, raised here."""
        return self._process._answer(self._number)

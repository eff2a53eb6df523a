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
import pickle
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
    """The process's loop: a call taken, its value (or error) sent back, until the caller
    closes its end."""
    while True:
        try:
            function, args = pickle.loads(calls.recv_bytes())
        except EOFError:
            return
        try:
            answer = (True, function(*args))
        except Exception as err:  # raised again in the caller's process
            answer = (False, err)
        try:
            answers.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            answers.send((False, SideProcessError(f"its answer could not be sent: {err}")))


class SideProcess:
    """One spawned process that computes the calls sent to it, one after the other.

    Started at once, so that it imports NumPy, SciPy and the grids (and what
    :meth:`preload` names) while the caller goes on. A call is pickled in :meth:`submit`
    and sent from a thread of this object's own, so that a call larger than the pipe's
    buffer does not wait there for the process to take it. An answer that large waits for
    :meth:`Pending.get`, and the process's next call with it. A context manager: leaving it
    stops the process, finished or not, and that thread, so that an interrupted run leaves
    nothing behind. Spawned, so the caller's main module is imported there again: a script
    that starts an estimates run needs ``if __name__ == "__main__":``, as for any spawned
    process; without it the process stops, and :meth:`Pending.get` says so rather than
    wait.

    Plain pipes, not :class:`multiprocessing.Queue`: a queue's named semaphores are
    unlinked by whichever thread drops them last, and when that was its feeder thread at
    the interpreter's exit, the resource tracker warned of a leak on stderr.
    """

    def __init__(self):
        context = multiprocessing.get_context("spawn")
        calls_there, self._calls = context.Pipe(duplex=False)
        self._answers, answers_there = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(calls_there, answers_there),
                                        daemon=True, name="pooling side")  # fmt: skip
        self._process.start()
        # Only the process holds those ends now: once it stops, a send here fails rather
        # than wait, and a receive here ends.
        calls_there.close()
        answers_there.close()
        #: The process's id.
        self.pid = self._process.pid
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, daemon=True,
                                        name="pooling side sender")  # fmt: skip
        self._sender.start()
        # Apart: a call may be queued while another thread waits for an answer.
        self._sending, self._receiving = threading.Lock(), threading.Lock()
        self._sent, self._received = 0, []

    def __enter__(self) -> SideProcess:
        return self

    def __exit__(self, *exc) -> None:
        self._process.terminate()
        self._process.join()
        # Calls not sent yet are dropped; one being sent fails now that nobody reads.
        self._outbox.put(None)
        self._sender.join()
        self._calls.close()
        self._answers.close()

    def _send_all(self) -> None:
        for call in iter(self._outbox.get, None):
            try:
                self._calls.send_bytes(call)
            except OSError:  # the process has stopped: Pending.get says so
                return

    def preload(self, *modules: str) -> None:
        """Import these modules there now, before a call needs them."""
        self.submit(_imported, list(modules))

    def submit(self, function, *args) -> Pending:
        """Queue ``function(*args)`` (both picklable); the answers come in order of sending."""
        call = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        with self._sending:
            self._outbox.put(call)
            self._sent += 1
            return Pending(self, self._sent - 1)

    def _answer(self, number: int):
        with self._receiving:
            while len(self._received) <= number:
                if self._answers.poll(0.2):
                    try:
                        self._received.append(self._answers.recv())
                    except EOFError:
                        raise self._stopped() from None
                elif not self._process.is_alive():
                    raise self._stopped()
        returned, value = self._received[number]
        if not returned:
            raise value
        return value

    def _stopped(self) -> SideProcessError:
        self._process.join(timeout=10)  # closed its end: exiting, if not yet gone
        return SideProcessError(
            f"the estimates run's side process stopped (exit code {self._process.exitcode}); "
            "fix: a script that starts an estimates run needs if __name__ == '__main__':"
        )


class Pending:
    """A call sent to a :class:`SideProcess`."""

    def __init__(self, process: SideProcess, number: int):
        self._process, self._number = process, number

    def get(self):
        """The call's value, once it has come back; its error, raised here."""
        return self._process._answer(self._number)

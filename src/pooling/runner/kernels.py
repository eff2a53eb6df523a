"""Warm kernels: IPython kernels forked from a process that has already paid the start-up.

Executing a notebook the usual way starts a fresh Python, imports PyMC, ArviZ, SciPy,
pandas and matplotlib (about 8 s on a 2-core machine) and lets Numba type its internals on
the first model it compiles (another 4-5 s), before the notebook's own work begins. For a
collection of four short notebooks that is most of the time.

A :class:`KernelServer` starts one helper process (``python -m pooling.runner.kernels``) that
imports those libraries once, switches the compile cache on (:mod:`pooling.runner.speedups`)
and compiles a throw-away model to warm Numba, then forks a kernel for every notebook. Each
notebook still runs top to bottom in a process of its own, with its own environment and
working directory, and the outputs are the same bytes as from a freshly started kernel (a
test compares them). The helper lives for one run of the collection only.

The helper is tied to its owner: it exits when its owner closes the pipe (or dies), and it
kills its kernels when it exits; a kernel exits when the helper does (``--parent``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

from jupyter_client.manager import KernelManager
from jupyter_client.provisioning import LocalProvisioner

from pooling import portable

__all__ = ["PRELOAD", "ForkedProcess", "KernelServer", "check"]

#: Imported by the helper before it forks: everything the notebooks import that is slow.
PRELOAD = (
    "numpy", "scipy.special", "scipy.stats", "pandas", "xarray", "h5netcdf", "matplotlib",
    "seaborn", "arviz", "pytensor", "pymc", "nutpie", "pandera.pandas", "graphviz",
    "IPython", "ipykernel.kernelapp", "watermark",
)  # fmt: skip


#: Kernel log messages left out of the output (see :func:`_become_kernel`).
QUIET = ("running over TCP without encryption", "KeyboardInterrupt caught in kernel")


def check() -> None:
    """Raise if the part of jupyter_client that the warm kernels hook into has changed.

    Raises
    ------
    AttributeError
        Naming the missing piece.
    """
    if not hasattr(os, "fork"):
        raise AttributeError("os.fork is not available on this system")
    for owner, name in ((KernelManager, "_async_pre_start_kernel"),
                        (LocalProvisioner, "launch_kernel")):  # fmt: skip
        if not hasattr(owner, name):
            raise AttributeError(f"{owner.__module__}.{owner.__qualname__}.{name} is gone")


class ForkedProcess:
    """The parts of :class:`subprocess.Popen` that jupyter_client uses, for a forked kernel.

    The kernel is the helper's child, not ours, so its exit status is not ours to collect:
    the helper ignores SIGCHLD (children are reaped at once) and liveness is a null signal.
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        """``None`` while the kernel runs, else 0."""
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Block until the kernel has exited."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Send ``signum`` to the kernel, if it still runs."""
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class KernelServer:
    """Owner of the helper process that forks warm kernels.

    Parameters
    ----------
    warm : bool, optional
        Also compile a throw-away model in the helper so that Numba's own functions are
        typed once, not once per notebook.

    Notes
    -----
    Use as a context manager; :meth:`close` ends the helper and every kernel it forked.
    Safe to share between threads.
    """

    def __init__(self, warm: bool = True):
        # The helper inherits PYTHONHASHSEED=0 so that every kernel it forks has it too.
        env = {**os.environ, **portable.ENV, "PYTHONHASHSEED": "0"}
        env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pooling.runner.kernels", *(["--warm"] if warm else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
            start_new_session=True,  # Ctrl-C reaches the helper through us, not directly
        )  # fmt: skip
        self._lock = threading.Lock()
        self._forked = 0

    def fork(self, connection_file: str, cwd: str, env: dict[str, str]) -> ForkedProcess:
        """Start a kernel on ``connection_file`` in ``cwd`` with ``env`` added.

        Returns
        -------
        ForkedProcess
            Handle on the new kernel.
        """
        request = {"connection_file": connection_file, "cwd": cwd, "env": env}
        with self._lock:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            reply = self._process.stdout.readline()
            self._forked += 1
        if not reply:
            raise RuntimeError(f"the kernel helper exited (status {self._process.wait()})")
        return ForkedProcess(json.loads(reply)["pid"])

    def kernel_manager(self, env: dict[str, str] | None = None) -> type[KernelManager]:
        """A :class:`~jupyter_client.KernelManager` class whose kernels this server forks.

        Parameters
        ----------
        env : dict, optional
            Environment variables set in the kernel (on top of this process's).
        """
        return type(
            "WarmKernelManager", (_WarmKernelManager,), {"server": self, "extra_env": env or {}}
        )

    def close(self) -> None:
        """End the helper and, with it, every kernel it forked."""
        if self._process.poll() is None and not self._forked:
            self._process.kill()  # no kernel to end; the helper may still be importing
            self._process.wait()
        if self._process.poll() is None:
            self._process.stdin.close()  # the helper kills its kernels on end of input
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> KernelServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _WarmProvisioner(LocalProvisioner):
    """Launches the kernel by asking the :class:`KernelServer` to fork it."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        manager = self.parent
        connection_file = cmd[cmd.index("-f") + 1]
        self.process = manager.server.fork(
            connection_file, str(kwargs.get("cwd") or os.getcwd()), manager.extra_env
        )
        self.pid, self.pgid = self.process.pid, None
        return self.connection_info


class _WarmKernelManager(KernelManager):
    server: KernelServer
    extra_env: dict[str, str]

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.provisioner = _WarmProvisioner(
                kernel_id=self.kernel_id or "warm", kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)


# ------------------------------------------------------------------------- the helper side


def _warm_up() -> None:
    """Compile a small model of the collection's kind, then forget it.

    With the compiled code already in :mod:`pooling.runner.compile_cache` this takes a second
    and readies PyTensor's and Numba's machinery; without it (a first run), it also spares
    every kernel Numba's first-time typing (about 5 s each).
    """
    import numpy as np
    import pymc as pm

    from pooling.runner.compile_cache import compile_pymc_model

    with pm.Model() as model:
        trials = pm.Data("trials", np.array([3, 4]))
        successes = pm.Data("successes", np.array([1, 2]))
        alpha = pm.HalfNormal("alpha", sigma=1)
        theta = pm.Beta("theta", alpha=alpha, beta=1, shape=2)
        pm.Binomial("y", n=trials, p=theta, observed=successes)
        pm.BetaBinomial("z", alpha=alpha, beta=1, n=trials, observed=successes)
    compile_pymc_model(model)


def _serve(warm: bool) -> None:
    """Read fork requests (one JSON object per line) and answer each with the kernel's pid."""
    import importlib

    from pooling.runner import compile_cache

    for name in PRELOAD:
        importlib.import_module(name)
    # Every forked kernel compiles through the disk cache, if it fits (else the owner, whose
    # own check fails too, closes this helper and runs the plain way).
    cached = compile_cache.use_in_this_process()
    if warm and cached:
        _warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped as they exit
    # The only other threads here are the idle pools of NumPy's and SciPy's OpenBLAS, which
    # re-create themselves in a forked child (pthread_atfork); Python 3.12+ warns of any thread.
    warnings.filterwarnings("ignore", message=r"This process \(pid=\d+\) is multi-threaded",
                            category=DeprecationWarning)  # fmt: skip
    me, children = os.getpid(), []
    try:
        while line := sys.stdin.readline():
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _become_kernel(request, me)
            children.append(pid)
            print(json.dumps({"pid": pid}), flush=True)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _become_kernel(request: dict, helper: int) -> None:
    """In the forked child: become an IPython kernel; never returns."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setpgid(0, 0)
        # stdout is the helper's answer pipe: the kernel's stray output goes to stderr.
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(2, 1)
        os.chdir(request["cwd"])
        os.environ.update(request["env"])
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        # Messages that would land in every make's output and say nothing there: both ends of
        # the connection are on this machine, and the client interrupts a kernel it shuts down.
        app.log.addFilter(lambda record: not any(quiet in record.getMessage() for quiet in QUIET))
        app.initialize(["-f", request["connection_file"], f"--IPKernelApp.parent_handle={helper}"])
        _as_if_imported_in_kernel()
        app.start()
        status = 0
    finally:
        os._exit(status)


def _as_if_imported_in_kernel() -> None:
    """Redo the import-time choices that depend on running inside a kernel.

    pandas picks its default ``display.max_columns`` at import: 0 (fit the terminal) outside
    a kernel, 20 inside one. The helper imported pandas outside one.
    """
    import pandas as pd

    pd.set_option("display.max_columns", 20)


if __name__ == "__main__":
    _serve(warm="--warm" in sys.argv[1:])

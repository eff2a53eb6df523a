"""The one switch for the runner's speed machinery, with the plain way as the fallback.

Two pieces make ``make`` fast, and both lean on other libraries' internals:

- :mod:`pooling.runner.compile_cache` keeps nutpie's compiled models on disk (Numba's and
  PyTensor's cache internals);
- :mod:`pooling.runner.kernels` forks each notebook's kernel from one warm process
  (jupyter_client's kernel start-up).

:func:`install` checks that both still fit the installed libraries. If either does not (say
after an upgrade), the runner takes the plain way, nutpie's own compile in a freshly started
kernel, and says so in one line. Neither way changes a number: the draws are the same bytes
(tested), because what decides them, :mod:`pooling.digamma` and :mod:`pooling.portable`, is on
the analysis side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "IPYTHON_STARTUP",
    "KERNEL_START",
    "PLAIN_ENV",
    "Speedups",
    "in_kernel",
    "install",
    "plain_requested",
]

#: Set to 1 to take the plain way on purpose (e.g. to time it, or to rule the machinery out).
PLAIN_ENV = "POOLING_PLAIN"
#: The line that a freshly started kernel runs before the notebook's first cell: it gives the
#: kernel the compile cache when it fits (:func:`in_kernel`). One expression, so that it
#: leaves no name in the notebook's namespace, and a trailing ``;``, so that IPython shows
#: no value. The kernel of ``.venv`` runs it
#: (:mod:`pooling.runner.kernelspec`).
KERNEL_START = "__import__('pooling.runner.speedups').runner.speedups.in_kernel();"
#: The same as an IPython start-up file, for kernels started from another kernel spec (nbval's
#: kernels in the test suite).
IPYTHON_STARTUP = KERNEL_START + "\n"


@dataclass(frozen=True)
class Speedups:
    """Whether the speed machinery is on, and if not, why.

    Attributes
    ----------
    reason : str or None
        ``None`` when the machinery is on; otherwise what stopped it, in a few words.
    """

    reason: str | None = None

    def __bool__(self) -> bool:
        return self.reason is None

    def note(self) -> str:
        """The one line that the runner prints when it takes the plain way."""
        return (
            f"note: running the plain way (nutpie's own compile, fresh kernels): {self.reason}; "
            "the numbers are the same, only slower"
        )


def plain_requested() -> bool:
    """Whether the plain way was asked for (:data:`PLAIN_ENV`)."""
    return os.environ.get(PLAIN_ENV, "") not in ("", "0")


def install() -> Speedups:
    """Check that the speed machinery fits the installed libraries.

    Returns
    -------
    Speedups
        True when the runner may use warm kernels and the compile cache.
    """
    if plain_requested():
        return Speedups(f"{PLAIN_ENV} is set")
    try:
        from pooling.runner import compile_cache, kernels

        compile_cache.check()
        kernels.check()
    except Exception as err:  # any failure means: do without
        return Speedups(f"the speed machinery does not fit the installed libraries ({err})")
    return Speedups()


def in_kernel() -> Speedups:
    """Compile this kernel's models through the disk cache, when the machinery fits.

    Runs inside a freshly started kernel (:data:`KERNEL_START`), so that whatever the
    libraries decide on import about running in a kernel is decided as in the notebook. With
    :data:`PLAIN_ENV` set, or when the machinery does not fit, it does nothing: nutpie
    compiles as it does without this project.

    Returns
    -------
    Speedups
        Whether the cache is on, and if not, why.
    """
    speed = install()
    if speed:
        from pooling.runner import compile_cache

        compile_cache.use_in_this_process()
    return speed

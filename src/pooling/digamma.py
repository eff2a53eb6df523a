"""A digamma function for PyTensor's Numba backend, written in Numba.

Every Beta and beta-binomial log density of the collection has digamma in its gradient.
PyTensor's own Numba implementation calls SciPy through a function pointer, which Numba
cannot cache on disk, so every such model would be compiled afresh in each process. Importing
this module registers :func:`digamma` for PyTensor's ``psi`` through PyTensor's public
extension point (``register_funcify_and_cache_key``), whichever way a notebook is run, so the
draws do not depend on how the model was compiled or whether it came from a cache.

Its values are within 1e-13 (relative) of ``scipy.special.psi`` from 1e-300 to 1e300 and on
the negative axis, with the same poles (tested).

References
----------
.. [1] Abramowitz, M. and Stegun, I. A. (1964). *Handbook of Mathematical Functions*,
   6.3.5 (recurrence), 6.3.7 (reflection) and 6.3.18 (asymptotic series).
"""

from __future__ import annotations

import math

import numba
from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_and_cache_key
from pytensor.link.numba.dispatch.scalar import numba_funcify_ScalarOp, scalar_op_cache_key
from pytensor.scalar.math import Psi

__all__ = ["digamma"]

#: Part of PyTensor's cache key: change it whenever :func:`digamma` changes.
IMPLEMENTATION = "pooling.digamma 1"


@numba.njit(cache=True)
def _digamma_positive(x):
    # Recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series, whose
    # first omitted term is below 1e-16 there.
    shift = 0.0
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    tail = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (
        1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))))  # fmt: skip
    return shift + math.log(x) - 0.5 / x - tail


@numba.njit(cache=True)
def digamma(x):
    """The digamma function, with SciPy's values at the poles (-inf at 0, nan below).

    Parameters
    ----------
    x : float
        Argument.

    Returns
    -------
    float
        psi(x).
    """
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x <= 0.0:
        if x == math.floor(x):
            return -math.inf if x == 0.0 and math.copysign(1.0, x) > 0 else (
                math.inf if x == 0.0 else math.nan)  # fmt: skip
        # Reflection. tan has period 1 in x: x minus its nearest integer is exact, pi * x is not.
        nearest = math.floor(x + 0.5)
        return _digamma_positive(1.0 - x) - math.pi / math.tan(math.pi * (x - nearest))
    return _digamma_positive(x)


@register_funcify_and_cache_key(Psi)
def _numba_funcify_psi(op, node, **kwargs):
    """PyTensor's Numba implementation of ``psi`` for float inputs: :func:`digamma`."""
    if not node.inputs[0].type.dtype.startswith("float"):
        return numba_funcify_ScalarOp(op, node=node, **kwargs)

    @numba_njit
    def psi(x):
        return digamma(x)

    return psi, scalar_op_cache_key(op, implementation=IMPLEMENTATION)

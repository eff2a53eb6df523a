"""Sums of many log Gammas of one variable, and their derivative, at the cost of a few.

A folded likelihood (:mod:`pooling.folded`, :mod:`pooling.folded_regression`) is made of sums
``sum_r c_r log Gamma(v + k_r)`` over thousands of counts ``k_r`` (weighted by ``c_r``
groups), for a parameter ``v`` that NUTS moves. :class:`GammaSeries` holds such sums, one
block of counts per value of ``v`` (one per predictor row of the regression), and
:func:`series_sum` evaluates a block and its derivative in ``v``:

- with a log Gamma and a digamma per count (:func:`log_gamma_digamma`: Stirling's series
  past 10, the recurrence below, from one log and one reciprocal);
- or, once anchored (:meth:`GammaSeries.expand_at`), with the Taylor series about the anchor
  ``v_0`` for every count whose ``v_0 + k`` is at least :data:`EXPANSION_RATIO` times
  ``|v - v_0|``, whose coefficients ``sum c psi^(j - 1)(v_0 + k) / j!`` are summed over those
  counts once. Near the anchor, the posterior mode, a block then costs a handful of terms
  whatever its number of counts; far from it, its log Gammas, so the value is the same
  everywhere (to 1e-13, tested).

:func:`series_sums` evaluates every block at once, each at its own ``v``: the blocks near
their anchors share one Horner loop over the blocks per Taylor term, which the compiler
turns into vector instructions (four times faster than a block at a time, measured at 3,000
blocks in ``benchmarks/regression_gradient.py``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "EXPANSION_RATIO",
    "EXPANSION_TERMS",
    "STIRLING_FROM",
    "GammaSeries",
    "log_gamma_digamma",
    "series_sum",
    "series_sums",
]

#: Arguments from which Stirling's series gives log Gamma and digamma to 1e-14 (smaller ones
#: are shifted up by the recurrence first).
STIRLING_FROM = 10.0
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: A row takes the Taylor series about the anchor when its ``anchor + k`` is at least this
#: many times the distance of the block's variable ``v`` from the anchor ...
EXPANSION_RATIO = 8.0
#: ... with at most this many terms: the first omitted one is below ``(z + 16) 2e-18`` for
#: an argument ``z``, the gradient's below ``3e-17 (1 + 17 / z)``.
EXPANSION_TERMS = 18
_INVERSES = 1.0 / np.arange(1.0, EXPANSION_TERMS + 1)


@numba.njit(cache=True, nogil=True)
def log_gamma_digamma(z):
    """``log Gamma(z)`` and ``psi(z)`` for ``z > 0``, from one log and one reciprocal.

    Parameters
    ----------
    z : float
        A positive argument.

    Returns
    -------
    (float, float)
        Within 1e-14 (absolute, below 10; relative, above) of SciPy's (tested).
    """
    shifted_log, shifted_psi, product = 0.0, 0.0, 1.0
    while z < STIRLING_FROM:
        product *= z
        shifted_psi -= 1.0 / z
        z += 1.0
    if product != 1.0:
        shifted_log = -math.log(product)
    r = 1.0 / z
    r2 = r * r
    log_z = math.log(z)
    # The first omitted terms, 691 / (360360 z^11) and 691 / (32760 z^12), are below 1e-13
    # at z = 10.
    log_gamma = (z - 0.5) * log_z - z + _HALF_LOG_2PI + r * (1 / 12 - r2 * (1 / 360 - r2 * (
        1 / 1260 - r2 * (1 / 1680 - r2 / 1188))))  # fmt: skip
    psi = log_z - 0.5 * r - r2 * (1 / 12 - r2 * (1 / 120 - r2 * (1 / 252 - r2 * (
        1 / 240 - r2 / 132))))  # fmt: skip
    return log_gamma + shifted_log, psi + shifted_psi


@numba.njit(cache=True, nogil=True, inline="always")
def series_sum(i, v, anchor, start, k, count, moments, first_ok, head):
    """One block's ``sum c log Gamma(v + k)`` and its derivative in ``v``.

    Rows whose ``v_0 + k`` is at least :data:`EXPANSION_RATIO` times ``|v - v_0|`` (``v_0``
    the block's anchor) take the Taylor series about the anchor, whose coefficients summed
    over those rows are ``moments`` (``head``: those of the block's first such row, kept
    apart because near the anchor no other row is needed); the others, one log Gamma each.
    """
    lo, hi = start[i], start[i + 1]
    delta = v - anchor[i]
    split = hi
    if moments.shape[1]:
        # The first row whose anchor + k reaches the ratio (k is sorted within the block).
        least = EXPANSION_RATIO * abs(delta) - anchor[i]
        split, high = first_ok[i], hi
        if split < high and k[split] < least:
            while split < high:
                middle = (split + high) // 2
                if k[middle] < least:
                    split = middle + 1
                else:
                    high = middle
    value, derivative = 0.0, 0.0
    for r in range(lo, split):
        lg, psi = log_gamma_digamma(v + k[r])
        value += count[r] * lg
        derivative += count[r] * psi
    if split < hi:
        table, at = (head, i) if split == first_ok[i] else (moments, split)
        # Terms fall by at least |delta| / (anchor + k) each: stop once below 1e-17.
        ratio = abs(delta) / (anchor[i] + k[split])
        term, bound = 1.0, 1.0
        for j in range(moments.shape[1] - 1):
            value += term * table[at, j]
            derivative += term * table[at, j + 1]
            term *= delta * _INVERSES[j]
            bound *= ratio
            if bound < 1e-17:
                break
    return value, derivative


@numba.njit(cache=True, nogil=True)
def series_sums(v, anchor, start, k, count, moments, first_ok, head, head_by_term, reach,
                derivatives):  # fmt: skip
    """Every block's ``sum c log Gamma(v_i + k)``, summed, and each block's derivative.

    The same numbers as :func:`series_sum` of each block (to rounding): a block whose rows
    near enough the anchor can all take its first such row's coefficients (``head``, and
    ``head_by_term`` its transpose) is evaluated with the others of its kind, by Horner's
    rule with as many terms as the farthest of them needs; any other block by
    :func:`series_sum`.

    Parameters
    ----------
    v : numpy.ndarray
        Each block's variable.
    anchor, start, k, count, moments, first_ok, head, head_by_term, reach :
        As :attr:`GammaSeries.arrays` holds them.
    derivatives : numpy.ndarray
        Receives each block's derivative in its ``v``.

    Returns
    -------
    float
        The sum over every block.
    """
    n_blocks, n_terms = v.size, moments.shape[1]
    delta = v - anchor
    # How far each block is from its anchor, in units of its first expandable argument.
    ratio = np.abs(delta) * reach
    together = ratio <= 1.0 / EXPANSION_RATIO
    value, farthest = 0.0, 0.0
    for i in range(n_blocks):
        if together[i]:
            farthest = max(farthest, ratio[i])
            # The rows too near 0 for the series: log Gammas (rarely any).
            derivatives[i] = 0.0
            for r in range(start[i], first_ok[i]):
                lg, psi = log_gamma_digamma(v[i] + k[r])
                value += count[r] * lg
                derivatives[i] += count[r] * psi
        else:
            block, derivatives[i] = series_sum(i, v[i], anchor, start, k, count, moments,
                                               first_ok, head)  # fmt: skip
            value += block
    # Terms fall by at least the farthest ratio each: as many as series_sum would take there.
    used, bound = 1, farthest
    while bound >= 1e-17 and used < n_terms - 1:
        bound *= farthest
        used += 1
    sums, slopes = np.zeros(n_blocks), np.zeros(n_blocks)
    for j in range(used - 1, -1, -1):
        inverse = _INVERSES[j]
        for i in range(n_blocks):
            step = delta[i] * inverse
            sums[i] = head_by_term[j, i] + sums[i] * step
            slopes[i] = head_by_term[j + 1, i] + slopes[i] * step
    for i in range(n_blocks):
        if together[i]:
            value += sums[i]
            derivatives[i] += slopes[i]
    return value


@numba.njit(cache=True)
def _sums_from(terms, start):
    """Each row's sum of ``terms`` over itself and the rows after it in its block.

    Compensated (Neumaier) sums: a block can hold 10^5 rows of terms near 10^5.
    """
    out = np.empty_like(terms)
    for i in range(start.size - 1):
        for j in range(terms.shape[1]):
            running, lost = 0.0, 0.0
            for r in range(start[i + 1] - 1, start[i] - 1, -1):
                added = running + terms[r, j]
                if abs(running) >= abs(terms[r, j]):
                    lost += (running - added) + terms[r, j]
                else:
                    lost += (terms[r, j] - added) + running
                running = added
                out[r, j] = running + lost
    return out


class GammaSeries:
    """Blocks of ``sum_r c_r log Gamma(v_i + k_r)``: block ``i``'s counts sorted, and their
    Taylor coefficients about an anchor once :meth:`expand_at` has set one.

    Parameters
    ----------
    block : numpy.ndarray
        Each count's block (integers from 0).
    k, count : numpy.ndarray
        The counts and their weights (groups; negative for a term subtracted).
    n_blocks : int

    Attributes
    ----------
    arrays : tuple of numpy.ndarray
        What :func:`series_sum` takes after the block and ``v``; then ``head``'s transpose
        and each block's ``1 / (v_0 + k)`` of its first expandable row (infinite where there
        is none), what :func:`series_sums` takes after ``v``.
    """

    def __init__(self, block: np.ndarray, k: np.ndarray, count: np.ndarray, n_blocks: int):
        order = np.lexsort((k, block))
        self.block, self.k = block[order], np.asarray(k, float)[order]
        self.count = np.asarray(count, float)[order]
        self.start = np.searchsorted(self.block, np.arange(n_blocks + 1)).astype(np.int64)
        self.arrays = (
            np.zeros(n_blocks),
            self.start,
            self.k,
            self.count,
            np.zeros((self.k.size, 0)),
            self.start[1:].copy(),
            np.zeros((n_blocks, 0)),
            np.zeros((0, n_blocks)),
            np.full(n_blocks, np.inf),
        )

    def expand_at(self, anchor: np.ndarray) -> None:
        """Taylor coefficients about ``anchor`` (one value per block): for each count,
        ``sum c psi^(j - 1)(anchor + k)`` over it and the larger counts of its block."""
        from scipy import special

        z = np.asarray(anchor, float)[self.block] + self.k
        terms = np.empty((z.size, EXPANSION_TERMS))
        terms[:, 0] = special.gammaln(z)
        terms[:, 1] = special.psi(z)
        for j in range(2, EXPANSION_TERMS):
            terms[:, j] = special.polygamma(j - 1, z)
        terms *= self.count[:, None]
        # Near 0 the high derivatives overflow: such counts (the first of their block, being
        # sorted) always take log Gammas.
        bad = ~np.isfinite(terms).all(axis=1)
        first_ok = self.start[:-1].copy()
        if bad.any():
            last_bad = np.maximum.reduceat(np.where(bad, np.arange(z.size), -1),
                                           self.start[:-1].clip(max=z.size - 1))  # fmt: skip
            first_ok = np.where(np.diff(self.start) > 0, np.maximum(first_ok, last_bad + 1),
                                first_ok)  # fmt: skip
            terms[bad] = 0.0
        moments = _sums_from(terms, self.start)
        first_ok = first_ok.astype(np.int64)
        head = np.zeros((first_ok.size, EXPANSION_TERMS))
        kept = first_ok < self.start[1:]
        head[kept] = moments[first_ok[kept]]
        # 1 / (anchor + k) of each block's first expandable row (none: infinity).
        reach = np.full(first_ok.size, np.inf)
        reach[kept] = 1.0 / z[first_ok[kept]]
        self.arrays = (
            np.asarray(anchor, float),
            self.start,
            self.k,
            self.count,
            moments,
            first_ok,
            head,
            np.ascontiguousarray(head.T),
            reach,
        )

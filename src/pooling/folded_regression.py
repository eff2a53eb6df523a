"""The regression model's folded log posterior and its gradient, compiled with Numba.

The model of :mod:`pooling.regression` with each ``theta_i`` integrated out depends on the
groups through their distinct ``(x, N, y)`` rows (:func:`pooling.regression.fold`): each row
adds ``log Gamma(alpha_x + y) + log Gamma(beta_x + N - y)``, each distinct ``x`` subtracts
``log Gamma(alpha_x) + log Gamma(beta_x)`` and each distinct ``N`` subtracts
``log Gamma(kappa + N)``, all weighted by their numbers of groups. With many groups nearly
every row is distinct, so a log density costs two log Gammas and, for its gradient, two
digammas per row.

Here that loop is one Numba function (:func:`log_posterior`) that computes both from one log
and one reciprocal per argument (Stirling's series past 10, the recurrence below it), and
applies the chain rule to ``(a, b, log kappa)`` itself. At 10^5 synthetic groups (38,817
rows) it takes a sixth of the time of the same model written in PyTensor, whose gradient
gathers and scatters every row (``benchmarks/regression_gradient.py``). The same function
gives NUTS its gradient (:meth:`FoldedRegression.sample`, through nutpie's
``from_pyfunc``) and the exact grid its densities (:mod:`pooling.exact.regression`), so
that notebook 6's model, written with ``pm.BetaBinomial``, is the independent check of both.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pandas as pd

from pooling.regression import PRIORS

__all__ = [
    "EXPANSION_RATIO",
    "EXPANSION_TERMS",
    "STIRLING_FROM",
    "FoldedRegression",
    "log_gamma_digamma",
    "log_posterior",
]

#: Arguments from which Stirling's series gives log Gamma and digamma to 1e-14 (smaller ones
#: are shifted up by the recurrence first).
STIRLING_FROM = 10.0
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: A row takes the Taylor series about the anchor when its ``anchor + k`` is at least this
#: many times the distance of ``alpha_x`` (or ``beta_x``) from the anchor ...
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
def _series(i, v, anchor, start, k, count, moments, first_ok, head):
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
def log_posterior(point, xs, priors, successes, failures, trials, gradient):
    """The log posterior density of ``(a, b, log kappa)`` and, optionally, its gradient.

    Parameters
    ----------
    point : numpy.ndarray
        ``[a, b_1, ..., b_P, log kappa]``.
    xs : numpy.ndarray
        The distinct predictor rows, ``(X, P)``.
    priors : numpy.ndarray
        ``[a_sd, b_sd, log_kappa_mean, log_kappa_sd]``.
    successes, failures, trials : tuple
        The series in ``alpha_x``, ``beta_x`` (one block per predictor row) and ``kappa``
        (one block), as :class:`_Series` holds them.
    gradient : numpy.ndarray
        Receives the gradient (same shape as ``point``); an empty array skips it.

    Returns
    -------
    float
        Up to a constant. Minus infinity where a Beta parameter underflows to 0.
    """
    n_predictors = xs.shape[1]
    if gradient.size:
        gradient[:] = 0.0
    log_kappa = point[n_predictors + 1]
    kappa = math.exp(log_kappa)
    # Unpacked here so that Numba inlines every call of _series (arrays passed to a call
    # that is not inlined cost two atomic reference counts each).
    k_anchor, k_start, k_k, k_count, k_moments, k_first, k_head = trials
    s_anchor, s_start, s_k, s_count, s_moments, s_first, s_head = successes
    f_anchor, f_start, f_k, f_count, f_moments, f_first, f_head = failures
    value, d_kappa = _series(0, kappa, k_anchor, k_start, k_k, k_count, k_moments, k_first,
                             k_head)  # fmt: skip
    d_etas = np.empty(xs.shape[0])
    for i in range(xs.shape[0]):
        eta = point[0]
        for p in range(n_predictors):
            eta += xs[i, p] * point[p + 1]
        # mu and 1 - mu without rounding: alpha and beta stay exact far from 1/2.
        tail = math.exp(-abs(eta))
        near = kappa / (1.0 + tail)
        alpha, beta = (near, near * tail) if eta >= 0 else (near * tail, near)
        if alpha == 0.0 or beta == 0.0:
            return -math.inf
        value_a, d_alpha = _series(i, alpha, s_anchor, s_start, s_k, s_count, s_moments,
                                   s_first, s_head)  # fmt: skip
        value_b, d_beta = _series(i, beta, f_anchor, f_start, f_k, f_count, f_moments,
                                  f_first, f_head)  # fmt: skip
        value += value_a + value_b
        # alpha = mu kappa, beta = (1 - mu) kappa, d mu / d eta = mu (1 - mu).
        d_etas[i] = (d_alpha - d_beta) * alpha * beta / kappa
        d_kappa += (d_alpha * alpha + d_beta * beta) / kappa
    a_sd, b_sd, lk_mean, lk_sd = priors[0], priors[1], priors[2], priors[3]
    value -= 0.5 * (point[0] / a_sd) ** 2 + 0.5 * ((log_kappa - lk_mean) / lk_sd) ** 2
    for p in range(n_predictors):
        value -= 0.5 * (point[p + 1] / b_sd) ** 2
    if gradient.size:
        gradient[0] = d_etas.sum() - point[0] / a_sd**2
        for p in range(n_predictors):
            gradient[p + 1] = -point[p + 1] / b_sd**2
            for i in range(xs.shape[0]):
                gradient[p + 1] += d_etas[i] * xs[i, p]
        gradient[n_predictors + 1] = kappa * d_kappa - (log_kappa - lk_mean) / lk_sd**2
    return value


@numba.njit(cache=True, nogil=True, parallel=True)
def _log_posterior_at(points, xs, priors, successes, failures, trials):
    out = np.empty(points.shape[0])
    none = np.empty(0)
    for k in numba.prange(points.shape[0]):
        out[k] = log_posterior(points[k], xs, priors, successes, failures, trials, none)
    return out


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


class _Series:
    """One of the two series of log Gammas, ``alpha_x + y`` or ``beta_x + N - y``: its rows
    sorted by count within each predictor row, and its Taylor coefficients about an anchor."""

    def __init__(self, x_of: np.ndarray, k: np.ndarray, count: np.ndarray, n_x: int):
        order = np.lexsort((k, x_of))
        self.x_of, self.k, self.count = x_of[order], k[order], count[order]
        self.start = np.searchsorted(self.x_of, np.arange(n_x + 1)).astype(np.int64)
        self.arrays = (
            np.zeros(n_x),
            self.start,
            self.k,
            self.count,
            np.zeros((self.k.size, 0)),
            self.start[1:].copy(),
            np.zeros((n_x, 0)),
        )

    def expand_at(self, anchor: np.ndarray) -> None:
        """Taylor coefficients about ``anchor`` (one value per predictor row): for each row,
        ``sum c psi^(j - 1)(anchor + k) / j!`` over it and the rows after it."""
        from scipy import special

        z = anchor[self.x_of] + self.k
        terms = np.empty((z.size, EXPANSION_TERMS))
        terms[:, 0] = special.gammaln(z)
        terms[:, 1] = special.psi(z)
        for j in range(2, EXPANSION_TERMS):
            terms[:, j] = special.polygamma(j - 1, z)
        terms *= self.count[:, None]
        # Near 0 the high derivatives overflow: such rows (the first of their block, being
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
        self.arrays = (
            np.asarray(anchor, float),
            self.start,
            self.k,
            self.count,
            moments,
            first_ok,
            head,
        )


class FoldedRegression:
    """The regression model's log posterior over folded rows, for NUTS and for the grid.

    Each log density costs a few log Gammas per predictor row near the anchor, one per
    folded row far from it: :meth:`expand_at` puts the anchor at the posterior mode.

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`pooling.regression.fold`'s rows: the predictor columns, ``trials``,
        ``successes`` and ``count``.
    predictors : list of str
        The predictor columns of ``rows``.
    priors : dict, optional
        :data:`pooling.regression.PRIORS`, or some of its entries replaced.
    expand : bool, optional
        Whether to anchor the Taylor series at the posterior mode now (else every row takes
        its log Gammas until :meth:`expand_at`).
    """

    def __init__(self, rows: pd.DataFrame, predictors: list[str], priors: dict | None = None,
                 expand: bool = True):  # fmt: skip
        p = {**PRIORS, **(priors or {})}
        self.predictors = list(predictors)
        self.priors = p
        rated = rows[rows["trials"] > 0]  # groups without trials add nothing
        count = rated["count"].to_numpy(float)
        xs, x_of = np.unique(rated[self.predictors].to_numpy(float).reshape(len(rated), -1),
                             axis=0, return_inverse=True)  # fmt: skip
        x_of = x_of.ravel().astype(np.int64)
        trials, y = rated["trials"].to_numpy(float), rated["successes"].to_numpy(float)
        ns, n_of = np.unique(trials, return_inverse=True)
        self.xs = np.ascontiguousarray(xs.reshape(-1, len(self.predictors)))
        n_x = len(xs)
        # Each predictor row also subtracts log Gamma(alpha_x) + log Gamma(beta_x) per
        # group: a row with k = 0 and minus its groups. kappa's series is one block:
        # - log Gamma(kappa + N) per group, + log Gamma(kappa) per group.
        own, minus = np.arange(n_x), -np.bincount(x_of, count, n_x)
        self._series = (
            _Series(np.r_[x_of, own], np.r_[y, np.zeros(n_x)], np.r_[count, minus], n_x),
            _Series(np.r_[x_of, own], np.r_[trials - y, np.zeros(n_x)], np.r_[count, minus],
                    n_x),
            _Series(np.zeros(len(ns) + 1, np.int64), np.r_[ns, 0.0],
                    np.r_[-np.bincount(n_of.ravel(), count, len(ns)), count.sum()], 1),
        )  # fmt: skip
        self._priors = np.array([p["a_sd"], p["b_sd"], p["log_kappa_mean"],
                                 p["log_kappa_sd"]])  # fmt: skip
        pooled = (y @ count + 0.5) / (trials @ count + 1)
        #: Where the chains start from (before their jitter): the pooled rate, no slope.
        self.centre = np.r_[math.log(pooled / (1 - pooled)), np.zeros(len(self.predictors)),
                            p["log_kappa_mean"]]  # fmt: skip
        #: Where the Taylor series are anchored (None: nowhere yet).
        self.anchor = None
        if expand:
            self.expand_at(self.mode())

    def _data(self):
        return (self.xs, self._priors, *(series.arrays for series in self._series))

    def mode(self) -> np.ndarray:
        """The posterior mode of ``[a, b..., log kappa]`` (BFGS from :attr:`centre`)."""
        from scipy import optimize

        def negative(point):
            value, gradient = self.value_and_gradient(point)
            return -value, -gradient

        found = optimize.minimize(negative, self.centre, jac=True, method="BFGS",
                                  options={"gtol": 1e-8})  # fmt: skip
        return found.x

    def expand_at(self, point) -> None:
        """Anchor the Taylor series of every row at ``point`` (``[a, b..., log kappa]``)."""
        point = self.anchor = np.asarray(point, float)
        eta = point[0] + self.xs @ point[1:-1]
        log_kappa = point[-1]
        self._series[0].expand_at(np.exp(log_kappa - np.logaddexp(0, -eta)))
        self._series[1].expand_at(np.exp(log_kappa - np.logaddexp(0, eta)))
        self._series[2].expand_at(np.exp([log_kappa]))

    @property
    def n_dim(self) -> int:
        """Free parameters: ``a``, one slope per predictor, ``log kappa``."""
        return len(self.predictors) + 2

    def value_and_gradient(self, point) -> tuple[float, np.ndarray]:
        """The log posterior density at ``[a, b..., log kappa]`` and its gradient."""
        gradient = np.empty(self.n_dim)
        value = log_posterior(np.asarray(point, float), *self._data(), gradient)
        return float(value), gradient

    def log_density(self, points) -> np.ndarray:
        """The log posterior density at each row of ``points`` (``[a, b..., log kappa]``),
        up to a constant, on every core."""
        points = np.ascontiguousarray(np.asarray(points, float).reshape(-1, self.n_dim))
        return _log_posterior_at(points, *self._data())

    def compiled(self):
        """The model as nutpie takes it (``nutpie.compiled_pyfunc.from_pyfunc``)."""
        from nutpie.compiled_pyfunc import from_pyfunc

        n_predictors, centre = len(self.predictors), self.centre

        def make_logp_fn():
            return lambda point, **_: self.value_and_gradient(point)

        def make_expand_fn(*_):
            def expand(point, **_):
                return {"a": np.array(point[0]), "b": np.array(point[1 : n_predictors + 1]),
                        "kappa": np.array(math.exp(point[-1]))}  # fmt: skip

            return expand

        def initial_point(seed):
            # As PyMC's default: uniform jitter of +-1 about the centre, on the free scale.
            return centre + np.random.default_rng(seed).uniform(-1, 1, centre.size)

        return from_pyfunc(
            self.n_dim, make_logp_fn, make_expand_fn, [np.dtype("float64")] * 3,
            [(), (n_predictors,), ()], ["a", "b", "kappa"],
            coords={"predictor": self.predictors}, dims={"b": ("predictor",)},
            make_initial_point_fn=initial_point,
        )  # fmt: skip

    def sample(self, *, draws: int, tune: int, chains: int, target_accept: float, seed: int,
               mass_matrix: str = "low rank"):  # fmt: skip
        """NUTS (nutpie) on the folded model.

        Parameters
        ----------
        draws, tune, chains : int
        target_accept : float
        seed : int
            The same seed gives the same draws on the same machine.
        mass_matrix : {"diagonal", "low rank"}, optional
            As :data:`pooling.fits.MASS_MATRICES`; by default the low-rank one, which follows
            the correlation of ``a`` and ``b``.

        Returns
        -------
        xarray.DataTree
            Posterior of ``a``, ``b`` (dim ``predictor``) and ``kappa``, with sample
            statistics.
        """
        import nutpie

        from pooling.fits import MASS_MATRICES

        return nutpie.sample(
            self.compiled(), draws=draws, tune=tune, chains=chains,
            target_accept=target_accept, seed=seed, progress_bar=False,
            **MASS_MATRICES[mass_matrix][0],
        )  # fmt: skip

"""The regression model's folded log posterior and its gradient, compiled with Numba.

The model of :mod:`pooling.regression` with each ``theta_i`` integrated out depends on the
groups through their distinct ``(x, N, y)`` rows (:func:`pooling.regression.fold`): each row
adds ``log Gamma(alpha_x + y) + log Gamma(beta_x + N - y)``, each distinct ``x`` subtracts
``log Gamma(alpha_x) + log Gamma(beta_x)`` and each distinct ``N`` subtracts
``log Gamma(kappa + N)``, all weighted by their numbers of groups. With many groups nearly
every row is distinct: two log Gammas and two digammas per row and gradient.

:func:`log_posterior` computes the density and its gradient in ``(a, b, log kappa)`` in one
Numba pass, with these sums held as :class:`pooling.log_gamma_sums.GammaSeries`, one block
per predictor row (and one for ``kappa``), anchored at the posterior mode: near the mode a
predictor row costs a few Taylor terms, however many rows it has, and the rows' series are
summed together (:func:`pooling.log_gamma_sums.series_sums`). With ``log_trials`` a gradient
costs about 0.1 ms at 10^5 and at 10^6 synthetic groups, against 3.4 and 17 ms for the same
model in PyTensor (``benchmarks/regression_gradient.py``). The same function gives
NUTS its gradient (:meth:`FoldedRegression.sample`, through nutpie's ``from_pyfunc``) and the
exact grid its densities (:mod:`pooling.exact.regression`); notebook 6's model, written with
``pm.BetaBinomial``, checks both.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pandas as pd

from pooling.log_gamma_sums import GammaSeries, series_sum, series_sums
from pooling.regression import PRIORS

__all__ = ["FoldedRegression", "log_posterior"]


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
        (one block), as :class:`pooling.log_gamma_sums.GammaSeries` holds them.
    gradient : numpy.ndarray
        Receives the gradient (same shape as ``point``); an empty array skips it.

    Returns
    -------
    float
        Up to a constant. Minus infinity where a Beta parameter underflows to 0.
    """
    n_predictors, n_x = xs.shape[1], xs.shape[0]
    if gradient.size:
        gradient[:] = 0.0
    log_kappa = point[n_predictors + 1]
    kappa = math.exp(log_kappa)
    # Unpacked here so that Numba inlines series_sum (arrays passed to a call that is not
    # inlined cost two atomic reference counts each).
    k_anchor, k_start, k_k, k_count, k_moments, k_first, k_head, _, _ = trials
    value, d_kappa = series_sum(
        0, kappa, k_anchor, k_start, k_k, k_count, k_moments, k_first, k_head
    )
    alphas, betas = np.empty(n_x), np.empty(n_x)
    for i in range(n_x):
        eta = point[0]
        for p in range(n_predictors):
            eta += xs[i, p] * point[p + 1]
        # mu and 1 - mu without rounding: alpha and beta stay exact far from 1/2.
        tail = math.exp(-abs(eta))
        near = kappa / (1.0 + tail)
        alphas[i], betas[i] = (near, near * tail) if eta >= 0 else (near * tail, near)
        if alphas[i] == 0.0 or betas[i] == 0.0:
            return -math.inf
    d_alphas, d_betas = np.empty(n_x), np.empty(n_x)
    value += series_sums(alphas, *successes, d_alphas) + series_sums(betas, *failures, d_betas)
    d_etas = np.empty(n_x)
    for i in range(n_x):
        # alpha = mu kappa, beta = (1 - mu) kappa, d mu / d eta = mu (1 - mu).
        d_etas[i] = (d_alphas[i] - d_betas[i]) * alphas[i] * betas[i] / kappa
        d_kappa += (d_alphas[i] * alphas[i] + d_betas[i] * betas[i]) / kappa
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


class FoldedRegression:
    """The regression model's log posterior over folded rows, for NUTS and for the grid.

    Each log density costs a few Taylor terms per predictor row near the anchor, a log Gamma
    per folded row far from it: :meth:`expand_at` puts the anchor at the posterior mode.

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
            GammaSeries(np.r_[x_of, own], np.r_[y, np.zeros(n_x)], np.r_[count, minus], n_x),
            GammaSeries(np.r_[x_of, own], np.r_[trials - y, np.zeros(n_x)],
                        np.r_[count, minus], n_x),
            GammaSeries(np.zeros(len(ns) + 1, np.int64), np.r_[ns, 0.0],
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
        from pooling.function_fits import posterior_mode

        return posterior_mode(self.value_and_gradient, self.centre)

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
        from pooling.function_fits import sample_function

        n_predictors = len(self.predictors)

        def expand(point):
            return {"a": np.array(point[0]), "b": np.array(point[1 : n_predictors + 1]),
                    "kappa": np.array(math.exp(point[-1]))}  # fmt: skip

        return sample_function(
            self.value_and_gradient, expand, {"a": (), "b": (n_predictors,), "kappa": ()},
            self.centre, draws=draws, tune=tune, chains=chains, target_accept=target_accept,
            seed=seed, mass_matrix=mass_matrix, coords={"predictor": self.predictors},
            dims={"b": ("predictor",)},
        )  # fmt: skip

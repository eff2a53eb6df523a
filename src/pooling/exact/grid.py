"""Exact posterior of the hierarchical model, on a grid over its two hyperparameters.

The hierarchical model

    alpha, beta ~ HalfNormal(sigma),   theta_i ~ Beta(alpha, beta),   y_i ~ Binomial(N_i, theta_i)

has no closed form, but integrating each ``theta_i`` out leaves a beta-binomial likelihood, so
``p(alpha, beta | y)`` is two-dimensional and is computed on a grid in ``(log alpha, log beta)``
(the Jacobian of the log transform is ``alpha * beta``), as in BDA3's analysis [1]_ of the
rat-tumour data [2]_. The rates (:mod:`pooling.exact.rates`), which shrink towards the
population mean as Efron and Morris's batting averages do [3]_, and the predictions
(:mod:`pooling.exact.predictive`) follow from the grid weights.

References
----------
.. [1] Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B.
   (2013). *Bayesian Data Analysis*, 3rd ed., chapter 5. CRC Press.
.. [2] Tarone, R. E. (1982). The use of historical control information in testing for a
   trend in proportions. *Biometrics* 38, 215-220.
.. [3] Efron, B. and Morris, C. (1975). Data analysis using Stein's estimator and its
   generalizations. *Journal of the American Statistical Association* 70, 311-319.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import special
from scipy.interpolate import CubicSpline

from pooling.exact.conjugate import SUMMARY_COLUMNS
from pooling.exact.numerics import mu_kappa_to_log_ab, quantiles_from_density, refine_maximum
from pooling.exact.predictive import PredictiveMixin
from pooling.exact.rates import RatesMixin

__all__ = ["HYPER_SIGMA", "HierarchicalPosterior"]

#: Scale of the HalfNormal priors on alpha and beta in the hierarchical model.
HYPER_SIGMA = 10.0


def _tally(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct non-zero values and how often each occurs."""
    distinct, counts = np.unique(values[values != 0], return_counts=True)
    return distinct, counts.astype(float)


class HierarchicalPosterior(RatesMixin, PredictiveMixin):
    """Exact posterior of the hierarchical beta-binomial model, computed on a grid.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group name with columns ``trials`` and ``successes``. Any number of groups;
        groups with identical counts share their likelihood terms (see :meth:`log_density`).
    sigma : float, optional
        Scale of the ``HalfNormal`` priors on ``alpha`` and ``beta``.
    n_grid : int, optional
        Grid points per axis. The grid's extent is chosen from a coarse pass so that it
        holds all but a negligible part of the mass (see :attr:`edge_mass`).

    Notes
    -----
    Two grids carry the same density: a rectangle in ``(log alpha, log beta)``, whose axis
    sums give the marginals of ``alpha`` and ``beta``, and a sheared copy in
    ``(logit mu, log(alpha + beta))``, whose axis sums give the marginal of
    ``mu = alpha / (alpha + beta)``. The shear is linear with unit Jacobian, so the density
    per unit area is the same on both.
    """

    def __init__(self, groups: pd.DataFrame, sigma: float = HYPER_SIGMA, n_grid: int = 201):
        self.names = list(groups.index)
        self.trials = groups["trials"].to_numpy(dtype=float)
        self.successes = groups["successes"].to_numpy(dtype=float)
        # The likelihood is a sum of log rising factorials, log Gamma(x + k) - log Gamma(x), for
        # x = alpha (k = y), beta (k = n - y) and alpha + beta (k = n): each distinct k once,
        # weighted by how often it occurs (k = 0 adds nothing).
        n, y = self.trials, self.successes
        self._rising = [_tally(k) for k in (y, n - y, n)]
        self.sigma = float(sigma)
        self.n_grid = int(n_grid)

    # -- density ------------------------------------------------------------------------
    def log_density(self, log_a: np.ndarray, log_b: np.ndarray) -> np.ndarray:
        """Unnormalised log posterior density per unit area of ``(log alpha, log beta)``.

        Parameters
        ----------
        log_a, log_b : array_like
            Points at which to evaluate (broadcast together).

        Returns
        -------
        numpy.ndarray
            Log prior (HalfNormal on each) + log Jacobian + beta-binomial log likelihood,
            up to a constant.
        """
        log_a, log_b = np.broadcast_arrays(np.asarray(log_a, float), np.asarray(log_b, float))
        a, b = np.exp(log_a), np.exp(log_b)
        out = -(a**2 + b**2) / (2 * self.sigma**2) + log_a + log_b
        # log B(a + y, b + n - y) - log B(a, b) as three log rising factorials: betaln itself
        # loses all precision when a or b is tiny, far out in the grid's corners.
        for x, sign, (steps, counts) in zip((a, b, a + b), (1, 1, -1), self._rising, strict=True):
            log_gamma_x = special.gammaln(x)
            for k, count in zip(steps, counts, strict=True):
                out = out + sign * count * (special.gammaln(x + k) - log_gamma_x)
        return out

    def _grid(self, to_log_ab, box: tuple[float, float, float, float]):
        """Adaptive grid: a coarse pass finds where the mass is, a fine pass integrates it."""
        lo1, hi1, lo2, hi2 = box
        coarse1, coarse2 = np.linspace(lo1, hi1, 161), np.linspace(lo2, hi2, 161)
        lp = self.log_density(*to_log_ab(*np.meshgrid(coarse1, coarse2, indexing="ij")))
        # Keep everything within exp(-40) of the peak, padded by two coarse steps.
        keep1, keep2 = np.nonzero(lp > lp.max() - 40)
        step1, step2 = coarse1[1] - coarse1[0], coarse2[1] - coarse2[0]
        x1 = np.linspace(
            max(lo1, coarse1[keep1.min()] - 2 * step1),
            min(hi1, coarse1[keep1.max()] + 2 * step1),
            self.n_grid,
        )
        x2 = np.linspace(
            max(lo2, coarse2[keep2.min()] - 2 * step2),
            min(hi2, coarse2[keep2.max()] + 2 * step2),
            self.n_grid,
        )
        lp = self.log_density(*to_log_ab(*np.meshgrid(x1, x2, indexing="ij")))
        weights = np.exp(lp - lp.max())
        return x1, x2, weights / weights.sum(), lp

    @cached_property
    def _ab_grid(self):
        return self._grid(lambda u, v: (u, v), (-16.0, 7.0, -16.0, 7.0))

    @cached_property
    def _mu_grid(self):
        return self._grid(mu_kappa_to_log_ab, (-25.0, 25.0, -16.0, 8.0))

    @property
    def edge_mass(self) -> float:
        """Largest share of the posterior mass on the outermost rows and columns of a grid."""
        masses = []
        for _, _, w, _ in (self._ab_grid, self._mu_grid):
            masses.append(w[0].sum() + w[-1].sum() + w[:, 0].sum() + w[:, -1].sum())
        return float(max(masses))

    # -- the hyperparameters ---------------------------------------------------------------
    def _hyper_rows(self) -> dict[str, list[float]]:
        u, v, w, _ = self._ab_grid
        rows = {}
        for name, x, marginal in (("alpha", u, w.sum(axis=1)), ("beta", v, w.sum(axis=0))):
            values = np.exp(x)
            mean = marginal @ values
            sd = np.sqrt(marginal @ values**2 - mean**2)
            q = np.exp(quantiles_from_density(x, marginal))
            rows[name] = [mean, sd, *q]
        eta, _, w_mu, _ = self._mu_grid
        marginal = w_mu.sum(axis=1)
        mu = special.expit(eta)
        mean = marginal @ mu
        sd = np.sqrt(marginal @ mu**2 - mean**2)
        rows["mu"] = [mean, sd, *special.expit(quantiles_from_density(eta, marginal))]
        return rows

    def _log_scale_pdf(self, x: np.ndarray, axis: int) -> np.ndarray:
        """Marginal density of ``alpha`` (axis 0) or ``beta`` (axis 1) at ``x > 0``."""
        u, v, w, _ = self._ab_grid
        grid = (u, v)[axis]
        # Density per unit log value, interpolated, then per unit value (divide by x).
        spline = CubicSpline(grid, w.sum(axis=1 - axis) / (grid[1] - grid[0]))
        x = np.atleast_1d(np.asarray(x, float))
        log_x = np.log(x)
        inside = (log_x >= grid[0]) & (log_x <= grid[-1])
        return np.where(inside, spline(np.clip(log_x, grid[0], grid[-1])), 0.0) / x

    def alpha_pdf(self, x) -> np.ndarray:
        """Exact marginal posterior density of ``alpha``.

        Parameters
        ----------
        x : array_like
            Points > 0.

        Returns
        -------
        numpy.ndarray
        """
        return self._log_scale_pdf(x, 0)

    def beta_pdf(self, x) -> np.ndarray:
        """Exact marginal posterior density of ``beta``.

        Parameters
        ----------
        x : array_like
            Points > 0.

        Returns
        -------
        numpy.ndarray
        """
        return self._log_scale_pdf(x, 1)

    def mu_pdf(self, mu: np.ndarray) -> np.ndarray:
        """Exact marginal posterior density of ``mu = alpha / (alpha + beta)``.

        Parameters
        ----------
        mu : array_like
            Points in (0, 1).

        Returns
        -------
        numpy.ndarray
            The density, normalised over (0, 1).
        """
        eta_grid, kappa, w, lp = self._mu_grid
        d_eta, d_kappa = eta_grid[1] - eta_grid[0], kappa[1] - kappa[0]
        # Normalising constant of the grid density, then integrate kappa out at each mu.
        log_z = lp.max() + np.log(np.exp(lp - lp.max()).sum() * d_eta * d_kappa)
        mu = np.atleast_1d(np.asarray(mu, float))
        eta = special.logit(mu)
        lp_at = self.log_density(*mu_kappa_to_log_ab(eta[:, None], kappa[None, :]))
        p_eta = np.exp(lp_at - log_z).sum(axis=1) * d_kappa
        return p_eta / (mu * (1 - mu))

    @cached_property
    def mu_mode(self) -> float:
        """Mode of the marginal posterior density of ``mu`` (its MAP)."""
        eta = self._mu_grid[0]
        return refine_maximum(self.mu_pdf, special.expit(eta[(eta > -15) & (eta < 15)]))

    def summary(self, names=None) -> pd.DataFrame:
        """Exact posterior summary of every quantity the notebooks report.

        Parameters
        ----------
        names : sequence of str, optional
            Groups whose ``theta`` to include; default every group.

        Returns
        -------
        pandas.DataFrame
            Rows ``alpha``, ``beta``, ``mu``, ``theta[<group>]`` for each group and
            ``theta_new`` (a new group); columns ``mean``, ``sd``, ``q03``, ``q97``.
        """
        rows = self._hyper_rows()
        for name in self.names if names is None else names:
            rows[f"theta[{name}]"] = self._mixture_row(*self._extra(name))
        rows["theta_new"] = self._mixture_row(0.0, 0.0)
        return pd.DataFrame.from_dict(rows, orient="index", columns=SUMMARY_COLUMNS).rename_axis(
            "quantity"
        )

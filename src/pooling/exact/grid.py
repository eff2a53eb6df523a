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
from scipy import optimize, special
from scipy.interpolate import CubicSpline

from pooling.exact import numerics
from pooling.exact.conjugate import SUMMARY_COLUMNS
from pooling.exact.numerics import mu_kappa_to_log_ab, quantiles_from_density, refine_maximum
from pooling.exact.predictive import PredictiveMixin
from pooling.exact.rates import RatesMixin
from pooling.folded import rising_terms

__all__ = ["EDGE_MAX", "HYPER_SIGMA", "NEFF_MIN", "HierarchicalPosterior"]

#: Scale of the HalfNormal priors on alpha and beta in the hierarchical model.
HYPER_SIGMA = 10.0


#: Fewest effective grid points (1 / sum of squared weights) for a grid to count as resolving
#: the posterior; every classic table in data/ has at least 332 at the first try.
NEFF_MIN = 300
#: Most posterior mass on a grid's outermost rows and columns.
EDGE_MAX = 1e-9


def _resolved(grid, box) -> bool:
    """Whether a grid resolves the posterior: :data:`NEFF_MIN` effective points, and at most
    :data:`EDGE_MAX` of the mass on an edge, other than an edge of ``box`` itself (the
    outermost extent, beyond which the density is negligible or the prior's own tail)."""
    x1, x2, w, _ = grid
    lo1, hi1, lo2, hi2 = box
    edges = [(w[0], x1[0] > lo1), (w[-1], x1[-1] < hi1), (w[:, 0], x2[0] > lo2),
             (w[:, -1], x2[-1] < hi2)]  # fmt: skip
    edge = sum(float(row.sum()) for row, inner in edges if inner)
    return edge <= EDGE_MAX and 1 / np.sum(w**2) >= NEFF_MIN


class HierarchicalPosterior(RatesMixin, PredictiveMixin):
    """Exact posterior of the hierarchical beta-binomial model, computed on a grid.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group name with columns ``trials`` and ``successes``. Any number of groups;
        groups with identical counts share their likelihood terms (see :meth:`log_density`).
        A folded table (:func:`pooling.estimates.fold`, indexed by pair) has the same
        posterior when its ``count`` column says how many groups each row stands for.
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
        self._rising = rising_terms(groups)
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
        # log B(a + y, b + n - y) - log B(a, b) as three sums of logs (RisingTerms.evaluate):
        # betaln itself loses all precision when a or b is tiny, far out in the grid's corners.
        return out + self._rising.evaluate(a, b)

    def _grid(self, to_log_ab, box: tuple[float, float, float, float], start=None):
        """Adaptive grid: a coarse pass finds where the mass is, a fine pass integrates it.

        When the posterior is too narrow for that (many groups: fewer than
        :data:`NEFF_MIN` effective points, or mass on the edge), the grid zooms in on it
        (:meth:`_zoom`), from ``start`` when given: then there is no coarse or fine pass.
        Returns the grid and whether it zoomed.
        """
        if start is not None:
            return self._zoom(to_log_ab, box, start), True
        lo1, hi1, lo2, hi2 = box
        coarse1, coarse2 = np.linspace(lo1, hi1, 161), np.linspace(lo2, hi2, 161)
        lp = self.log_density(*to_log_ab(*np.meshgrid(coarse1, coarse2, indexing="ij")))
        x1, x2 = self._around_mass(coarse1, coarse2, lp, box)
        grid = self._evaluate(to_log_ab, x1, x2)
        if not _resolved(grid, box):
            x1, x2, w, _ = grid
            i, j = np.unravel_index(np.argmax(w), w.shape)
            return self._zoom(to_log_ab, box, np.array([x1[i], x2[j]])), True
        return grid, False

    def _around_mass(self, x1, x2, lp, box):
        """Fine axes over everything within exp(-40) of the peak, padded by two steps."""
        lo1, hi1, lo2, hi2 = box
        keep1, keep2 = np.nonzero(lp > lp.max() - 40)
        return self._padded(x1, keep1, lo1, hi1), self._padded(x2, keep2, lo2, hi2)

    def _padded(self, x, keep, lo, hi):
        step = x[1] - x[0]
        return np.linspace(max(lo, x[keep.min()] - 2 * step), min(hi, x[keep.max()] + 2 * step),
                           self.n_grid)  # fmt: skip

    def _evaluate(self, to_log_ab, x1, x2):
        lp = self.log_density(*to_log_ab(*np.meshgrid(x1, x2, indexing="ij")))
        weights = np.exp(lp - lp.max())
        return x1, x2, weights / weights.sum(), lp

    def _zoom(self, to_log_ab, box, start: np.ndarray):
        """A grid for a narrow posterior: centred on the mode, then refitted to the mass.

        The mode is found by optimisation from the grid's best point, and its spread from
        the curvature there (the Laplace approximation), so that a ridge narrower than the
        coarse pass's step is found wherever it lies. The grid then spans 10 of those
        standard deviations each way and is redrawn around everything within exp(-40) of
        its peak until it holds the mass well inside and has :data:`NEFF_MIN` effective
        points.
        """

        def negative(point):
            return -float(self.log_density(*to_log_ab(point[0], point[1])))

        lo1, hi1, lo2, hi2 = box
        tolerances = {"xatol": 1e-10, "fatol": 1e-10, "maxiter": 4000}
        found = optimize.minimize(negative, start, method="Nelder-Mead",
                                  bounds=[(lo1, hi1), (lo2, hi2)], options=tolerances)  # fmt: skip
        steps = 1e-4 * np.maximum(1.0, np.abs(found.x))
        mode, sd = found.x, numerics.laplace_sd(negative, found.x, steps)
        spans = [(m - 10 * s, m + 10 * s) for m, s in zip(mode, sd, strict=True)]
        limits = [(lo1, hi1), (lo2, hi2)]
        for _ in range(8):
            axes = [np.linspace(max(lo, a), min(hi, b), self.n_grid)
                    for (a, b), (lo, hi) in zip(spans, limits, strict=True)]  # fmt: skip
            grid = self._evaluate(to_log_ab, *axes)
            if _resolved(grid, box):
                break
            # Redraw around the mass: its extent, or twice the span towards an edge it reaches.
            lp = grid[3]
            new_spans = []
            for axis, x in enumerate(axes):
                kept = np.nonzero((lp > lp.max() - 40).any(axis=1 - axis))[0]
                step, width = x[1] - x[0], x[-1] - x[0]
                low = x[0] - width if kept[0] == 0 else x[kept[0]] - 2 * step
                high = x[-1] + width if kept[-1] == len(x) - 1 else x[kept[-1]] + 2 * step
                new_spans.append((low, high))
            # A mass that already fills the grid is as resolved as this many points make it
            # (a ridge across the grid's axes): a redraw would change nothing.
            if all(b - a > 0.8 * (x[-1] - x[0]) for (a, b), x in zip(new_spans, axes, strict=True)):
                break
            spans = new_spans
        return grid

    @cached_property
    def _ab_fit(self):
        """The ``(log alpha, log beta)`` grid, and whether it had to zoom in."""
        return self._grid(lambda u, v: (u, v), (-16.0, 7.0, -16.0, 7.0))

    @property
    def _ab_grid(self):
        return self._ab_fit[0]

    @cached_property
    def _mu_grid(self):
        (u, v, w, _), zoomed = self._ab_fit
        start = None
        if zoomed:
            # A narrow posterior, as narrow in these coordinates: zoom in at once, from the
            # other grid's mode (with many groups a coarse pass costs as much as the zoom).
            i, j = np.unravel_index(np.argmax(w), w.shape)
            start = np.array([u[i] - v[j], np.logaddexp(u[i], v[j])])
        return self._grid(mu_kappa_to_log_ab, (-25.0, 25.0, -16.0, 8.0), start)[0]

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

    def hyper_draws(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Independent draws of ``(alpha, beta)`` from the grid posterior.

        Each draw is a grid point chosen with its weight, moved uniformly within its cell, so
        that draws do not repeat the grid's values.

        Parameters
        ----------
        n : int
            Number of draws.
        rng : numpy.random.Generator
            The caller's generator.

        Returns
        -------
        tuple of numpy.ndarray
            ``(alpha, beta)``, each of length ``n``.
        """
        u, v, w, _ = self._ab_grid
        i, j = np.unravel_index(rng.choice(w.size, n, p=w.ravel()), w.shape)
        du, dv = u[1] - u[0], v[1] - v[0]
        log_a = u[i] + rng.uniform(-du / 2, du / 2, n)
        log_b = v[j] + rng.uniform(-dv / 2, dv / 2, n)
        return np.exp(log_a), np.exp(log_b)

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
        eta_grid, kappa, _, _ = self._mu_grid
        mu = np.atleast_1d(np.asarray(mu, float))
        eta = special.logit(mu)
        # The grid holds everything within exp(-40) of the peak: beyond it the density is 0
        # to double precision, and costs nothing (most of a plot's range, with many groups).
        inside = (eta >= eta_grid[0]) & (eta <= eta_grid[-1])
        p_eta = np.zeros(mu.shape)
        lp_at = self.log_density(*mu_kappa_to_log_ab(eta[inside, None], kappa[None, :]))
        p_eta[inside] = self._kappa_integral(lp_at)
        return p_eta / (mu * (1 - mu))

    def _kappa_integral(self, lp: np.ndarray) -> np.ndarray:
        """The normalised density per unit ``logit mu``, from log densities on the grid's
        ``kappa`` axis (last axis of ``lp``)."""
        eta_grid, kappa, _, grid_lp = self._mu_grid
        d_eta, d_kappa = eta_grid[1] - eta_grid[0], kappa[1] - kappa[0]
        # Normalising constant of the grid density, then integrate kappa out at each mu.
        peak = grid_lp.max()
        log_z = peak + np.log(np.exp(grid_lp - peak).sum() * d_eta * d_kappa)
        return np.exp(lp - log_z).sum(axis=-1) * d_kappa

    @cached_property
    def mu_mode(self) -> float:
        """Mode of the marginal posterior density of ``mu`` (its MAP)."""
        eta, _, _, lp = self._mu_grid
        inside = (eta > -15) & (eta < 15)
        mu = special.expit(eta[inside])
        # The density at the grid's own points from the log densities it holds: the search
        # evaluates afresh only between the best point's neighbours.
        at_grid = self._kappa_integral(lp[inside]) / (mu * (1 - mu))
        return refine_maximum(self.mu_pdf, mu, values=at_grid)

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

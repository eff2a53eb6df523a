"""Exact posterior of the regression model with one predictor, on a grid over ``(a, b, log kappa)``.

The model of :mod:`pooling.regression`, with each ``theta_i`` integrated out, has a
three-dimensional posterior when there is one predictor. It is computed here on a regular
grid in ``(a, b, log kappa)``, independent of any sampler: the grid's box starts from the
Laplace approximation at the mode and is redrawn until it holds everything within
``exp(-PEAK_DROP)`` of the peak, as :mod:`pooling.exact.grid` does for ``(log alpha, log
beta)``. The densities come from :class:`pooling.folded_regression.FoldedRegression`, on
every core; notebook 6's model, written with ``pm.BetaBinomial``, checks them.
The rates follow as finite mixtures of Betas over the grid's weights. Past one predictor the
grid would need too many points; there simulation-based calibration (notebook 5) checks the
fit, and the estimates run says so.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import special

from pooling.exact.conjugate import QUANTILES, SUMMARY_COLUMNS
from pooling.exact.numerics import laplace_sd, mixture_quantile, quantiles_from_density
from pooling.folded_regression import FoldedRegression
from pooling.regression import PRIORS, fold

__all__ = ["PEAK_DROP", "RegressionPosterior"]

#: The grid holds every point whose density is within ``exp(-PEAK_DROP)`` of the peak: the
#: rest carries less than 1e-9 of the mass.
PEAK_DROP = 30.0
#: The box never extends past this many prior standard deviations from the prior's centre.
PRIOR_SDS = 10.0
#: Terms (grid points times folded rows) that a final grid may cost: small tables get more
#: points per axis than :attr:`RegressionPosterior.n_grid`, up to :data:`MOST_POINTS`.
GRID_TERMS = 300_000_000
MOST_POINTS = 61
#: Mass left out of the mixtures of the rates (the grid's smallest weights).
NEGLIGIBLE = 1e-12
#: Fewest effective grid points (1 / sum of squared weights): in three dimensions, about half
#: a standard deviation between points (0.7 or less).
NEFF_MIN = 100


def _clipped(spans, limits):
    return [(max(lo, floor), min(hi, ceiling))
            for (lo, hi), (floor, ceiling) in zip(spans, limits, strict=True)]  # fmt: skip


class RegressionPosterior:
    """Exact posterior of the one-predictor regression model, computed on a grid.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group, columns ``trials`` and ``successes``.
    design : pandas.DataFrame
        One predictor column (:func:`pooling.predictors.design`), in the groups' order.
    priors : dict, optional
        :data:`pooling.regression.PRIORS`, or some of its entries replaced.
    n_grid : int, optional
        Fewest grid points per axis of the final grid (more for small tables:
        :data:`GRID_TERMS`).
    folded : FoldedRegression, optional
        The same groups' folded log posterior, when it is at hand already.

    Raises
    ------
    ValueError
        With more than one predictor column.
    """

    def __init__(self, groups: pd.DataFrame, design: pd.DataFrame, priors: dict | None = None,
                 n_grid: int = 25, folded: FoldedRegression | None = None):  # fmt: skip
        if design.shape[1] != 1:
            raise ValueError(f"the exact grid takes one predictor, not {design.shape[1]} "
                             f"({', '.join(design.columns)}); past one, SBC is the "
                             "check")  # fmt: skip
        self.names = list(groups.index)
        self.predictor = design.columns[0]
        self.priors = {**PRIORS, **(priors or {})}
        self.n_grid = int(n_grid)
        self.x = design.iloc[:, 0].to_numpy(float)
        self.trials = groups["trials"].to_numpy(float)
        self.successes = groups["successes"].to_numpy(float)
        rows, _ = fold(groups, design)
        self._n_rows = int((rows["trials"] > 0).sum())
        self._folded = folded or FoldedRegression(rows, [self.predictor], self.priors)

    # -- density ------------------------------------------------------------------------
    def log_density(self, a, b, log_kappa) -> np.ndarray:
        """Unnormalised log posterior density per unit volume of ``(a, b, log kappa)``.

        Parameters
        ----------
        a, b, log_kappa : array_like
            Points (broadcast together).

        Returns
        -------
        numpy.ndarray
            Log prior + beta-binomial log likelihood, up to a constant.
        """
        a, b, lk = np.broadcast_arrays(*(np.asarray(v, float) for v in (a, b, log_kappa)))
        points = np.stack([a.ravel(), b.ravel(), lk.ravel()], axis=1)
        return self._folded.log_density(points).reshape(a.shape)

    # -- the grid -------------------------------------------------------------------------
    @cached_property
    def mode(self) -> np.ndarray:
        """The posterior mode of ``(a, b, log kappa)``."""
        return self._folded.mode() if self._folded.anchor is None else self._folded.anchor

    def _evaluate(self, axes):
        lp = self.log_density(*np.meshgrid(*axes, indexing="ij"))
        lp = np.where(np.isnan(lp), -np.inf, lp)  # overflow far out: no mass there
        w = np.exp(lp - lp.max())
        return axes, w / w.sum(), lp

    @cached_property
    def grid(self):
        """``(axes, weights, log densities)``: three axes of :attr:`n_grid` points each.

        The box starts at 8 Laplace standard deviations each way from the mode and is redrawn
        (on a coarse grid of 15 points per axis) around everything within
        ``exp(-PEAK_DROP)`` of the peak, with a coarse step to spare: three times as wide
        towards an edge that the mass reaches, never past :data:`PRIOR_SDS` prior standard
        deviations. The final grid has more points per axis until it has
        :data:`NEFF_MIN` effective points.
        """
        mode = self.mode
        sd = laplace_sd(lambda point: -float(self.log_density(*point)), mode, np.full(3, 1e-3))
        p = self.priors
        limits = [(-PRIOR_SDS * p["a_sd"], PRIOR_SDS * p["a_sd"]),
                  (-PRIOR_SDS * p["b_sd"], PRIOR_SDS * p["b_sd"]),
                  (p["log_kappa_mean"] - PRIOR_SDS * p["log_kappa_sd"],
                   p["log_kappa_mean"] + PRIOR_SDS * p["log_kappa_sd"])]  # fmt: skip
        spans = [(m - 8 * s, m + 8 * s) for m, s in zip(mode, sd, strict=True)]
        for _ in range(12):
            spans = _clipped(spans, limits)
            axes = [np.linspace(lo, hi, 15) for lo, hi in spans]
            kept = self._evaluate(axes)[2]
            kept = kept > kept.max() - PEAK_DROP
            spans, settled = [], True
            for axis, x in enumerate(axes):
                inside = np.nonzero(kept.any(axis=tuple(k for k in range(3) if k != axis)))[0]
                width, last = x[-1] - x[0], len(x) - 1
                floor, ceiling = limits[axis]
                # An edge that the mass reaches moves out, unless it is the prior's limit.
                open_low = inside[0] == 0 and x[0] > floor
                open_high = inside[-1] == last and x[-1] < ceiling
                low = x[0] - width if open_low else x[max(inside[0] - 1, 0)]
                high = x[-1] + width if open_high else x[min(inside[-1] + 1, last)]
                settled &= not (open_low or open_high) and high - low > 0.4 * width
                spans.append((low, high))
            if settled:
                break
        spans = _clipped(spans, limits)
        affordable = int((GRID_TERMS / max(self._n_rows, 1)) ** (1 / 3))
        n = max(self.n_grid, min(MOST_POINTS, affordable))
        while True:
            result = self._evaluate([np.linspace(lo, hi, n) for lo, hi in spans])
            if 1 / np.sum(result[1] ** 2) >= NEFF_MIN or n >= 161:
                return result
            n = int(n * 1.25) + 1

    @property
    def edge_mass(self) -> float:
        """Share of the posterior mass on the grid's outermost faces."""
        _, w, _ = self.grid
        inner = w[1:-1, 1:-1, 1:-1].sum()
        return float(1 - inner)

    # -- summaries ------------------------------------------------------------------------
    @cached_property
    def _point_set(self):
        """The grid points that carry all but :data:`NEGLIGIBLE` of the mass, with weights."""
        (a, b, lk), w, _ = self.grid
        order = np.argsort(w, axis=None)[::-1]
        kept = order[: int(np.searchsorted(np.cumsum(w.ravel()[order]), 1 - NEGLIGIBLE)) + 1]
        i, j, k = np.unravel_index(kept, w.shape)
        weights = w.ravel()[kept]
        return a[i], b[j], np.exp(lk[k]), weights / weights.sum()

    def _points(self):
        """``(a, b, kappa, weights)`` of the points of :attr:`_point_set`."""
        return self._point_set

    def _hyper_rows(self) -> dict[str, list[float]]:
        axes, w, _ = self.grid
        rows = {}
        for axis, name in enumerate(("a", f"b[{self.predictor}]", "log_kappa")):
            x = axes[axis]
            marginal = w.sum(axis=tuple(k for k in range(3) if k != axis))
            density = marginal / (x[1] - x[0])
            q = quantiles_from_density(x, density)
            if name == "log_kappa":
                values = np.exp(x)
                mean = marginal @ values
                sd = np.sqrt(marginal @ values**2 - mean**2)
                rows["kappa"] = [mean, sd, *np.exp(q)]
            else:
                mean = marginal @ x
                rows[name] = [mean, np.sqrt(marginal @ x**2 - mean**2), *q]
        return rows

    def _components(self, x: float, extra_a: float, extra_b: float):
        a, b, kappa, w = self._points()
        mu = special.expit(a + b * x)
        return mu * kappa + extra_a, (1 - mu) * kappa + extra_b, w, mu

    def rate_row(self, x: float, successes: float, trials: float, quantiles: bool = True):
        """Mean, sd, 3% and 97% quantiles of one group's rate (a mixture of Betas).

        Parameters
        ----------
        x : float
            The group's predictor (standardised, as in the design).
        successes, trials : float
            Its counts (0 and 0 for a new group).
        quantiles : bool, optional
            Whether to solve for the quantiles (NaN otherwise).

        Returns
        -------
        list of float
        """
        a, b, w, _ = self._components(x, successes, trials - successes)
        mean = w @ (a / (a + b))
        second = w @ (a * (a + 1) / ((a + b) * (a + b + 1)))
        qs = [mixture_quantile(q, a, b, w) if quantiles else np.nan for q in QUANTILES]
        return [mean, np.sqrt(max(second - mean**2, 0.0)), *qs]

    def prob_above_mu(self, x: float, successes: float, trials: float) -> float:
        """Exact probability that a group's rate exceeds its own population mean ``mu_i``."""
        a, b, w, mu = self._components(x, successes, trials - successes)
        return float(w @ special.betainc(b, a, 1 - mu))

    def summary(self, names=None) -> pd.DataFrame:
        """Exact posterior summary: ``a``, ``b[<predictor>]``, ``kappa`` and each group's rate.

        Parameters
        ----------
        names : sequence of str, optional
            Groups whose ``theta`` to include; default every group.

        Returns
        -------
        pandas.DataFrame
            Rows ``a``, ``b[...]``, ``kappa``, ``theta[<group>]``; columns ``mean``, ``sd``,
            ``q03``, ``q97``.
        """
        rows = self._hyper_rows()
        position = {name: k for k, name in enumerate(self.names)}
        for name in self.names if names is None else names:
            k = position[name]
            rows[f"theta[{name}]"] = self.rate_row(self.x[k], self.successes[k], self.trials[k])
        return pd.DataFrame.from_dict(rows, orient="index", columns=SUMMARY_COLUMNS).rename_axis(
            "quantity"
        )

    def means(self, rows: pd.DataFrame) -> np.ndarray:
        """The exact posterior mean rate of each folded row.

        Parameters
        ----------
        rows : pandas.DataFrame
            :func:`pooling.regression.fold`'s rows (the predictor, ``trials``, ``successes``).
        """
        a, b, kappa, w = self._points()
        # Given a point, a row's mean is (mu kappa + y) / (kappa + N): linear in y, so each
        # distinct (x, N) needs two sums over the points, whatever its number of rows.
        keys = rows[[self.predictor, "trials"]].to_numpy(float)
        distinct, where = np.unique(keys, axis=0, return_inverse=True)
        x, n = distinct[:, 0], distinct[:, 1]
        offset, slope = np.empty(len(distinct)), np.empty(len(distinct))
        step = max(2_000_000 // a.size, 1)
        for start in range(0, len(distinct), step):
            part = slice(start, start + step)
            mu = special.expit(a[:, None] + b[:, None] * x[part])
            share = w[:, None] / (kappa[:, None] + n[part])
            offset[part] = (mu * kappa[:, None] * share).sum(axis=0)
            slope[part] = share.sum(axis=0)
        where = where.ravel()
        return offset[where] + rows["successes"].to_numpy(float) * slope[where]

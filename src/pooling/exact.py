"""Exact posteriors of the three models, for checking the samplers.

No pooling and full pooling are conjugate: each posterior is a Beta distribution.
The hierarchical model

    alpha, beta ~ HalfNormal(sigma),   theta_i ~ Beta(alpha, beta),   y_i ~ Binomial(N_i, theta_i)

has no closed form, but integrating each ``theta_i`` out leaves a beta-binomial likelihood, so
``p(alpha, beta | y)`` is two-dimensional and is computed on a grid in ``(log alpha, log beta)``
(the Jacobian of the log transform is ``alpha * beta``). Everything else follows from the grid:
each ``theta_i`` is a mixture of ``Beta(alpha + y_i, beta + N_i - y_i)`` and a new group's
``theta`` a mixture of ``Beta(alpha, beta)`` over the grid weights.

Every summary is a table with one row per quantity (``alpha``, ``theta[Falcon 1]``, ...) and
the columns ``mean``, ``sd``, ``q03`` and ``q97`` (the 3% and 97% quantiles).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from scipy.interpolate import CubicSpline

#: Beta(1/2, 1/2) prior of the no-pooling and full-pooling models.
JEFFREYS = (0.5, 0.5)
#: Scale of the HalfNormal priors on alpha and beta in the hierarchical model.
HYPER_SIGMA = 10.0
#: The quantiles every summary reports.
QUANTILES = (0.03, 0.97)
SUMMARY_COLUMNS = ["mean", "sd", "q03", "q97"]
#: Up to this many groups, every leave-one-out posterior gets a grid of its own.
FEW_GROUPS = 12


def beta_summary(a: np.ndarray, b: np.ndarray, index: list[str]) -> pd.DataFrame:
    """Mean, sd and quantiles of Beta distributions.

    Parameters
    ----------
    a, b : array_like
        Shape parameters, one per row.
    index : list of str
        Row labels.

    Returns
    -------
    pandas.DataFrame
        Columns ``mean``, ``sd``, ``q03``, ``q97``, ``a``, ``b``.
    """
    dist = stats.beta(np.asarray(a, float), np.asarray(b, float))
    return pd.DataFrame(
        {
            "mean": dist.mean(),
            "sd": dist.std(),
            "q03": dist.ppf(QUANTILES[0]),
            "q97": dist.ppf(QUANTILES[1]),
            "a": a,
            "b": b,
        },
        index=pd.Index(index, name="quantity"),
    )


def no_pooling(groups: pd.DataFrame, prior: tuple[float, float] = JEFFREYS) -> pd.DataFrame:
    """Exact posterior of ``theta_i ~ Beta(a0, b0)`` with one rate per group.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group name with columns ``trials`` and ``successes``
        (as returned by :func:`pooling.data.load_groups`).
    prior : tuple of float, optional
        Beta prior ``(a0, b0)``.

    Returns
    -------
    pandas.DataFrame
        One row ``theta[<group>]`` per group: ``Beta(a0 + y_i, b0 + N_i - y_i)``.
    """
    y, n = groups["successes"].to_numpy(), groups["trials"].to_numpy()
    index = [f"theta[{name}]" for name in groups.index]
    return beta_summary(prior[0] + y, prior[1] + n - y, index)


def full_pooling(groups: pd.DataFrame, prior: tuple[float, float] = JEFFREYS) -> pd.DataFrame:
    """Exact posterior of one shared rate ``theta ~ Beta(a0, b0)``.

    Parameters
    ----------
    groups : pandas.DataFrame
        As for :func:`no_pooling`.
    prior : tuple of float, optional
        Beta prior ``(a0, b0)``.

    Returns
    -------
    pandas.DataFrame
        One row ``theta``: ``Beta(a0 + sum y, b0 + sum(N - y))``.
    """
    y, n = groups["successes"].sum(), groups["trials"].sum()
    return beta_summary([prior[0] + y], [prior[1] + n - y], ["theta"])


def _quantiles_from_density(x: np.ndarray, density: np.ndarray) -> np.ndarray:
    """Quantiles of a smooth density tabulated on a fine regular grid (cubic-spline CDF)."""
    cdf = CubicSpline(x, density).antiderivative()
    total = cdf(x[-1])

    def quantile(q: float) -> float:
        return optimize.brentq(lambda t: cdf(t) / total - q, x[0], x[-1], xtol=1e-12)

    return np.array([quantile(q) for q in QUANTILES])


def mu_kappa_to_log_ab(eta, log_kappa):
    """Map ``(logit mu, log(alpha + beta))`` to ``(log alpha, log beta)``.

    The map is linear with unit Jacobian, so a density per unit area is the same in both.

    Parameters
    ----------
    eta, log_kappa : array_like
        ``logit(alpha / (alpha + beta))`` and ``log(alpha + beta)``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(log alpha, log beta)``.
    """
    return log_kappa - np.logaddexp(0, -eta), log_kappa - np.logaddexp(0, eta)


def refine_maximum(pdf, grid: np.ndarray, xatol: float = 1e-9) -> float:
    """Location of the maximum of a one-dimensional density.

    Parameters
    ----------
    pdf : callable
        Vectorised density.
    grid : numpy.ndarray
        Increasing points fine enough that the maximum lies between the neighbours of the
        best grid point.
    xatol : float, optional
        Absolute tolerance of the refinement.

    Returns
    -------
    float
    """
    k = int(np.argmax(pdf(grid)))
    res = optimize.minimize_scalar(
        lambda x: -pdf(x)[0],
        bounds=(grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]),
        method="bounded",
        options={"xatol": xatol},
    )
    return float(res.x)


def _tally(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct non-zero values and how often each occurs."""
    distinct, counts = np.unique(values[values != 0], return_counts=True)
    return distinct, counts.astype(float)


def _mixture_quantile(q: float, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    """Quantile of the mixture ``sum_k w_k Beta(a_k, b_k)``."""
    return optimize.brentq(lambda t: w @ special.betainc(a, b, t) - q, 0.0, 1.0, xtol=1e-12)


class HierarchicalPosterior:
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
            q = np.exp(_quantiles_from_density(x, marginal))
            rows[name] = [mean, sd, *q]
        eta, _, w_mu, _ = self._mu_grid
        marginal = w_mu.sum(axis=1)
        mu = special.expit(eta)
        mean = marginal @ mu
        sd = np.sqrt(marginal @ mu**2 - mean**2)
        rows["mu"] = [mean, sd, *special.expit(_quantiles_from_density(eta, marginal))]
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

    # -- rates -----------------------------------------------------------------------------
    def _mixture(self, extra_a: float, extra_b: float):
        """Components and weights of ``sum w Beta(alpha + extra_a, beta + extra_b)``."""
        u, v, w, _ = self._ab_grid
        a, b = np.meshgrid(np.exp(u), np.exp(v), indexing="ij")
        keep = w > w.max() * 1e-16  # the rest carries far less than 1e-10 of the mass
        return a[keep] + extra_a, b[keep] + extra_b, w[keep] / w[keep].sum()

    def _mixture_row(self, extra_a: float, extra_b: float) -> list[float]:
        a, b, w = self._mixture(extra_a, extra_b)
        mean = w @ (a / (a + b))
        second = w @ (a * (a + 1) / ((a + b) * (a + b + 1)))
        return [
            mean,
            np.sqrt(second - mean**2),
            *(_mixture_quantile(q, a, b, w) for q in QUANTILES),
        ]

    def theta_pdf(self, x: np.ndarray, group: str | None = None) -> np.ndarray:
        """Exact posterior density of a group's rate, or of a new group's when ``group=None``.

        Parameters
        ----------
        x : array_like
            Points in [0, 1] (at 0 and 1, the density's limit: 0 or inf).
        group : str, optional
            Group name; ``None`` for a new, unobserved group.

        Returns
        -------
        numpy.ndarray
            The mixture density at ``x``.
        """
        a, b, w = self._mixture(*self._extra(group))
        # Beta's log density written out: scipy.stats would recompute log B(a, b) per point.
        log_norm = np.log(w) - special.betaln(a, b)
        x = np.atleast_1d(np.asarray(x, float))
        out = np.empty_like(x)
        for k in range(0, len(x), 64):  # chunks bound the memory of the (points x grid) array
            chunk = x[k : k + 64, None]
            with np.errstate(divide="ignore"):  # log(0) at the ends: -inf is the right limit
                terms = (a - 1) * np.log(chunk) + (b - 1) * np.log1p(-chunk) + log_norm
            out[k : k + 64] = np.exp(terms).sum(axis=1)
        return out

    def _extra(self, group: str | None) -> tuple[float, float]:
        if group is None:
            return 0.0, 0.0
        i = self.names.index(group)
        return self.successes[i], self.trials[i] - self.successes[i]

    def log_predictive(self, trials: int, successes: int) -> float:
        """Log posterior predictive probability of a new group's successes.

        Parameters
        ----------
        trials, successes : int
            The new group's data.

        Returns
        -------
        float
            ``log sum_grid w(alpha, beta) BetaBinomial(successes | trials, alpha, beta)``.
        """
        log_w, log_pmf = self._grid_log_pmf(trials, successes)
        # Weights as logs: logsumexp's own scaling by b overflows for weights near 1e-308.
        return float(special.logsumexp(log_pmf + log_w))

    def _grid_log_pmf(self, trials, successes) -> tuple[np.ndarray, np.ndarray]:
        """Log grid weights and the beta-binomial log pmf of a record, at the grid points.

        Points whose weight underflowed to 0 are left out: they add nothing to any average.
        """
        u, v, w, _ = self._ab_grid
        a, b = np.meshgrid(np.exp(u), np.exp(v), indexing="ij")
        keep = w > 0
        return np.log(w[keep]), stats.betabinom.logpmf(successes, trials, a[keep], b[keep])

    def log_predictive_without(self, i: int) -> float | None:
        """``log p(y_i | y_-i)`` for group ``i``, from this grid, when the grid suits it.

        The posterior without group ``i`` is this grid's posterior divided by group ``i``'s
        likelihood, so ``p(y_i | y_-i) = 1 / sum_k w_k / L_ik`` over the grid weights ``w``.
        That holds only where the divided weights still lie well inside the grid and are not
        carried by a few points, which is the case when one group is a small part of the data.

        Parameters
        ----------
        i : int
            Position of the group.

        Returns
        -------
        float or None
            The value; ``None`` when the divided weights put more than 1e-9 of their mass on
            the grid's edge or have fewer than half the grid's effective points, and a grid of
            its own is needed (:func:`leave_one_group_out` then builds one).
        """
        w = self._ab_grid[2]
        log_w, log_like = self._grid_log_pmf(self.trials[i], self.successes[i])
        log_ratio = log_w - log_like
        divided = np.zeros_like(w)
        divided[w > 0] = np.exp(log_ratio - log_ratio.max())
        divided /= divided.sum()
        edge = divided[0].sum() + divided[-1].sum() + divided[:, 0].sum() + divided[:, -1].sum()
        if edge > 1e-9 or np.sum(w**2) / np.sum(divided**2) < 0.5:
            return None
        return float(-special.logsumexp(log_ratio))

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


def leave_one_group_out(
    groups: pd.DataFrame,
    prior: tuple[float, float] = JEFFREYS,
    only=None,
    sigma: float = HYPER_SIGMA,
) -> pd.DataFrame:
    """Exact leave-one-group-out log predictive densities of the three models.

    For each group ``i``, ``log p(y_i | y_-i)``: the probability of its successes given the
    other groups only. No pooling: ``BetaBinomial(N_i, a0, b0)`` (the prior predictive);
    full pooling: ``BetaBinomial(N_i, a0 + sum_-i y, b0 + sum_-i (N - y))``; hierarchical:
    the beta-binomial averaged over the grid posterior of ``(alpha, beta)`` given ``y_-i``.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group name with columns ``trials`` and ``successes``.
    prior : tuple of float, optional
        Beta prior of the no-pooling and full-pooling models.
    only : array_like of int, optional
        Positions of the groups to compute; default every group.
    sigma : float, optional
        Scale of the hierarchical model's ``HalfNormal`` priors on ``alpha`` and ``beta``.

    Notes
    -----
    The hierarchical value needs the grid posterior given the other groups. With more than
    :data:`FEW_GROUPS` groups, leaving one out barely moves it, and it is taken from the
    full-data grid (:meth:`HierarchicalPosterior.log_predictive_without`) when that grid is
    good enough for it; otherwise a grid of its own is computed.

    Returns
    -------
    pandas.DataFrame
        One row per group computed, in data order; columns ``no_pooling``, ``full_pooling``,
        ``hierarchical``.
    """
    rows = {}
    n_all, y_all = groups["trials"].to_numpy(), groups["successes"].to_numpy()
    full = HierarchicalPosterior(groups, sigma) if len(groups) > FEW_GROUPS else None
    for i in sorted(range(len(groups)) if only is None else {int(j) for j in only}):
        name = groups.index[i]
        n, y = int(n_all[i]), int(y_all[i])
        rest = np.arange(len(groups)) != i
        pooled_a = prior[0] + y_all[rest].sum()
        pooled_b = prior[1] + (n_all[rest] - y_all[rest]).sum()
        hierarchical = full.log_predictive_without(i) if full is not None else None
        if hierarchical is None:
            others = groups.assign(
                trials=np.where(rest, n_all, 0), successes=np.where(rest, y_all, 0)
            )
            hierarchical = HierarchicalPosterior(others, sigma).log_predictive(n, y)
        rows[name] = {
            "no_pooling": stats.betabinom.logpmf(y, n, *prior),
            "full_pooling": stats.betabinom.logpmf(y, n, pooled_a, pooled_b),
            "hierarchical": hierarchical,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(groups.index.name)

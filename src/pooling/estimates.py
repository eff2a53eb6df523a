"""A table of estimates for every group: what an analyst takes away from the collection.

One verb per step, as in Robinson's ``ebbr`` [1]_: each function returns the groups' table
with columns added. The shape is *fold, fit small, expand*: groups with the same
``(trials, successes)`` have the same posterior, so every per-group computation is done once
per distinct pair (:func:`fold`) and expanded back to the groups.

- :func:`no_pooling` and :func:`full_pooling`: the conjugate Beta posteriors, in closed form.
- :func:`hierarchical`: given each posterior draw of ``(alpha, beta)``, group ``i``'s rate is
  ``Beta(alpha + y_i, beta + N_i - y_i)``, so its posterior is the mixture of those Betas over
  the draws (Rao-Blackwellised: no draws of ``theta`` are needed for the mean, sd, quantiles
  or probabilities). Unlike ``ebbr``, the hyperparameters' uncertainty is kept. Ranks need
  joint draws of every rate, and come from them (:func:`rank_summary`).
- :func:`threshold_test`: each group's posterior probability of a rate above a threshold, and
  a q-value [2]_.

The columns (see :data:`COLUMNS`): ``mean``, ``sd``, ``q03`` and ``q97`` (the 3% and 97%
posterior quantiles), for the hierarchical model ``rank_median``, ``rank_q05`` and
``rank_q95`` (rank 1: the highest rate) and ``p_above_mu`` (the posterior probability that the
group's rate exceeds the population mean ``mu = alpha / (alpha + beta)``), and with a
threshold ``p_above_threshold`` and ``q_value``.

References
----------
.. [1] Robinson, D. (2017). *Introduction to Empirical Bayes: Examples from Baseball
   Statistics*; the R package ``ebbr``.
.. [2] Storey, J. D. (2003). The positive false discovery rate: a Bayesian interpretation and
   the q-value. *Annals of Statistics* 31, 2013-2035.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from pooling.exact.conjugate import JEFFREYS, QUANTILES

__all__ = [
    "COLUMNS",
    "MIXTURE_BUDGET",
    "RANK_BUDGET",
    "mixture_draws",
    "estimates_table",
    "every_model",
    "fold",
    "full_pooling",
    "hierarchical",
    "no_pooling",
    "q_values",
    "rank_draws",
    "RankFunction",
    "rank_function",
    "regression",
    "rank_quantiles",
    "rank_summary",
    "rate_draws",
    "threshold_test",
]

#: Every column of the table, in order (the group's own column comes second, under its name).
COLUMNS = ["model", "trials", "successes", "mean", "sd", "q03", "q97", "rank_median",
           "rank_q05", "rank_q95", "p_above_mu", "p_above_threshold", "q_value"]  # fmt: skip
#: Most (draws x distinct pairs) Beta CDFs evaluated at once: the hierarchical mixtures
#: average over at most this many draws per pair in total (:func:`mixture_draws`). Their
#: Monte Carlo error then stays within 0.3 % of each pair's posterior sd on career batting
#: and 10^5 synthetic groups (``benchmarks/mixture_draws.py``).
MIXTURE_BUDGET = 2_000_000
#: ... and over at least this many draws, however many pairs there are.
MIN_DRAWS = 50
#: Most (draws x groups) ranks held at once (4 bytes each): 100 draws at 10^6 groups.
RANK_BUDGET = 100_000_000
#: Quantiles of the ranks reported.
RANK_QUANTILES = (0.05, 0.5, 0.95)
#: Most draws of the population behind a :class:`RankFunction` (99 % of ranks within the
#: stated error of those of 160 draws, at half the cost of 40: ``benchmarks/rank_draws.py``), ...
RANK_DRAWS = 20
#: ... and most draws of rates in all (at least one per row and population draw).
RANK_SAMPLE = 10_000_000
#: A :class:`RankFunction` keeps ``G^-1`` at every whole number of groups up to this, ...
RANK_EXACT_UP_TO = 2_000
#: ... and past it at steps of this fraction of the number.
RANK_RESOLUTION = 2e-4


def fold(groups: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct ``(trials, successes)`` pairs of the groups.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``.

    Returns
    -------
    pairs : pandas.DataFrame
        Columns ``trials``, ``successes`` and ``count`` (groups with that pair), sorted.
    inverse : numpy.ndarray
        For each group, the row of its pair: ``pairs.iloc[inverse]`` is the groups' counts.
    """
    counts = np.c_[groups["trials"].to_numpy(), groups["successes"].to_numpy()]
    distinct, inverse, count = np.unique(counts, axis=0, return_inverse=True, return_counts=True)
    pairs = pd.DataFrame({"trials": distinct[:, 0], "successes": distinct[:, 1], "count": count})
    return pairs, inverse.ravel()


def _base(groups: pd.DataFrame) -> pd.DataFrame:
    return groups[["trials", "successes"]].copy()


def _beta_columns(table: pd.DataFrame, a, b) -> pd.DataFrame:
    """Mean, sd and quantiles of Beta(a, b) per row, computed once per distinct (a, b)."""
    distinct, inverse = np.unique(np.c_[a, b], axis=0, return_inverse=True)
    inverse = inverse.ravel()
    a, b = distinct[:, 0], distinct[:, 1]
    total = a + b
    table["mean"] = (a / total)[inverse]
    table["sd"] = np.sqrt(a * b / (total**2 * (total + 1)))[inverse]
    for name, q in zip(("q03", "q97"), QUANTILES, strict=True):
        table[name] = special.betaincinv(a, b, q)[inverse]
    return table


def _beta_table(groups: pd.DataFrame, a, b, threshold: float | None) -> pd.DataFrame:
    table = _beta_columns(_base(groups), a, b)
    if threshold is not None:
        at = _checked(threshold)
        table = threshold_test(table, _upper_tail(a, b, 1 - at))
    return table


def _upper_tail(a, b, below):
    """``P(theta > t)`` for ``theta ~ Beta(a, b)``, given ``below = 1 - t``.

    The same as ``scipy.special.betaincc(a, b, t)``, as the lower tail of ``Beta(b, a)``
    at ``1 - t``: SciPy's ``betainc`` is about ten times faster than its ``betaincc``
    (benchmarks/RESULTS.md), which dominates the estimates of a large table. Taking
    ``1 - t`` from the caller lets it pass one computed without rounding.
    """
    return special.betainc(b, a, below)


def no_pooling(
    groups: pd.DataFrame, prior: tuple[float, float] = JEFFREYS, threshold: float | None = None
) -> pd.DataFrame:
    """Every group's rate on its own: ``Beta(a0 + y_i, b0 + N_i - y_i)``.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group, with columns ``trials`` and ``successes``.
    prior : tuple of float, optional
        The Beta prior ``(a0, b0)`` of notebook 1.
    threshold : float, optional
        A rate: adds :func:`threshold_test`'s columns.

    Returns
    -------
    pandas.DataFrame
        ``trials``, ``successes``, ``mean``, ``sd``, ``q03``, ``q97`` (and, with a
        threshold, ``p_above_threshold`` and ``q_value``).
    """
    y, n = groups["successes"].to_numpy(float), groups["trials"].to_numpy(float)
    return _beta_table(groups, prior[0] + y, prior[1] + n - y, threshold)


def full_pooling(
    groups: pd.DataFrame, prior: tuple[float, float] = JEFFREYS, threshold: float | None = None
) -> pd.DataFrame:
    """One rate for every group: ``Beta(a0 + sum y, b0 + sum (N - y))`` on every row.

    Parameters
    ----------
    groups : pandas.DataFrame
        As for :func:`no_pooling`.
    prior : tuple of float, optional
        The Beta prior of notebook 2.
    threshold : float, optional
        As for :func:`no_pooling`.

    Returns
    -------
    pandas.DataFrame
        As for :func:`no_pooling`, the same posterior on every row.
    """
    y, n = groups["successes"].sum(), groups["trials"].sum()
    a = np.full(len(groups), prior[0] + y, dtype=float)
    b = np.full(len(groups), prior[1] + n - y, dtype=float)
    return _beta_table(groups, a, b, threshold)


def mixture_draws(n_draws: int, n_pairs: int) -> np.ndarray:
    """Which draws the hierarchical mixtures average over.

    As many as :data:`MIXTURE_BUDGET` allows for every distinct pair at once (every draw for
    a small table), and at least :data:`MIN_DRAWS`, evenly spaced over the flattened chains.
    The estimates' Monte Carlo error is that of a mean over these draws, which
    :func:`pooling.checks.assert_estimates_match_exact` allows for.

    Parameters
    ----------
    n_draws : int
        Draws of ``(alpha, beta)`` in all.
    n_pairs : int
        Distinct ``(trials, successes)`` pairs.

    Returns
    -------
    numpy.ndarray
        Positions among the flattened draws.
    """
    return _evenly(np.arange(n_draws), max(MIXTURE_BUDGET // max(n_pairs, 1), MIN_DRAWS))


def _evenly(values: np.ndarray, most: int) -> np.ndarray:
    """At most ``most`` of ``values``, evenly spaced (all of them when there are fewer)."""
    if len(values) <= most:
        return values
    return values[np.linspace(0, len(values) - 1, most).round().astype(int)]


class _Mixtures:
    """Per distinct pair, the mixture over draws of ``Beta(alpha + y, beta + N - y)``.

    ``alpha`` and ``beta`` are draws, one per draw (flattened), or with ``per_pair`` one per
    draw and pair (a population whose mean depends on predictors: ``(draws, pairs)``).
    """

    def __init__(self, alpha, beta, pairs: pd.DataFrame, per_pair: bool = False):
        alpha, beta = np.asarray(alpha, float), np.asarray(beta, float)
        if not per_pair:
            alpha, beta = alpha.reshape(-1, 1), beta.reshape(-1, 1)
        self.y = pairs["successes"].to_numpy(float)
        self.f = pairs["trials"].to_numpy(float) - self.y
        used = mixture_draws(len(alpha), len(pairs))
        self.alpha, self.beta = alpha[used], beta[used]

    def _columns(self, values: np.ndarray, part: slice) -> np.ndarray:
        return values if values.shape[1] == 1 else values[:, part]

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mixture means and sds, by the law of total variance."""
        mean, second = np.empty(len(self.y)), np.empty(len(self.y))
        for part in self._parts(len(self.alpha)):
            a, b = self._components(part)
            total = a + b
            mean[part] = (a / total).mean(axis=0)
            second[part] = (a * (a + 1) / (total * (total + 1))).mean(axis=0)
        return mean, np.sqrt(np.maximum(second - mean**2, 0.0))

    def _parts(self, draws: int):
        step = max(MIXTURE_BUDGET // draws, 1)
        return [slice(k, k + step) for k in range(0, len(self.y), step)]

    def _components(self, part) -> tuple[np.ndarray, np.ndarray]:
        return (self._columns(self.alpha, part) + self.y[part],
                self._columns(self.beta, part) + self.f[part])  # fmt: skip

    def prob_above(self, threshold: float | None = None) -> np.ndarray:
        """``P(theta > threshold)``; ``threshold=None``: above each draw's ``mu``."""
        out = np.empty(len(self.y))
        for part in self._parts(len(self.alpha)):
            if threshold is None:  # 1 - mu, without the rounding of a subtraction
                alpha, beta = self._columns(self.alpha, part), self._columns(self.beta, part)
                below = beta / (alpha + beta)
            else:
                below = 1 - threshold
            out[part] = _upper_tail(*self._components(part), below).mean(axis=0)
        return out

    def quantiles(self, mean: np.ndarray, sd: np.ndarray, probabilities=QUANTILES) -> list:
        """Quantiles (default 3% and 97%): Newton's method on the logit scale, in a bracket."""
        # Start at the Beta with the mixture's mean and sd: close to it when the
        # hyperparameters are well determined.
        scale = np.maximum(mean * (1 - mean) / np.maximum(sd**2, 1e-300) - 1, 1e-12)
        out = []
        for q in probabilities:
            start = special.betaincinv(mean * scale, (1 - mean) * scale, q)
            result = np.empty(len(self.y))
            for part in self._parts(len(self.alpha)):
                result[part] = _solve_cdf(*self._components(part), q, start[part])
            out.append(result)
        return out


def _solve_cdf(a: np.ndarray, b: np.ndarray, q: float, start: np.ndarray) -> np.ndarray:
    """``t`` with ``mean_s I_t(a_s, b_s) = q`` for each column, to 1e-12 in the CDF.

    Newton's method on the logit scale, kept inside a bracket (bisection where a step would
    leave it); each iteration evaluates only the columns not yet solved. A step is taken
    without evaluating the CDF again where its second-order term ``F2 d^2 / 2`` is below
    1e-13 (``F2`` the second derivative: the next term is smaller again by about ``d F3 /
    F2``, tiny there): from the Beta start that :meth:`_Mixtures.quantiles` gives, most
    columns need one evaluation.
    """
    x = special.logit(np.clip(start, 1e-300, 1 - 1e-16))
    lo, hi = np.full_like(x, -700.0), np.full_like(x, 40.0)  # logit of 1e-304 and 1 - 4e-18
    x = np.clip(x, lo, hi)
    active = np.arange(x.size)
    log_norm = special.betaln(a, b)
    for _ in range(200):
        aa, bb, xx = a[:, active], b[:, active], x[active]
        t = special.expit(xx)
        miss = special.betainc(aa, bb, t).mean(axis=0) - q
        low = np.where(miss < 0, xx, lo[active])
        high = np.where(miss >= 0, xx, hi[active])
        lo[active], hi[active] = low, high
        # dF/dx = density(t) * t * (1 - t) = t^a (1 - t)^b / B(a, b) for each component;
        # its derivative in x is that times a - (a + b) t.
        terms = np.exp(special.xlogy(aa, t) + special.xlog1py(bb, -t) - log_norm[:, active])
        slope = terms.mean(axis=0)
        curvature = (terms * (aa - (aa + bb) * t)).mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = -miss / slope
            newton = xx + step
            settled = np.abs(0.5 * curvature * step**2) < 1e-13
        done = (np.abs(miss) < 1e-12) | (high - low < 1e-12)
        inside = (newton > low) & (newton < high)
        settled &= inside & ~done
        stepped = np.where(inside, newton, (low + high) / 2)
        x[active] = np.where(done, xx, stepped)
        active = active[~(done | settled)]
        if not active.size:
            break
    return special.expit(x)


def hierarchical(
    groups: pd.DataFrame, alpha, beta, theta=None, threshold: float | None = None
) -> pd.DataFrame:
    """Every group's rate under the hierarchical model, from draws of ``(alpha, beta)``.

    Parameters
    ----------
    groups : pandas.DataFrame
        As for :func:`no_pooling`.
    alpha, beta : array_like
        Posterior draws of the hyperparameters (any shape; flattened together).
    theta : array_like or iterable, optional
        Joint posterior draws of every group's rate, shape ``(draws, groups)`` or one row at
        a time (:func:`rate_draws`), for the ranks (:func:`rank_summary`); without them the
        rank columns are left out.
    threshold : float, optional
        As for :func:`no_pooling`.

    Returns
    -------
    pandas.DataFrame
        ``trials``, ``successes``, ``mean``, ``sd``, ``q03``, ``q97``, ``p_above_mu`` and,
        with ``theta``, ``rank_median``, ``rank_q05``, ``rank_q95``: mixtures over the draws
        of :func:`mixture_draws` (every draw, unless there are very many distinct pairs).
        With joint draws, ``attrs`` holds :func:`rank_summary`'s Monte Carlo error.
    """
    pairs, inverse = fold(groups)
    return _mixture_table(groups, _Mixtures(alpha, beta, pairs), inverse, theta, threshold)


def _mixture_table(groups, mixtures: _Mixtures, inverse, theta, threshold) -> pd.DataFrame:
    """The columns of :func:`hierarchical` from each distinct row's mixture; ``theta`` is
    joint draws for the ranks, or a :class:`RankFunction`."""
    mean, sd = mixtures.moments()
    q03, q97 = mixtures.quantiles(mean, sd)
    table = _base(groups)
    for name, values in (("mean", mean), ("sd", sd), ("q03", q03), ("q97", q97)):
        table[name] = values[inverse]
    if isinstance(theta, RankFunction):
        q05, median, q95 = theta.quantiles()
        for name, values in (("rank_median", median), ("rank_q05", q05), ("rank_q95", q95)):
            table[name] = values[inverse]
    elif theta is not None:
        ranks = rank_summary(theta, groups.index)
        table = table.join(ranks)
        table.attrs.update(ranks.attrs)  # the ranks' Monte Carlo error
    table["p_above_mu"] = mixtures.prob_above()[inverse]
    if threshold is not None:
        table = threshold_test(table, mixtures.prob_above(_checked(threshold))[inverse])
    return table


class RankFunction:
    """Every group's rank quantiles from its own rate, without joint draws of every rate.

    Given the population's parameters (a draw ``s``), the rates are independent, each with
    its own Beta posterior, so group ``i``'s rank given its own rate ``t`` is
    ``1 + sum_{j != i} 1(theta_j > t)``: a sum of independent indicators, which is
    ``1 + G_s(t)``, ``G_s(t) = sum_j P(theta_j > t | s)``, up to their spread
    ``sqrt(sum_j p_j (1 - p_j)) <= sqrt(n) / 2`` (a relative error of order ``n^-1/2`` in
    ``n`` groups). ``G_s`` decreases in ``t``, so ``P(rank_i <= r) = mean_s P(theta_i >=
    G_s^-1(r - 1) | s)``, which the group's Beta posteriors give exactly: each quantile of the
    rank is the smallest whole rank where that reaches it. The cost is per distinct row and
    draw, and the common movement of every rate with the population is kept (every rate
    moves with ``s`` together, which leaves the ranks alone).

    ``G_s`` is estimated from draws of every row's rate at each of the population's draws
    kept, as many per row as the groups it stands for allow (at least one), each weighted by
    its share of them: its standard error is at most :attr:`mc_error` ranks, about
    ``n / (2 sqrt(draws))``. ``G_s^-1`` is kept at every whole number of groups above up to
    :data:`RANK_EXACT_UP_TO`, and past it at steps of :data:`RANK_RESOLUTION` of the number,
    so that what travels to other processes stays small; a rank past it moves by at most half
    that fraction and one rank (:attr:`resolution`), well within ``G_s``'s error there.

    Parameters
    ----------
    counts : numpy.ndarray
        Groups per distinct row.
    prior_a, prior_b : numpy.ndarray
        The population's Beta at each draw of it kept (at most :data:`RANK_DRAWS`):
        ``(draws, 1)``, or ``(draws, columns)`` when it differs between rows.
    successes, failures : numpy.ndarray
        Each row's counts: its posterior at draw ``s`` is ``Beta(prior_a[s] + successes,
        prior_b[s] + failures)``.
    rng : numpy.random.Generator
    per_row : int, optional
        Draws per row on average, at each population draw; default as many as
        :data:`RANK_SAMPLE` allows.
    columns : numpy.ndarray, optional
        Each row's column of ``prior_a`` and ``prior_b``; default the row's own (or the one
        column).
    """

    def __init__(self, counts, prior_a, prior_b, successes, failures,
                 rng: np.random.Generator, per_row=None, columns=None):  # fmt: skip
        counts = np.asarray(counts, float)
        rows = len(counts)
        self._prior = (np.atleast_2d(np.asarray(prior_a, float)),
                       np.atleast_2d(np.asarray(prior_b, float)))  # fmt: skip
        self._counts = (np.asarray(successes, float), np.asarray(failures, float))
        if columns is None:
            shared = self._prior[0].shape[1] == 1
            columns = np.zeros(rows, np.int64) if shared else np.arange(rows)
        self._columns = np.asarray(columns, np.int64)
        draws = len(self._prior[0])
        self.n_groups = int(round(counts.sum()))
        # Draws per row in proportion to the groups it stands for (at least one): each draw
        # then weighs about the same, which keeps G's variance at n^2 / (4 draws).
        budget = int(per_row * rows if per_row else max(RANK_SAMPLE // draws, rows))
        self.per_row = np.maximum(np.rint(counts * budget / counts.sum()), 1).astype(np.int64)
        weights = np.repeat(counts / self.per_row, self.per_row)
        levels = self._levels()
        #: G_s^-1 at each level (groups above): the lowest sampled rate with at most that
        #: many groups above it, one row per population draw.
        self.thresholds = np.empty((draws, levels.size))
        every = np.arange(rows)
        for s in range(draws):
            a, b = self._beta(s, every)
            rates = rng.beta(np.repeat(a, self.per_row), np.repeat(b, self.per_row))
            # Not a stable sort (a quarter of its time): rates that tie are equal, so which of
            # them comes first changes no threshold.
            order = np.argsort(rates)
            above = weights.sum() - np.cumsum(weights[order])  # groups above each sorted rate
            at = np.searchsorted(-above, -levels, side="left")
            self.thresholds[s] = rates[order][np.clip(at, 0, rates.size - 1)]
        #: One standard error of each G_s, at its largest: sum_j c_j^2 / (4 draws_j) under
        #: the root.
        self.mc_error = float(np.sqrt((counts**2 / self.per_row).sum() / 4))
        #: The largest spread of the indicators' sum about G_s: sqrt(n) / 2.
        self.spread = float(np.sqrt(self.n_groups) / 2)
        #: Largest relative move of a rank from keeping G_s^-1 at levels only, past
        #: :data:`RANK_EXACT_UP_TO` (one rank more at most; none below).
        self.resolution = RANK_RESOLUTION / 2

    def _levels(self) -> np.ndarray:
        """Every whole number of groups above up to :data:`RANK_EXACT_UP_TO`, then steps of
        :data:`RANK_RESOLUTION` of the number, up to every group."""
        whole = np.arange(min(RANK_EXACT_UP_TO, self.n_groups) + 1, dtype=float)
        if self.n_groups <= RANK_EXACT_UP_TO:
            return whole
        steps = np.log(self.n_groups / RANK_EXACT_UP_TO) / np.log1p(RANK_RESOLUTION)
        return np.concatenate([whole, RANK_EXACT_UP_TO * (1 + RANK_RESOLUTION)
                               ** np.arange(1, int(np.ceil(steps)) + 1)])  # fmt: skip

    def _level(self, above: np.ndarray) -> np.ndarray:
        """The level that stands for each number of groups above: the whole number at or
        below it up to :data:`RANK_EXACT_UP_TO`, the nearest level past it."""
        above = np.asarray(above, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            past = RANK_EXACT_UP_TO + np.rint(np.log(above / RANK_EXACT_UP_TO)
                                              / np.log1p(RANK_RESOLUTION))  # fmt: skip
        level = np.where(above <= RANK_EXACT_UP_TO, np.floor(above), past)
        return np.clip(level, 0, self.thresholds.shape[1] - 1).astype(np.int64)

    def _first_rank(self, level: np.ndarray) -> np.ndarray:
        """The smallest whole rank ``r`` whose ``r - 1`` groups above have ``level``."""
        exact = level <= RANK_EXACT_UP_TO
        with np.errstate(over="ignore"):
            edge = np.ceil(RANK_EXACT_UP_TO * (1 + RANK_RESOLUTION)
                           ** (level - RANK_EXACT_UP_TO - 0.5))  # fmt: skip
        edge = np.where(exact, level, edge)
        # Whole numbers on either side of a rounding boundary: take the one _level agrees on.
        edge = np.where(~exact & (self._level(edge - 1) >= level), edge - 1, edge)
        edge = np.where(~exact & (self._level(edge) < level), edge + 1, edge)
        return np.minimum(edge + 1, self.n_groups).astype(np.int64)

    def _beta(self, s, rows: np.ndarray):
        """The rows' posterior Beta at population draw ``s`` (or draws, a column of them)."""
        (prior_a, prior_b), (y, f) = self._prior, self._counts
        at = self._columns[rows]
        return prior_a[s, at] + y[rows], prior_b[s, at] + f[rows]

    def _cdf(self, level: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``P(rank <= r)`` of each row at the ranks ``r`` of its ``level``: every draw at
        once."""
        draws = np.arange(len(self.thresholds))[:, None]
        a, b = self._beta(draws, rows)
        return _upper_tail(a, b, 1 - self.thresholds[draws, level]).mean(axis=0)

    def cdf(self, ranks, rows=None) -> np.ndarray:
        """``P(rank <= r)`` of each row at its whole rank ``r`` (1 from the last rank on).

        Parameters
        ----------
        ranks : array_like
            One rank per row.
        rows : array_like or slice, optional
            The rows (positions); default every one.
        """
        every = np.arange(self._counts[0].size)
        rows = every if rows is None else every[rows]
        ranks = np.asarray(ranks, float)
        return np.where(ranks >= self.n_groups, 1.0, self._cdf(self._level(ranks - 1), rows))

    def _start(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First guesses at the middle draw of the population: each row's median level (that
        of its mean rate) and the slope of the probit of ``P(rank <= r)`` against the probit
        of ``r / n`` (the spread of the rates of all groups over the row's own)."""
        s = len(self.thresholds) // 2
        a, b = self._beta(s, rows)
        mean, sd = a / (a + b), np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        middle = self.thresholds[s, self._level(np.array([0.16, 0.84]) * self.n_groups)]
        slope = np.maximum((middle[0] - middle[1]) / 2, 1e-12) / sd
        level = np.searchsorted(-self.thresholds[s], -mean)
        return np.clip(level, 0, self.thresholds.shape[1] - 1), slope

    def quantiles(self, probabilities=RANK_QUANTILES, rows=None) -> list[np.ndarray]:
        """Each row's rank quantiles: the smallest whole rank with ``P(rank <= r) >= q``.

        Parameters
        ----------
        probabilities : sequence of float, optional
        rows : array_like or slice, optional
            The rows (positions); default every one.
        """
        every = np.arange(self._counts[0].size)
        rows = every if rows is None else every[rows]
        start, slope = self._start(rows)
        # The median first (from the mean rate's level); the others start from its answer,
        # whose probability is known already, with the slope that its search measured.
        median, known, measured = self._search(0.5, rows, start, slope)
        slope = np.where(np.isfinite(measured) & (measured > 0), measured, slope)
        return [self._first_rank(median if q == 0.5 else
                                 self._search(q, rows, median, slope, known)[0])
                for q in probabilities]  # fmt: skip

    def _search(self, q: float, rows: np.ndarray, start: np.ndarray, slope: np.ndarray,
                known: np.ndarray | None = None) -> tuple:  # fmt: skip
        """The lowest level with ``P(rank <= r) >= q`` of each row, from ``start`` with a
        first guess of the ``slope``.

        A secant search on the probit scale of both the level's position among the groups
        and the probability, where both are close to straight, keeping a bracket ``low <
        answer <= high`` of levels: the same answer as bisection, in about 5 of its
        ``log2(levels)`` steps; a step that leaves the bracket twice running bisects instead.

        Parameters
        ----------
        q : float
        rows : numpy.ndarray
        start : numpy.ndarray
            Each row's first level.
        slope : numpy.ndarray
            Each row's first guess of the slope (probit probability per probit position).
        known : numpy.ndarray, optional
            ``P(rank <= r)`` at ``start`` when it is known already: the search steps from
            there at once.

        Returns
        -------
        level : numpy.ndarray
            The lowest level that reaches ``q``.
        reached : numpy.ndarray
            ``P(rank <= r)`` there.
        slope : numpy.ndarray
            The slope between the first and the last point evaluated (NaN for a row with
            one point): what a search for another quantile of the same rows can start with.
        """
        levels, top = self._levels(), self.thresholds.shape[1] - 1
        # The top level may stand for more groups than there are: its position is the last.
        position = special.ndtri(np.minimum(levels + 0.5, self.n_groups + 0.5)
                                 / (self.n_groups + 1))  # fmt: skip
        low, high = np.full(rows.size, -1), np.full(rows.size, top)  # P(low) < q <= P(high)
        at_high = np.ones(rows.size)  # P(high): the top level holds every rank
        last = np.full((2, rows.size), np.nan)  # the last point: probit position, probit P
        first = np.full((2, rows.size), np.nan)
        clipped = np.zeros(rows.size, bool)
        if known is None:
            active = np.flatnonzero(high - low > 1)
            k = np.clip(start, 0, max(top - 1, 0))[active]
        else:
            active, k = np.arange(rows.size), np.asarray(start)
        p = known
        while active.size:
            if p is None:
                p = self._cdf(k, rows[active])
            reached = p >= q
            high[active] = np.where(reached, k, high[active])
            at_high[active] = np.where(reached, p, at_high[active])
            low[active] = np.where(reached, low[active], k)
            x = position[k]
            y = special.ndtri(np.clip(p, 1e-10, 1 - 1e-10))
            with np.errstate(divide="ignore", invalid="ignore"):
                secant = (y - last[1, active]) / (x - last[0, active])
                usable = np.isfinite(secant) & (secant > 0)
                step = (y - special.ndtri(q)) / np.where(usable, secant, slope[active])
            unseen = np.isnan(first[0, active])
            first[:, active] = np.where(unseen, (x, y), first[:, active])
            last[:, active] = x, y
            proposed = self._level(special.ndtr(x - step) * (self.n_groups + 1) - 0.5)
            lo, hi = low[active], high[active]
            outside = ~((proposed > lo) & (proposed < hi))
            bisect = outside & clipped[active]
            clipped[active] = outside & ~bisect
            k = np.where(bisect, (lo + hi) // 2, np.clip(proposed, lo + 1, hi - 1))
            going = hi - lo > 1
            active, k, p = active[going], k[going], None
        with np.errstate(divide="ignore", invalid="ignore"):
            measured = (last[1] - first[1]) / (last[0] - first[0])
        return high, at_high, measured


def rank_function(rows: pd.DataFrame, alpha, beta, rng: np.random.Generator,
                  columns=None) -> RankFunction:  # fmt: skip
    """:class:`RankFunction` of a population given per draw (and per row) as ``alpha, beta``.

    Parameters
    ----------
    rows : pandas.DataFrame
        Distinct rows: ``trials``, ``successes`` and ``count``.
    alpha, beta : numpy.ndarray
        The population's Beta at each draw: ``(draws,)``, ``(draws, rows)``, or ``(draws,
        columns)`` with ``columns``; evenly spaced draws are kept, at most
        :data:`RANK_DRAWS`.
    rng : numpy.random.Generator
    columns : numpy.ndarray, optional
        Each row's column of ``alpha`` and ``beta`` (a population per predictor row).
    """
    alpha, beta = np.asarray(alpha, float), np.asarray(beta, float)
    if alpha.ndim == 1:
        alpha, beta = alpha[:, None], beta[:, None]
    kept = _evenly(np.arange(len(alpha)), RANK_DRAWS)
    y = rows["successes"].to_numpy(float)
    f = rows["trials"].to_numpy(float) - y
    return RankFunction(rows["count"].to_numpy(), alpha[kept], beta[kept], y, f, rng,
                        columns=columns)  # fmt: skip


def regression(
    groups: pd.DataFrame, design: pd.DataFrame, a, b, kappa, theta=None,
    threshold: float | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Every group's rate under the regression model, from draws of ``(a, b, kappa)``.

    Given a draw, group ``i``'s rate is ``Beta(mu_i kappa + y_i, (1 - mu_i) kappa + N_i -
    y_i)`` with ``logit(mu_i) = a + x_i . b`` (:mod:`pooling.regression`); its posterior is
    the mixture over the draws, computed once per distinct ``(x_i, N_i, y_i)``.

    Parameters
    ----------
    groups : pandas.DataFrame
        As for :func:`no_pooling`.
    design : pandas.DataFrame
        The groups' predictors (:func:`pooling.predictors.design`).
    a, b, kappa : array_like
        Posterior draws: ``a`` and ``kappa`` flattened together, ``b`` of shape
        ``(draws, predictors)`` (or ``(chain, draw, predictor)``).
    theta : iterable or RankFunction, optional
        Joint draws of every group's rate for the ranks (:func:`pooling.regression.rate_draws`),
        or the rank function of the same rows (:func:`rank_function`).
    threshold : float, optional
        As for :func:`no_pooling`.

    Returns
    -------
    pandas.DataFrame
        As :func:`hierarchical`'s; ``p_above_mu`` is the probability of a rate above the
        group's own population mean ``mu_i``.
    """
    from pooling import regression as model

    rows, inverse = model.fold(groups, design)
    kappa = np.asarray(kappa, float).ravel()
    used = mixture_draws(kappa.size, len(rows))
    mu = model.means(rows[list(design.columns)].to_numpy(float),
                     np.asarray(a, float).ravel()[used],
                     np.asarray(b, float).reshape(kappa.size, -1)[used])  # fmt: skip
    k = kappa[used, None]
    mixtures = _Mixtures(mu * k, (1 - mu) * k, rows, per_pair=True)
    return _mixture_table(groups, mixtures, inverse, theta, threshold)


def rank_summary(theta, index: pd.Index) -> pd.DataFrame:
    """Quantiles of every group's rank among all groups, 1 being the highest rate.

    Parameters
    ----------
    theta : array_like or iterable
        Joint draws of the rates: an array of shape ``(draws, groups)``, of which at most
        :data:`RANK_BUDGET` ranks in all are used (evenly spaced draws), or an iterable of
        such rows (:func:`rate_draws`) or of blocks of rows (:func:`pooling.scale.rate_draws`),
        all of which are used.
    index : pandas.Index
        The groups, in the order of the columns.

    Returns
    -------
    pandas.DataFrame
        ``rank_median``, ``rank_q05`` and ``rank_q95``: whole numbers, quantiles of the
        draws' ranks, not interpolated. ``attrs``: ``rank_draws``, the number of joint
        draws, and ``rank_mc_error``, the largest Monte Carlo standard error of any group's
        rank quantile (ArviZ's for a quantile, :func:`pooling.mcse.mcse_of_quantiles`, the
        draws taken as one chain).
    """
    from pooling.mcse import mcse_of_quantiles

    n_groups = len(index)
    if isinstance(theta, np.ndarray):
        theta = theta[rank_draws(theta.shape[0], n_groups)]
    rows = []
    for block in theta:  # rows, or blocks of rows (pooling.scale.rate_draws)
        for row in np.atleast_2d(block):
            ranks = np.empty(n_groups, dtype=np.int32)
            ranks[np.argsort(-np.asarray(row), kind="stable")] = np.arange(1, n_groups + 1)
            rows.append(ranks)
    ranks = np.stack(rows)
    table = rank_quantiles(ranks, index)
    table.attrs["rank_draws"] = len(ranks)
    table.attrs["rank_mc_error"] = float(max(mcse_of_quantiles(ranks[None], q).max()
                                             for q in RANK_QUANTILES))  # fmt: skip
    return table


def rank_quantiles(ranks: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The rank columns from every draw's ranks.

    Parameters
    ----------
    ranks : numpy.ndarray
        Shape ``(draws, groups)``: each draw's rank of each group (1: the highest rate).
    index : pandas.Index
        The groups, in the order of the columns.

    Returns
    -------
    pandas.DataFrame
        ``rank_median``, ``rank_q05`` and ``rank_q95``, as :func:`rank_summary` gives them.
    """
    n_groups = ranks.shape[1]
    out = np.empty((len(RANK_QUANTILES), n_groups), dtype=np.int64)
    step = max(MIXTURE_BUDGET // len(ranks), 1)  # np.quantile copies what it sorts
    for k in range(0, n_groups, step):
        out[:, k : k + step] = np.quantile(ranks[:, k : k + step], RANK_QUANTILES, axis=0,
                                           method="inverted_cdf")  # fmt: skip
    q05, median, q95 = out
    return pd.DataFrame({"rank_median": median, "rank_q05": q05, "rank_q95": q95}, index=index)


def rank_draws(n_draws: int, n_groups: int) -> np.ndarray:
    """Which draws of ``(alpha, beta)`` the ranks use: evenly spaced, as many as
    :data:`RANK_BUDGET` ranks allow at this many groups (and no more than there are).

    Parameters
    ----------
    n_draws, n_groups : int
        Draws in all (flattened chains), and groups.

    Returns
    -------
    numpy.ndarray
        Positions among the flattened draws.
    """
    return _evenly(np.arange(n_draws), max(RANK_BUDGET // max(n_groups, 1), 1))


def rate_draws(groups: pd.DataFrame, alpha, beta, rng: np.random.Generator):
    """Joint draws of every group's rate under the hierarchical model, one row at a time.

    For evenly spaced draws of ``(alpha, beta)``, as many as :data:`RANK_BUDGET` ranks allow
    (and no more than there are), each group's rate is drawn from
    ``Beta(alpha + y_i, beta + N_i - y_i)``.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``.
    alpha, beta : array_like
        Posterior draws of the hyperparameters.
    rng : numpy.random.Generator
        The notebook's or the run's generator.

    Yields
    ------
    numpy.ndarray
        One draw of every group's rate.
    """
    alpha, beta = np.asarray(alpha, float).ravel(), np.asarray(beta, float).ravel()
    y = groups["successes"].to_numpy(float)
    f = groups["trials"].to_numpy(float) - y
    for row in rank_draws(alpha.size, len(groups)):
        yield rng.beta(alpha[row] + y, beta[row] + f)


def q_values(p_above: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The q-value of each group: the expected false discovery rate of the calls it joins.

    Calling "above" every group at least as probable as this one has an expected share of
    false calls equal to the mean of their posterior error probabilities ``1 - p_above``
    (Storey's q-value, as in ``ebbr::add_ebb_prop_test``). Groups of equal probability are
    called together and share one q-value.

    Parameters
    ----------
    p_above : numpy.ndarray
        Each group's posterior probability of being above.
    weights : numpy.ndarray, optional
        How many groups each entry stands for (a folded table's ``count``); default one.

    Returns
    -------
    numpy.ndarray
    """
    p_above = np.asarray(p_above, float)
    order = np.argsort(-p_above, kind="stable")
    error = 1 - p_above[order]
    if weights is None:
        running = np.cumsum(error) / np.arange(1, len(error) + 1)
    else:
        weights = np.asarray(weights, float)[order]
        running = np.cumsum(weights * error) / np.cumsum(weights)
    # Ties: every group of a block shares the block's last value.
    sorted_p = p_above[order]
    last = np.searchsorted(-sorted_p, -sorted_p, side="right") - 1
    out = np.empty_like(p_above)
    out[order] = running[last]
    return out


def _checked(threshold) -> float:
    threshold = float(threshold)
    if not 0 < threshold < 1:
        raise ValueError(f"THRESHOLD must be a rate between 0 and 1, not {threshold!r}")
    return threshold


def threshold_test(table: pd.DataFrame, p_above) -> pd.DataFrame:
    """Add each group's probability of a rate above a threshold, and its q-value.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group.
    p_above : array_like
        Each group's posterior probability of a rate above the threshold.

    Returns
    -------
    pandas.DataFrame
        A copy with ``p_above_threshold`` and ``q_value`` (:func:`q_values`).
    """
    return table.assign(p_above_threshold=p_above, q_value=q_values(p_above))


def estimates_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One table of every model's estimates: one row per group per model.

    Parameters
    ----------
    tables : dict
        Model name (``no_pooling``, ``full_pooling``, ``hierarchical``) to its table.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, the group column (under the groups' index name), then those of
        :data:`COLUMNS` that any model has, in that order; rows in model order, then data
        order.
    """
    frames = [table.reset_index().assign(model=name) for name, table in tables.items()]
    group = next(iter(tables.values())).index.name
    combined = pd.concat(frames, ignore_index=True)
    columns = ["model", group, *[c for c in COLUMNS[1:] if c in combined.columns]]
    combined = combined[columns]
    for rank in ("rank_median", "rank_q05", "rank_q95"):
        if rank in combined:
            combined[rank] = combined[rank].astype("Int64")  # whole numbers, empty elsewhere
    return combined


def every_model(
    groups: pd.DataFrame, alpha, beta, rng: np.random.Generator, threshold: float | None = None
) -> dict[str, pd.DataFrame]:
    """The three models' tables, the hierarchical one from draws of its hyperparameters.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group, columns ``trials`` and ``successes``.
    alpha, beta : array_like
        Posterior draws of the hierarchical model's hyperparameters.
    rng : numpy.random.Generator
        For the joint draws of the rates that the ranks need (:func:`rate_draws`).
    threshold : float, optional
        As for :func:`no_pooling`.

    Returns
    -------
    dict
        ``no_pooling``, ``full_pooling``, ``hierarchical``: for :func:`estimates_table`.
    """
    return {
        "no_pooling": no_pooling(groups, threshold=threshold),
        "full_pooling": full_pooling(groups, threshold=threshold),
        "hierarchical": hierarchical(
            groups, alpha, beta, theta=rate_draws(groups, alpha, beta, rng), threshold=threshold
        ),  # fmt: skip
    }

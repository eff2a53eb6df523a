"""A posterior predictive check of rates against trials, with a verdict in words.

An exchangeable population says that a group's rate owes nothing to its number of trials. On
real tables with many groups that is often false (players with few at-bats are mostly
pitchers; films with few ratings are mostly worse films), and a model that assumes it
overestimates the groups with few trials. The check bins the groups by trials (fifths of
``log(trials)``, fewer bins for few groups), and compares each bin's observed pooled rate,
``sum(y) / sum(N)``, with the same statistic in data replicated from the fit, each group
with its own trials.

With tens of thousands of groups such a check finds any imperfection, so beside each
p-value it reports the size of the misfit in rate units, and the verdict says whether it
matters: whether it is large next to one group's own sampling error in that bin, the noise
that an estimate of a single group has to see through anyway.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pooling.scale import replicated_statistics, statistics_of_replicates

__all__ = [
    "FALSE_ALARM",
    "GROUPS_PER_BIN",
    "MATTERS",
    "MOST_BINS",
    "bins",
    "check",
    "check_draws",
    "check_pairs",
    "verdict",
]

#: Most bins: fifths of log(trials).
MOST_BINS = 5
#: Fewest groups per bin: fewer groups make fewer bins.
GROUPS_PER_BIN = 10
#: Chance that a model that fits fails the check in some bin: each of ``k`` bins is tested
#: two-sided at ``FALSE_ALARM / k`` (posterior predictive p-values are conservative, so the
#: rate on data simulated from the model is lower still: ``benchmarks/trials_check.py``).
FALSE_ALARM = 0.05
#: A misfit matters when it is at least this share of one group's sampling error in its bin,
#: ``sqrt(r (1 - r) / N)`` at the bin's pooled rate ``r`` and median trials ``N``.
MATTERS = 0.2

#: Most (draws x distinct trials) values that :func:`check_pairs` holds at once.
PAIR_DRAWS = 4_000_000

#: Columns of :func:`check`'s table.
COLUMNS = ["bin", "trials_from", "trials_to", "groups", "observed", "replicated",
           "replicated_q03", "replicated_q97", "misfit", "z", "p_value", "own_error", "fails",
           "matters"]  # fmt: skip


def bins(trials, counts=None) -> np.ndarray:
    """The bin of each group: fifths of ``log(trials)``, or fewer for few groups.

    Parameters
    ----------
    trials : array_like
        Trials of each group; groups without trials get no bin.
    counts : array_like, optional
        For a folded table, the groups each row stands for: the bins are those of the groups.

    Returns
    -------
    numpy.ndarray
        Bin numbers from 0 (fewest trials), and -1 for groups without trials. Ties never
        straddle two bins, so tables with many equal counts may have fewer bins.
    """
    trials = np.asarray(trials)
    counts = np.ones(trials.shape, np.int64) if counts is None else np.asarray(counts, np.int64)
    rated = trials > 0
    n_bins = int(np.clip(counts[rated].sum() // GROUPS_PER_BIN, 1, MOST_BINS))
    log_trials = np.log(trials[rated])
    inner = np.quantile(np.repeat(log_trials, counts[rated]), np.arange(1, n_bins) / n_bins)
    out = np.full(trials.shape, -1)
    # Upper edges inclusive, then renumbered so that empty bins (from ties) leave no gaps.
    found = np.searchsorted(inner, log_trials, side="left")
    out[rated] = np.unique(found, return_inverse=True)[1]
    return out


def check(idata, groups: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Observed and replicated pooled rate of each bin of groups by trials.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit of notebooks 1 to 3 (with ``posterior_predictive["y"]``, or the population's
        draws past :data:`pooling.scale.MANY` groups).
    groups : pandas.DataFrame
        The validated groups frame: every group.
    rng : numpy.random.Generator
        The notebook's generator (replicates are drawn past :data:`pooling.scale.MANY`).

    Returns
    -------
    pandas.DataFrame
        One row per bin, :data:`COLUMNS`: the bin's range of trials and number of groups,
        the observed pooled rate, the mean replicated one and its 3% and 97% quantiles, the
        misfit (replicated minus observed: positive when the model overestimates the bin),
        its z-score, the two-sided posterior predictive p-value, one group's sampling error
        there, whether the bin fails (p below ``FALSE_ALARM / bins``) and whether its misfit
        matters (:data:`MATTERS`). ``attrs["replicates"]``: the replicated data sets.
    """
    where, statistics = _bin_statistics(groups)
    return _table(groups, where, replicated_statistics(idata, groups, statistics, rng))


def check_draws(blocks, groups: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """:func:`check` for a fit given as joint draws of every group's rate.

    Parameters
    ----------
    blocks : iterable of numpy.ndarray
        Joint draws, blocks of shape ``(draws, groups)``, such as
        :func:`pooling.regression.rate_draws` yields.
    groups : pandas.DataFrame
        The validated groups frame: every group.
    rng : numpy.random.Generator
        For the replicated counts.

    Returns
    -------
    pandas.DataFrame
        As :func:`check`'s.
    """
    where, statistics = _bin_statistics(groups)
    return _table(groups, where, statistics_of_replicates(blocks, groups, statistics, rng))


def _bin_statistics(groups: pd.DataFrame) -> tuple[np.ndarray, dict]:
    """Each group's bin, and each bin's pooled rate as a function of replicated rates."""
    trials = groups["trials"].to_numpy()
    where = bins(trials)
    rated = where >= 0
    statistics = {}
    for k in range(int(where.max()) + 1):
        weights = np.where(where[rated] == k, trials[rated], 0) / trials[where == k].sum()
        statistics[k] = lambda rates, axis, w=weights: rates @ w
    return where, statistics


def check_pairs(pairs: pd.DataFrame, rng: np.random.Generator, *, a=None, b=None,
                rate=None, columns=None) -> pd.DataFrame:  # fmt: skip
    """:func:`check` on a folded table, from the population's draws alone.

    Given a draw, each group's rate has a posterior of its own (``Beta(a, b)``, or one common
    ``rate``), and its replicated count ``y_rep ~ Binomial(N, rate)`` a mean and variance in
    closed form; a bin's replicated successes, summed over thousands of independent groups,
    are then normal with the summed mean and variance. Given a draw, a pair's mean is linear
    and its variance quadratic in its successes, so those sums come from three sums over the
    pairs of each distinct ``(column, trials)``: the check costs per distinct trials (and
    predictor row) and draw, however many groups and pairs there are.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns ``trials``, ``successes`` and ``count`` (:func:`pooling.estimates.fold`).
    rng : numpy.random.Generator
    a, b : numpy.ndarray, optional
        The population's Beta at each draw, shape ``(draws, 1)`` or ``(draws, pairs)``: each
        pair's posterior is ``Beta(a + y, b + N - y)``.
    rate : numpy.ndarray, optional
        Instead of ``a`` and ``b``: one rate shared by every group at each draw (full pooling).
    columns : numpy.ndarray, optional
        Each pair's column of ``a`` and ``b``, when they have one per predictor row (the
        regression) rather than per pair.

    Returns
    -------
    pandas.DataFrame
        As :func:`check`'s.
    """
    trials = pairs["trials"].to_numpy(float)
    y = pairs["successes"].to_numpy(float)
    counts = pairs["count"].to_numpy(float)
    where = bins(trials, counts)
    n_bins = int(where.max()) + 1
    # The pairs of each distinct (column, trials) share a population and a bin: the sums of
    # their counts c, c y and c y^2 are all that the bins' means and variances need.
    if columns is None:
        per_pair = rate is None and np.shape(a)[1] > 1
        columns = np.arange(len(trials)) if per_pair else np.zeros(len(trials), np.int64)
    keys, first, at = np.unique(np.c_[columns, trials], axis=0, return_index=True,
                                return_inverse=True)  # fmt: skip
    at = at.ravel()
    c, cy, cyy = (np.bincount(at, w, len(keys)) for w in (counts, counts * y, counts * y * y))
    column, n = keys[:, 0].astype(np.int64), keys[:, 1]
    in_bin = (where[first, None] == np.arange(n_bins)).astype(float)  # (keys, bins)
    draws = len(rate if rate is not None else a)
    step = max(PAIR_DRAWS // len(keys), 1)
    sums, spreads = np.empty((draws, n_bins)), np.empty((draws, n_bins))
    for start in range(0, draws, step):
        part = slice(start, start + step)
        if rate is not None:
            r = np.asarray(rate, float)[part, None]
            mean, variance = r * n * c, r * (1 - r) * n * c
        else:
            aa, bb = a[part][:, column], b[part][:, column]
            total = aa + bb + n
            # sum of c N (a + y) / T, and of the beta-binomial variances
            # c N (a + y) (b + N - y) (T + N) / (T^2 (T + 1)), T = a + b + N.
            mean = n * (aa * c + cy) / total
            spread = aa * (bb + n) * c + (bb + n - aa) * cy - cyy
            variance = n * spread * (total + n) / (total**2 * (total + 1))
        sums[part], spreads[part] = mean @ in_bin, np.sqrt(variance @ in_bin)
    replicated = (sums + spreads * rng.standard_normal(sums.shape)) / ((n * c) @ in_bin)
    return _table(pairs, where, dict(enumerate(replicated.T)), counts)


def _table(groups: pd.DataFrame, where: np.ndarray, replicated: dict,
           counts: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
    trials = groups["trials"].to_numpy()
    successes = groups["successes"].to_numpy()
    counts = np.ones(len(trials), np.int64) if counts is None else counts.astype(np.int64)
    n_bins = len(replicated)
    rows = []
    for k in range(n_bins):
        inside = where == k
        weight = counts[inside]
        observed = (successes[inside] @ weight) / (trials[inside] @ weight)
        t_rep = replicated[k]
        upper, lower = np.mean(t_rep >= observed), np.mean(t_rep <= observed)
        p_value = min(1.0, 2 * min(upper, lower))
        misfit = t_rep.mean() - observed
        sd = t_rep.std()
        median = np.median(np.repeat(trials[inside], weight))
        own_error = np.sqrt(observed * (1 - observed) / median)
        rows.append([k, trials[inside].min(), trials[inside].max(), int(weight.sum()),
                     observed, t_rep.mean(), *np.quantile(t_rep, [0.03, 0.97]), misfit,
                     misfit / sd if sd > 0 else np.nan,
                     p_value, own_error, p_value < FALSE_ALARM / n_bins,
                     abs(misfit) >= MATTERS * own_error])  # fmt: skip
    table = pd.DataFrame(rows, columns=COLUMNS).set_index("bin")
    table.attrs["replicates"] = len(replicated[0])
    return table


def verdict(table: pd.DataFrame) -> str:
    """The check's result for one model, in words.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`check`'s table.

    Returns
    -------
    str
        "reproduces the pooled rate in every bin of trials (smallest p = ...)" (of all
        groups, with one bin), or, for the
        failing bin with the largest misfit, e.g. "overestimates the 3,519 groups with 1 to 7
        trials by 0.060 (p < 0.001), large next to one group's sampling error there (0.150)".
    """
    if not table["fails"].any():
        if len(table) == 1:  # few groups: one bin
            return f"reproduces the pooled rate of all groups (p = {table['p_value'].iloc[0]:.3f})"
        return (f"reproduces the pooled rate in every bin of trials "
                f"(smallest p = {table['p_value'].min():.3f})")  # fmt: skip
    failing = table[table["fails"]]
    worst = failing.loc[failing["misfit"].abs().idxmax()]
    way = "overestimates" if worst["misfit"] > 0 else "underestimates"
    # A p-value of 0 means none of the replicates: say how few that is.
    floor = max(1 / table.attrs.get("replicates", 1000), 0.001)
    p = f"p < {floor:.2g}" if worst["p_value"] < floor else f"p = {worst['p_value']:.3f}"
    size = "large" if worst["matters"] else "small"
    return (f"{way} the {worst['groups']:,} groups with {worst['trials_from']:,} to "
            f"{worst['trials_to']:,} trials by {abs(worst['misfit']):.3f} ({p}), {size} next "
            f"to one group's sampling error there ({worst['own_error']:.3f})")  # fmt: skip

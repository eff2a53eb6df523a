"""The table of estimates against the exact posteriors: conjugate Betas and the grid."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from pooling import estimates, exact
from pooling.data import load_groups

DRAWS = 20_000


@pytest.fixture(scope="module")
def groups():
    return load_groups()


@pytest.fixture(scope="module")
def grid(groups):
    return exact.HierarchicalPosterior(groups)


@pytest.fixture(scope="module")
def grid_draws(grid):
    """Independent draws of (alpha, beta) from the exact grid posterior."""
    u, v, w, _ = grid._ab_grid
    a, b = np.meshgrid(np.exp(u), np.exp(v), indexing="ij")
    k = np.random.default_rng(0).choice(w.size, DRAWS, p=w.ravel())
    return a.ravel()[k], b.ravel()[k]


def test_fold_gives_each_distinct_pair_once_and_maps_every_group_back():
    groups = pd.DataFrame({"trials": [5, 9, 5, 0, 9], "successes": [2, 9, 2, 0, 5]})
    pairs, inverse = estimates.fold(groups)
    assert pairs[["trials", "successes"]].to_numpy().tolist() == [[0, 0], [5, 2], [9, 5], [9, 9]]
    assert pairs["count"].tolist() == [1, 2, 1, 1]
    back = pairs.iloc[inverse][["trials", "successes"]].to_numpy()
    assert (back == groups.to_numpy()).all()


def test_conjugate_models_give_the_exact_beta_posteriors(groups):
    for table, reference in (
        (estimates.no_pooling(groups), exact.no_pooling(groups)),
        (estimates.full_pooling(groups), exact.full_pooling(groups)),
    ):
        rows = reference.reindex(reference.index.repeat(len(groups) // len(reference)))
        for column in ("mean", "sd", "q03", "q97"):
            np.testing.assert_allclose(table[column], rows[column], rtol=1e-12)
    pooled = estimates.full_pooling(groups)
    assert (pooled["mean"] == pooled["mean"].iloc[0]).all()  # one rate for every group


def test_threshold_probabilities_and_q_values(groups):
    table = estimates.no_pooling(groups, threshold=0.9)
    a, b = 0.5 + groups["successes"], 0.5 + groups["trials"] - groups["successes"]
    np.testing.assert_allclose(table["p_above_threshold"], stats.beta(a, b).sf(0.9), rtol=1e-10)
    # The q-value by its definition: the mean error probability of every group at least as
    # probable.
    p = table["p_above_threshold"].to_numpy()
    for i in range(len(p)):
        called = p >= p[i]
        assert table["q_value"].iloc[i] == pytest.approx(np.mean(1 - p[called]), rel=1e-12)
    with pytest.raises(ValueError, match="between 0 and 1"):
        estimates.no_pooling(groups, threshold=1.5)


def test_threshold_probabilities_hold_their_digits_far_in_the_tails():
    # Probabilities from 1 - 1e-6 down to 1e-37, and some that underflow to 0.
    trials = np.array([20_000, 20_000, 5_000, 5_000, 300, 3, 2_000])
    groups = pd.DataFrame({"trials": trials, "successes": [100, 19_900, 1, 4_990, 150, 0, 600]},
                          index=pd.Index(list("abcdefg"), name="vehicle"))  # fmt: skip
    a, b = 0.5 + groups["successes"], 0.5 + trials - groups["successes"]
    smallest = 1.0
    for threshold in (0.003, 0.35, 0.5, 0.999):
        table = estimates.no_pooling(groups, threshold=threshold)
        exact_sf = special.betaincc(a, b, threshold)
        smallest = min(smallest, exact_sf[exact_sf > 0].min())
        np.testing.assert_allclose(table["p_above_threshold"], exact_sf, rtol=1e-9, atol=1e-300)
    assert smallest < 1e-30


def test_tied_groups_share_one_q_value():
    q = estimates.q_values(np.array([0.9, 0.5, 0.9, 0.2]))
    expected = [0.1, (0.1 + 0.1 + 0.5) / 3, 0.1, (0.1 + 0.1 + 0.5 + 0.8) / 4]
    assert q.tolist() == pytest.approx(expected)


def _mixture_se(values: np.ndarray) -> float:
    return float(values.std() / np.sqrt(values.size))


def test_hierarchical_estimates_match_the_grid_posterior(groups, grid, grid_draws):
    alpha, beta = grid_draws
    table = estimates.hierarchical(groups, alpha, beta, threshold=0.9)
    reference = grid.summary()
    for name, row in table.iterrows():
        ref = reference.loc[f"theta[{name}]"]
        a, b = alpha + row["successes"], beta + row["trials"] - row["successes"]
        # Each column's Monte Carlo standard error over the draws (delta method for quantiles).
        means = a / (a + b)
        assert abs(row["mean"] - ref["mean"]) <= 5 * _mixture_se(means) + 1e-6
        second = a * (a + 1) / ((a + b) * (a + b + 1))
        sd_se = (_mixture_se(second) + 2 * row["mean"] * _mixture_se(means)) / (2 * row["sd"])
        assert abs(row["sd"] - ref["sd"]) <= 5 * sd_se + 1e-6
        for q in ("q03", "q97"):
            density = stats.beta(a, b).pdf(row[q]).mean()
            se = _mixture_se(special.betainc(a, b, row[q])) / density
            assert abs(row[q] - ref[q]) <= 5 * se + 1e-6, (name, q)
        for column, threshold in (("p_above_mu", None), ("p_above_threshold", 0.9)):
            at = alpha / (alpha + beta) if threshold is None else threshold
            se = _mixture_se(special.betaincc(a, b, at))
            assert abs(row[column] - grid.prob_above(name, threshold)) <= 5 * se + 1e-9


def test_quantiles_solve_the_mixture_cdf_with_many_pairs(monkeypatch):
    # Many distinct pairs and narrow hyperparameters, as at scale; with a small budget the
    # CDFs use evenly spaced draws, and each quantile solves the mixture CDF of those draws.
    monkeypatch.setattr(estimates, "MIXTURE_BUDGET", 20_000)
    rng = np.random.default_rng(5)
    n = rng.integers(0, 3000, 2000)
    groups = pd.DataFrame({"trials": n, "successes": rng.binomial(n, rng.beta(8, 2, n.size))})
    alpha, beta = rng.normal(8, 0.2, 4000), rng.normal(2, 0.05, 4000)
    table = estimates.hierarchical(groups, alpha, beta)
    used = estimates.mixture_draws(4000, len(estimates.fold(groups)[0]))
    assert used.size == estimates.MIN_DRAWS
    for i in rng.choice(len(groups), 20, replace=False):
        y, f = table["successes"].iloc[i], table["trials"].iloc[i] - table["successes"].iloc[i]
        quantiles = table[["q03", "q97"]].iloc[i].to_numpy(float)
        cdf = special.betainc(alpha[used, None] + y, beta[used, None] + f, quantiles)
        np.testing.assert_allclose(cdf.mean(axis=0), [0.03, 0.97], atol=1e-10)


def test_ranks_follow_the_rates():
    # Rates known almost exactly: every draw ranks the groups the same way.
    groups = pd.DataFrame({"trials": [10**6] * 3, "successes": [500_000, 900_000, 100_000]},
                          index=pd.Index(list("abc"), name="g"))  # fmt: skip
    rng = np.random.default_rng(6)
    theta = rng.beta(1 + groups["successes"], 1 + groups["trials"] - groups["successes"],
                     size=(400, 3))  # fmt: skip
    ranks = estimates.rank_summary(theta, groups.index)
    assert ranks["rank_median"].tolist() == [2, 1, 3]
    assert (ranks["rank_q05"] == ranks["rank_q95"]).all()
    # Two groups with the same data: each is first half of the time.
    theta = rng.beta(3, 5, size=(4000, 2))
    ranks = estimates.rank_summary(theta, pd.Index(["x", "y"]))
    assert ranks["rank_q05"].tolist() == [1, 1] and ranks["rank_q95"].tolist() == [2, 2]


def test_ranks_from_joint_draws_state_their_monte_carlo_error():
    """The largest of ArviZ's quantile errors over the groups and the three quantiles: none
    for rates known exactly, and more with fewer draws."""
    import arviz as az
    import xarray as xr

    rng = np.random.default_rng(9)
    means = np.linspace(0.3, 0.7, 30)
    index = pd.RangeIndex(30, name="g")
    exact_order = np.broadcast_to(means, (500, 30))
    assert estimates.rank_summary(exact_order, index).attrs == {
        "rank_draws": 500,
        "rank_mc_error": 0.0,
    }
    errors = []
    for draws in (4000, 250):
        theta = rng.normal(means, 0.1, size=(draws, 30))
        ranks = estimates.rank_summary(theta, index)
        drawn = 31 - stats.rankdata(theta, axis=1, method="ordinal")  # 1: the highest
        expected = max(float(az.mcse(xr.DataArray(drawn[None], dims=("chain", "draw", "g")),
                                     method="quantile", prob=q).max())
                       for q in estimates.RANK_QUANTILES)  # fmt: skip
        assert ranks.attrs["rank_draws"] == draws
        assert ranks.attrs["rank_mc_error"] == pytest.approx(expected, rel=1e-12)
        errors.append(expected)
    assert 0 < errors[0] < errors[1]


def _many_groups(n_groups: int, seed: int) -> pd.DataFrame:
    """Distinct pairs of a synthetic table with a rate that owes nothing to the trials."""
    rng = np.random.default_rng(seed)
    trials = rng.integers(1, 400, n_groups)
    groups = pd.DataFrame(
        {"trials": trials, "successes": rng.binomial(trials, rng.beta(6, 4, n_groups))}
    )
    pairs, _ = estimates.fold(groups)
    return pairs


def test_rank_function_finds_the_smallest_rank_that_reaches_each_quantile():
    """Past the whole ranks of G^-1 too (20,000 groups): P(rank <= r) reaches q at the rank
    found and not one rank before, as bisection would find it."""
    pairs = _many_groups(20_000, 11)
    rng = np.random.default_rng(12)
    alpha, beta = rng.normal(6, 0.1, 400), rng.normal(4, 0.07, 400)
    ranks = estimates.rank_function(pairs, alpha, beta, rng)
    rows = np.arange(0, len(pairs), 7)
    for q, found in zip((0.05, 0.5, 0.95), ranks.quantiles(rows=rows), strict=True):
        assert (ranks.cdf(found, rows) >= q).all()
        assert (ranks.cdf(found - 1, rows) < q).all()
        assert found.min() >= 1 and found.max() <= ranks.n_groups
    assert found.max() > estimates.RANK_EXACT_UP_TO  # the levels past whole ranks were used


def test_rank_function_ranks_the_lowest_rate_last_without_a_warning():
    """A group far below every other: its rank quantiles are all the last rank, found at
    the top level (which stands for more groups than there are) with no invalid value."""
    pairs = _many_groups(20_000, 11)
    lowest = pd.DataFrame({"trials": [5000], "successes": [0], "count": [1]})
    pairs = pd.concat([pairs, lowest], ignore_index=True)
    rng = np.random.default_rng(12)
    alpha, beta = rng.normal(6, 0.1, 400), rng.normal(4, 0.07, 400)
    ranks = estimates.rank_function(pairs, alpha, beta, rng)
    assert ranks._levels()[-1] > ranks.n_groups  # the case: a level past every group
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = ranks.quantiles(rows=[len(pairs) - 1])
    assert [int(q[0]) for q in found] == [ranks.n_groups] * 3


def test_rank_function_of_the_exchangeable_model_agrees_with_joint_draws(groups, grid_draws):
    """Rat tumours: the ranks from each rate's own posterior against those of 4,000 joint
    draws of every rate, within the stated errors."""
    alpha, beta = grid_draws
    pairs, inverse = estimates.fold(groups)
    ranks = estimates.rank_function(pairs, alpha, beta, np.random.default_rng(4))
    fast = estimates.hierarchical(groups, alpha, beta, theta=ranks)
    joint = estimates.rate_draws(groups, alpha[:4000], beta[:4000], np.random.default_rng(5))
    brute = estimates.hierarchical(groups, alpha[:4000], beta[:4000], theta=joint)
    allowed = 2 * ranks.spread + 3 * ranks.mc_error + 1
    for column in ("rank_median", "rank_q05", "rank_q95"):
        assert (fast[column] - brute[column]).abs().max() <= allowed, column
    assert (fast["rank_q05"] <= fast["rank_median"]).all()


def test_estimates_table_has_one_row_per_group_per_model(groups, grid_draws):
    alpha, beta = grid_draws
    theta = np.random.default_rng(7).beta(
        alpha[:, None] + groups["successes"].to_numpy(),
        beta[:, None] + (groups["trials"] - groups["successes"]).to_numpy(),
    )
    table = estimates.estimates_table({
        "no_pooling": estimates.no_pooling(groups),
        "full_pooling": estimates.full_pooling(groups),
        "hierarchical": estimates.hierarchical(groups, alpha, beta, theta),
    })  # fmt: skip
    assert list(table.columns) == ["model", "vehicle", "trials", "successes", "mean", "sd",
                                   "q03", "q97", "rank_median", "rank_q05", "rank_q95",
                                   "p_above_mu"]  # fmt: skip
    assert table.groupby("model", sort=False).size().to_dict() == {
        "no_pooling": 4, "full_pooling": 4, "hierarchical": 4}  # fmt: skip
    hierarchical = table[table["model"] == "hierarchical"].set_index("vehicle")
    assert hierarchical.loc["Falcon 9", "rank_median"] == 1
    assert table.loc[table["model"] != "hierarchical", "rank_median"].isna().all()

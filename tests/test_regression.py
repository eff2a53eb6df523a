"""The population on the groups' predictors: its fit, estimates and ranks against exact answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import checks, estimates, predictors, regression, trials_check
from pooling.data import load_groups
from pooling.exact.regression import RegressionPosterior
from pooling.folded_regression import FoldedRegression


@pytest.fixture(scope="module")
def rats():
    groups = load_groups("data/rat_tumours.csv", "experiment", "rats", "tumours")
    design = predictors.design(groups, ["log_trials"])
    return groups, design, RegressionPosterior(groups, design)


@pytest.fixture(scope="module")
def fit(rats):
    groups, design, _ = rats
    rows, _ = regression.fold(groups, design)
    return FoldedRegression(rows, list(design.columns)).sample(
        draws=1000, tune=1000, chains=4, target_accept=0.95, seed=5
    )


def test_the_same_seed_gives_the_same_draws(rats, fit):
    groups, design, _ = rats
    rows, _ = regression.fold(groups, design)
    again = FoldedRegression(rows, list(design.columns)).sample(
        draws=1000, tune=1000, chains=4, target_accept=0.95, seed=5
    )
    for name in ("a", "b", "kappa"):
        np.testing.assert_array_equal(again.posterior[name], fit.posterior[name])


def test_the_fit_agrees_with_the_exact_grid(rats, fit):
    _, _, grid = rats
    assert checks.divergences(fit) == 0
    checks.assert_converged(fit, ["a", "b", "kappa"])
    table = checks.assert_matches_exact(fit, grid.summary(names=[]))
    assert list(table.index) == ["a", "b[log_trials]", "kappa"]


@pytest.fixture(scope="module")
def draws(fit):
    """The fit's flattened draws of a, b (draws, predictors) and kappa."""
    post = fit.posterior
    a = post["a"].to_numpy().ravel()
    return a, post["b"].to_numpy().reshape(a.size, -1), post["kappa"].to_numpy().ravel()


def test_estimates_agree_with_the_exact_grid(rats, fit, draws):
    groups, design, grid = rats
    a, b, kappa = draws
    table = estimates.regression(groups, design, a, b, kappa, threshold=0.1)
    # Quantiles of a dozen groups, from the fewest trials to the most; every group's mean.
    listed = table.index[np.argsort(groups["trials"].to_numpy(), kind="stable")[::6]]
    summary = grid.summary(listed)
    checks.assert_estimates_match_exact(table.loc[listed], fit, summary, groups, design)
    rows, row_of = regression.fold(groups, design)
    mu = regression.means(rows[["log_trials"]].to_numpy(), a, b)
    conditional = (mu * kappa[:, None] + rows["successes"].to_numpy()) / (
        kappa[:, None] + rows["trials"].to_numpy()
    )
    estimated = table["mean"].groupby(row_of).first().to_numpy()
    assert checks.assert_means_match_exact(estimated, grid.means(rows), conditional, fit)["ok"]
    # The probability of a rate above the group's own population mean, exactly.
    k = 7
    exact_p = grid.prob_above_mu(design["log_trials"].iloc[k], groups["successes"].iloc[k],
                                 groups["trials"].iloc[k])  # fmt: skip
    assert table["p_above_mu"].iloc[k] == pytest.approx(exact_p, abs=0.02)
    # A tampered estimate fails.
    wrong = table.loc[listed].assign(mean=table["mean"] + 0.01)
    with pytest.raises(checks.CheckFailed):
        checks.assert_estimates_match_exact(wrong, fit, summary, groups, design)


def test_ranks_from_own_rates_agree_with_joint_draws(rats, draws):
    """The rank function against brute force: ranks of 4,000 joint draws of every rate."""
    groups, design, _ = rats
    a, b, kappa = draws
    rows, _ = regression.fold(groups, design)
    mu = regression.means(rows[["log_trials"]].to_numpy(), a, b)
    rng = np.random.default_rng(3)
    ranks = estimates.rank_function(rows, mu * kappa[:, None], (1 - mu) * kappa[:, None], rng)
    fast = estimates.regression(groups, design, a, b, kappa, theta=ranks)
    brute = estimates.regression(
        groups, design, a, b, kappa, theta=regression.rate_draws(groups, design, a, b, kappa, rng)
    )
    allowed = 2 * ranks.spread + 3 * ranks.mc_error + 1
    for column in ("rank_median", "rank_q05", "rank_q95"):
        assert (fast[column] - brute[column]).abs().max() <= allowed, column
    assert (fast["rank_q05"] <= fast["rank_median"]).all()
    assert (fast["rank_median"] <= fast["rank_q95"]).all()


def test_the_check_on_pairs_is_the_check_on_groups():
    """The normal sums over distinct pairs against replicates drawn group by group."""
    rng = np.random.default_rng(8)
    trials = rng.integers(1, 300, 4000)
    groups = pd.DataFrame({"trials": trials, "successes": rng.binomial(trials, 0.3)})
    alpha, beta = rng.gamma(300, 0.1, 500), rng.gamma(700, 0.1, 500)
    pairs, _ = estimates.fold(groups)
    folded = trials_check.check_pairs(pairs, rng, a=alpha[:, None], b=beta[:, None])
    mu = alpha / (alpha + beta)
    drawn = trials_check.check_draws(regression.rate_draws(
        groups, groups.iloc[:, :0], np.log(mu / (1 - mu)), np.empty((500, 0)), alpha + beta,
        rng), groups, rng)  # fmt: skip
    assert (folded["groups"] == drawn["groups"]).all()
    np.testing.assert_allclose(folded["observed"], drawn["observed"])
    spread = (drawn["replicated_q97"] - drawn["replicated_q03"]) / 4
    assert ((folded["replicated"] - drawn["replicated"]).abs() <= 0.2 * spread).all()
    assert ((folded["z"] - drawn["z"]).abs() <= 0.5).all()


def test_the_regression_removes_a_trend_in_trials():
    """Rates that grow with trials: the exchangeable population fails the check, the
    regression's passes or misses by a fifth as much at most."""
    rng = np.random.default_rng(4)
    trials = rng.choice([1, 2, 4, 8, 16, 32, 64, 128, 256], 3000)
    rate = 1 / (1 + np.exp(-(-1.5 + 0.3 * (np.log(trials) - 3))))
    groups = pd.DataFrame({"trials": trials, "successes": rng.binomial(trials, rng.beta(
        rate * 200, (1 - rate) * 200))}, index=[f"g{i}" for i in range(3000)])  # fmt: skip
    design = predictors.design(groups, ["log_trials"], "simulated")
    grid = RegressionPosterior(groups, design)
    a, b, kappa, w = grid._points()
    kept = rng.choice(len(w), 400, p=w)
    blocks = regression.rate_draws(groups, design, a[kept], b[kept, None], kappa[kept], rng)
    with_trials = trials_check.check_draws(blocks, groups, rng)
    exchangeable = RegressionPosterior(groups, design, priors={"b_sd": 1e-6})
    a, b, kappa, w = exchangeable._points()
    kept = rng.choice(len(w), 400, p=w)
    blocks = regression.rate_draws(groups, design, a[kept], b[kept, None], kappa[kept], rng)
    without = trials_check.check_draws(blocks, groups, rng)
    assert without["fails"].any() and without["matters"].any()
    assert with_trials["misfit"].abs().max() <= without["misfit"].abs().max() / 5

"""The check of rates against trials: bins, p-values that can fail, and the verdict's words."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pooling import trials_check
from pooling.data import load_groups


def groups_of(tmp_path, trials, successes):
    path = tmp_path / "groups.csv"
    pd.DataFrame({"unit": [f"U{i:05d}" for i in range(len(trials))], "n": trials,
                  "k": successes}).to_csv(path, index=False)  # fmt: skip
    return load_groups(path, group="unit", trials="n", successes="k")


def exact_fit(groups, alpha=None, beta=None, draws=2000, seed=0):
    """A fit of one chain: full pooling from its exact posterior, or the hierarchical model
    at draws of ``alpha`` and ``beta`` (with the rate of the first group only, as past
    ``scale.MANY`` groups, so that every group's rate is drawn given the population)."""
    dim = groups.attrs["labels"].group
    y, n = groups["successes"].to_numpy(), groups["trials"].to_numpy()
    if alpha is None:  # the common rate's exact posterior under a uniform prior
        theta = np.random.default_rng(seed).beta(1 + y.sum(), 1 + (n - y).sum(), draws)
        return az.from_dict({"posterior": {"theta": theta[None]}})
    theta = np.full(len(alpha), 0.5)
    posterior = {"alpha": alpha[None], "beta": beta[None], "theta": theta[None, :, None]}
    return az.from_dict({"posterior": posterior}, coords={dim: groups.index[:1].to_numpy()},
                        dims={"theta": [dim]})  # fmt: skip


def replicates_fit(groups, rate, seed, draws=4000):
    """Few groups under full pooling at a known ``rate``: the fit's own replicates,
    ``Binomial(N_i, rate)``, as ``pm.sample_posterior_predictive`` would draw them."""
    trials = groups["trials"].to_numpy()
    y_rep = np.random.default_rng(seed).binomial(trials, np.full((draws, 1), rate))
    return az.from_dict({"posterior": {"theta": np.full((1, draws), rate)},
                         "posterior_predictive": {"y": y_rep[None]}},
                        coords={"unit": groups.index.to_numpy()}, dims={"y": ["unit"]})  # fmt: skip


def test_bins_are_fifths_of_log_trials_or_fewer():
    trials = np.r_[0, np.arange(1, 101)]
    where = trials_check.bins(trials)
    assert where[0] == -1
    assert np.bincount(where[1:]).tolist() == [20] * 5
    assert (np.diff(where[1:]) >= 0).all()  # fewest trials first
    assert set(trials_check.bins([3, 5, 9, 40])) == {0}  # 4 groups: one bin
    assert set(trials_check.bins(np.arange(1, 31))) == {0, 1, 2}  # 30 groups: three
    # Ties never straddle a bin: 60 groups of 10 trials and 40 of 20 make two bins.
    assert np.bincount(trials_check.bins(np.r_[[10] * 60, [20] * 40])).tolist() == [60, 40]


def test_a_model_that_fits_passes_and_says_so(tmp_path):
    rng = np.random.default_rng(1)
    trials = np.exp(rng.uniform(0, 7, 5000)).astype(int) + 1
    groups = groups_of(tmp_path, trials, rng.binomial(trials, 0.3))
    table = trials_check.check(exact_fit(groups), groups, np.random.default_rng(2))
    assert len(table) == 5 and table["groups"].sum() == 5000
    assert not table["fails"].any() and (table["p_value"] > 0.01).all()
    np.testing.assert_allclose(table["replicated"], 0.3, atol=0.01)
    assert trials_check.verdict(table).startswith("reproduces the pooled rate in every bin")


def test_a_rate_that_grows_with_trials_fails_the_exchangeable_model_and_says_by_how_much(
    tmp_path,
):
    # logit(rate) linear in log(trials), as for batting: few at-bats, low rates.
    rng = np.random.default_rng(3)
    trials = np.exp(rng.uniform(0, 8, 10_000)).astype(int) + 1
    mean = 1 / (1 + np.exp(-(-2.2 + 0.2 * np.log(trials))))
    successes = rng.binomial(trials, rng.beta(40 * mean, 40 * (1 - mean)))
    groups = groups_of(tmp_path, trials, successes)
    # The exchangeable hierarchical model at its (nearly exact) population: a Beta with the
    # pooled mean and the rates' spread, as an empirical-Bayes fit finds it.
    pooled = successes.sum() / trials.sum()
    a, b = np.full(2000, 30 * pooled), np.full(2000, 30 * (1 - pooled))
    fit = exact_fit(groups, alpha=a, beta=b)
    table = trials_check.check(fit, groups, np.random.default_rng(4))
    low = table.iloc[0]
    assert low["fails"] and low["misfit"] > 0.1 and low["matters"]  # overestimated
    assert (np.diff(table["misfit"]) < 0).all()  # less and less with more trials
    # The misfit is the replicated mean minus the observed pooled rate of the bin.
    inside = trials_check.bins(trials) == 0
    assert low["observed"] == pytest.approx(successes[inside].sum() / trials[inside].sum())
    words = trials_check.verdict(table)
    worst = table.loc[table["misfit"].abs().idxmax()]
    assert words.startswith(("overestimates", "underestimates"))
    assert f"by {abs(worst['misfit']):.3f} (p < 0.001), large next to" in words
    assert f"{worst['groups']:,} groups with {worst['trials_from']:,} to" in words


def test_the_p_value_is_two_sided_and_matches_its_replicates(tmp_path):
    # One bin of 4 groups under full pooling: the replicated pooled rate is binomial.
    groups = groups_of(tmp_path, [10, 20, 30, 40], [9, 18, 27, 36])
    fit = replicates_fit(groups, 0.5, seed=6)
    table = trials_check.check(fit, groups, np.random.default_rng(5))
    row = table.iloc[0]
    assert row["observed"] == 0.9 and row["fails"]
    # P(Binomial(100, 0.5) >= 90) is below 1e-15: no replicate reaches it.
    assert row["p_value"] == 0 and stats.binom.sf(89, 100, 0.5) < 1e-15
    assert row["replicated"] == pytest.approx(0.5, abs=0.005)
    assert trials_check.verdict(table).startswith(
        "underestimates the 4 groups with 10 to 40 trials by 0.4"
    )


def test_one_bin_says_all_groups(tmp_path):
    groups = groups_of(tmp_path, [10, 20, 30, 40], [5, 10, 15, 20])
    fit = replicates_fit(groups, 0.5, seed=7)
    table = trials_check.check(fit, groups, np.random.default_rng(8))
    assert len(table) == 1 and not table["fails"].any()
    assert trials_check.verdict(table).startswith("reproduces the pooled rate of all groups (p = ")


def test_check_pairs_sums_per_distinct_trials_as_it_would_per_pair():
    """A population per predictor row (``columns``) and a shared one give the numbers of the
    same population written out per pair, with the same replicates' normal draws."""
    rng = np.random.default_rng(21)
    trials = rng.integers(0, 60, 3000)
    successes = rng.binomial(trials, 0.4)
    pairs = pd.DataFrame({"trials": trials, "successes": successes}).value_counts()
    pairs = pairs.rename("count").reset_index().sort_values(["trials", "successes"])
    columns = (pairs["trials"].to_numpy() > 20).astype(int)  # two predictor rows
    a, b = rng.gamma(40, 0.1, (300, 2)), rng.gamma(60, 0.1, (300, 2))
    numbers = ["observed", "replicated", "replicated_q03", "replicated_q97", "z", "p_value"]
    for shared in (False, True):
        at = np.zeros_like(columns) if shared else columns
        by_row = trials_check.check_pairs(pairs, np.random.default_rng(3), a=a[:, :2 - shared],
                                          b=b[:, :2 - shared], columns=at)  # fmt: skip
        by_pair = trials_check.check_pairs(pairs, np.random.default_rng(3), a=a[:, at],
                                           b=b[:, at])  # fmt: skip
        np.testing.assert_allclose(by_row[numbers], by_pair[numbers], rtol=1e-10, atol=1e-12)
        assert len(by_row) == trials_check.MOST_BINS
    without = trials_check.check_pairs(pairs, np.random.default_rng(3), a=a[:, :1], b=b[:, :1])
    np.testing.assert_allclose(without[numbers], by_row[numbers], rtol=1e-10, atol=1e-12)

"""The folded likelihood: the same beta-binomial posterior as every group's own terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import special, stats

from pooling import checks, exact, folded

TRIALS, SUCCESSES = [5, 5, 9, 0, 40, 5], [2, 2, 9, 0, 31, 4]


def frame(trials, successes):
    index = pd.Index([f"g{i}" for i in range(len(trials))], name="group")
    return pd.DataFrame({"trials": trials, "successes": successes}, index=index)


def test_each_distinct_count_enters_once_with_its_weight():
    terms = folded.rising_terms(frame(TRIALS, SUCCESSES))
    assert [len(k) for k, _ in (terms.successes, terms.failures, terms.trials)] == [4, 3, 3]
    assert terms.trials[0].tolist() == [5, 9, 40] and terms.trials[1].tolist() == [3, 1, 1]


def test_folded_likelihood_is_every_groups_beta_binomial_up_to_a_constant():
    terms = folded.rising_terms(frame(TRIALS, SUCCESSES))
    a, b = np.meshgrid(np.linspace(0.1, 30, 7), np.linspace(0.1, 30, 7))
    value = np.vectorize(lambda x, y: terms.log_likelihood(x, y, special.gammaln))(a, b)
    direct = sum(stats.betabinom.logpmf(y, n, a, b) for n, y in zip(TRIALS, SUCCESSES, strict=True))
    np.testing.assert_allclose(value - direct, (value - direct).flat[0], atol=1e-9)


def test_evaluate_is_the_sum_of_log_rising_factorials_everywhere():
    # Points from a grid's far corners (tiny alpha) to large ones, with repeated values.
    rng = np.random.default_rng(4)
    trials = rng.integers(0, 3000, 500)
    terms = folded.RisingTerms(trials, rng.binomial(trials, 0.3))
    a, b = np.meshgrid(np.exp(np.linspace(-16, 7, 9)), np.exp(np.linspace(-16, 7, 5)))
    want = np.vectorize(lambda x, y: terms.log_likelihood(x, y, special.gammaln))(a, b)
    np.testing.assert_allclose(terms.evaluate(a, b), want, rtol=1e-11, atol=1e-8)


def test_evaluate_interpolates_a_narrow_grid_to_rounding_and_only_there(monkeypatch):
    rng = np.random.default_rng(4)
    trials = rng.integers(0, 3000, 5000)
    terms = folded.RisingTerms(trials, rng.binomial(trials, 0.3))
    # A zoomed grid: 100 x 100 points a few percent around alpha = 8, beta = 20, so that
    # alpha + beta takes 10^4 distinct values.
    a, b = np.meshgrid(8 * np.exp(np.linspace(-0.05, 0.05, 100)),
                       20 * np.exp(np.linspace(-0.05, 0.05, 100)))  # fmt: skip
    want = np.vectorize(lambda x, y: terms.log_likelihood(x, y, special.gammaln))(a, b)
    got = terms.evaluate(a, b)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # That grid's alpha + beta series is interpolated; near x = 0 none is tried.
    series = terms.segmented()[2][2]
    total = np.unique(a + b)
    np.testing.assert_allclose(folded._interpolated(total, series), folded._sums(total, series),
                               rtol=1e-13)  # fmt: skip
    assert folded._interpolated(np.linspace(1e-3, 30, total.size), series) is None
    # Where no interpolant matches the exact sums, none is used.
    monkeypatch.setattr(folded, "CHEBYSHEV_TOLERANCE", 0.0)
    assert folded._interpolated(total, series) is None
    np.testing.assert_allclose(terms.evaluate(a, b), got, rtol=1e-12)


@pytest.mark.parametrize("longest", [1, 3, 10, 10**9])
def test_segments_give_the_rising_factorial_sums(longest):
    rng = np.random.default_rng(longest % 97)
    steps = np.unique(np.r_[rng.integers(1, 60, 30), rng.integers(60, 5000, 20)]).astype(float)
    counts = rng.integers(1, 9, steps.size).astype(float)
    (log_at, log_w), (gamma_at, gamma_w) = folded.segments(steps, counts, longest)
    for x in (0.03, 1.7, 250.0):
        want = (counts * (special.gammaln(x + steps) - special.gammaln(x))).sum()
        got = (log_w * np.log(x + log_at)).sum() + (gamma_w * special.gammaln(x + gamma_at)).sum()
        assert got == pytest.approx(want, rel=1e-11)
    if longest == 1:
        assert log_at.size <= steps.size  # only runs of one term as logs


def test_prior_model_has_the_grid_posterior():
    # PyMC's log density of the folded model, on the log scale it samples, is the grid's.
    groups = frame(TRIALS, SUCCESSES)
    model = folded.prior_model(groups, sigma=10.0)
    logp = model.compile_logp()
    grid = exact.HierarchicalPosterior(groups)
    points = [(-1.0, 0.5), (0.3, 2.0), (2.5, -0.7)]
    values = [logp({"alpha_log__": u, "beta_log__": v}) for u, v in points]
    expected = [float(grid.log_density(u, v)) for u, v in points]
    np.testing.assert_allclose(np.subtract(values, expected), values[0] - expected[0], atol=1e-9)


@pytest.mark.parametrize("groups", [frame(TRIALS, SUCCESSES), frame([0, 0], [0, 0])],
                         ids=["counts", "no trials"])  # fmt: skip
def test_the_sampled_density_is_the_prior_models(groups):
    """FoldedPrior's density and gradient (anchored at its mode) are PyMC's, near the mode
    and far from it."""
    model = folded.prior_model(groups, sigma=10.0)
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    anchored = folded.FoldedPrior(groups, sigma=10.0)
    points = anchored.anchor + np.array([[0, 0], [1e-3, -2e-3], [0.05, 0.02], [-3.0, 4.0]])
    ours = [anchored.value_and_gradient(point) for point in points]
    theirs = [{"alpha_log__": u, "beta_log__": v} for u, v in points]
    values = np.array([value for value, _ in ours])
    expected = np.array([logp(point) for point in theirs])
    np.testing.assert_allclose(values - values[0], expected - expected[0], rtol=1e-10,
                               atol=1e-9)  # fmt: skip
    for (_, gradient), point in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(gradient, dlogp(point), rtol=1e-9, atol=1e-9)


@pytest.mark.slow
def test_fit_prior_agrees_with_the_grid():
    rng = np.random.default_rng(9)
    trials = rng.integers(20, 400, 3000)
    groups = frame(trials, rng.binomial(trials, rng.beta(8, 24, trials.size)))
    idata = folded.fit_prior(groups, sigma=10.0, seed=1, draws=3000, tune=1000, chains=4,
                             target_accept=0.9)  # fmt: skip
    checks.assert_converged(idata, ["alpha", "beta", "mu"])
    checks.assert_no_divergences(idata)
    reference = exact.HierarchicalPosterior(groups).summary([]).loc[["alpha", "beta", "mu"]]
    assert checks.assert_matches_exact(idata, reference)["ok"].all()


def test_a_prior_model_of_no_data_is_the_prior():
    model = folded.prior_model(frame([0, 0], [0, 0]), sigma=10.0)
    draws = pm.draw(model["alpha"], draws=2000, random_seed=1)
    assert np.mean(draws) == pytest.approx(stats.halfnorm(scale=10).mean(), rel=0.1)

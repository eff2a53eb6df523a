"""The predictive statistics of notebook 4 keep their power with many groups."""

from __future__ import annotations

import numpy as np

from pooling import predictive


def _replicated(trials, alpha, beta, rng, replicates=400):
    """Statistics of data replicated from Beta(alpha, beta) rates, as the notebook takes them."""
    theta = rng.beta(alpha, beta, size=(replicates, trials.size))
    rates = rng.binomial(trials, theta) / trials
    return {name: fn(rates, axis=1) for name, fn in predictive.STATISTICS.items()}


def test_a_tie_counts_half():
    assert predictive.p_value(np.array([0.0, 0.0, 0.0, 1.0]), 0.0) == 0.25 + 3 / 8
    assert predictive.p_value(np.array([0.2, 0.3]), 0.1) == 1.0


def test_data_like_the_models_fit_and_extra_zeros_do_not():
    """20,000 groups with 1 to 20 trials: the minimum and maximum rate are 0 and 1 in the data
    and in every replicate, but the shares are not, and a tenth of the groups with a rate of
    0 that the model does not have is found, in words."""
    rng = np.random.default_rng(3)
    trials = rng.integers(1, 21, 20_000)
    replicated = _replicated(trials, 4.0, 6.0, rng)
    like = rng.binomial(trials, rng.beta(4.0, 6.0, trials.size)) / trials
    assert like.min() == 0 and like.max() == 1
    table = predictive.check(replicated, like)
    assert (table["verdict"] == "fits").all(), table
    unlike = np.where(rng.random(trials.size) < 0.1, 0.0, like)
    table = predictive.check(replicated, unlike)
    assert table.loc["share at 0", "verdict"].startswith("the data have more groups without a")
    assert table.loc["share at 0", "p"] < predictive.LEVEL / 6
    # Those groups are no longer at 1 either (if they were), which the share at 1 sees.
    assert table.loc["share at 1", "verdict"].startswith("the data have fewer groups without")

"""The regression's folded log density in Numba: the notebook's model, anchored or not."""

from __future__ import annotations

import numpy as np
import pytest

from pooling import predictors, regression
from pooling.data import load_groups
from pooling.folded_regression import FoldedRegression


@pytest.fixture(scope="module")
def rats():
    groups = load_groups("data/rat_tumours.csv", "experiment", "rats", "tumours")
    return groups, predictors.design(groups, ["log_trials"])


def test_the_folded_density_is_the_notebooks_beta_binomial(rats):
    """The compiled log density and its gradient equal pm.BetaBinomial's, up to a constant."""
    import pymc as pm

    groups, design = rats
    rows, _ = regression.fold(groups, design)
    folded = FoldedRegression(rows, ["log_trials"])
    with pm.Model(coords={"predictor": ["log_trials"]}) as plain:
        a, b = pm.Normal("a", 0, 1.5), pm.Normal("b", 0, 1, dims="predictor")
        kappa = pm.LogNormal("kappa", 3, 2)
        mu = pm.math.invlogit(a + pm.math.dot(rows[["log_trials"]].to_numpy(), b))
        counts = pm.BetaBinomial.dist(n=rows["trials"].to_numpy(), alpha=mu * kappa,
                                      beta=(1 - mu) * kappa)  # fmt: skip
        pm.Potential("y", (rows["count"].to_numpy()
                           * pm.logp(counts, rows["successes"].to_numpy())).sum())  # fmt: skip
    logp, dlogp = plain.compile_logp(), plain.compile_dlogp()
    # Near the mode (Taylor series about it) and far from it (log Gammas).
    points = [
        folded.anchor,
        folded.anchor + [0.05, -0.03, 0.1],
        [-1.2, -0.4, 1.0],
        [-3.0, 1.5, 6.0],
    ]
    values, plain_values = [], []
    for point in points:
        value, gradient = folded.value_and_gradient(point)
        at = {"a": point[0], "b": np.array([point[1]]), "kappa_log__": point[2]}
        values.append(value)
        plain_values.append(logp(at))
        np.testing.assert_allclose(gradient, dlogp(at), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.subtract(values, values[0]),
                               np.subtract(plain_values, plain_values[0]), atol=1e-8)  # fmt: skip


def test_the_taylor_series_give_the_log_gammas(rats):
    """Anchored or not, the same density and gradient, near the anchor and far from it."""
    groups, design = rats
    rows, _ = regression.fold(groups, design)
    anchored = FoldedRegression(rows, ["log_trials"])
    direct = FoldedRegression(rows, ["log_trials"], expand=False)
    rng = np.random.default_rng(3)
    for scale in (1e-6, 1e-3, 0.03, 0.3, 3.0):
        for point in anchored.anchor + rng.normal(0, scale, (5, 3)):
            value, gradient = anchored.value_and_gradient(point)
            expected, expected_gradient = direct.value_and_gradient(point)
            assert value == pytest.approx(expected, rel=1e-13, abs=1e-9)
            np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-10, atol=1e-9)
    points = anchored.anchor + rng.normal(0, 0.1, (7, 3))
    np.testing.assert_allclose(anchored.log_density(points),
                               [direct.value_and_gradient(p)[0] for p in points],
                               rtol=1e-13)  # fmt: skip

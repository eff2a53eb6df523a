"""The exact posterior of the one-predictor regression model on its grid."""

from __future__ import annotations

import numpy as np
import pytest

from pooling import predictors
from pooling.data import load_groups
from pooling.exact.regression import RegressionPosterior


@pytest.fixture(scope="module")
def rats():
    groups = load_groups("data/rat_tumours.csv", "experiment", "rats", "tumours")
    design = predictors.design(groups, ["log_trials"])
    return groups, design, RegressionPosterior(groups, design)


def test_the_grid_holds_the_mass_and_does_not_depend_on_its_points(rats, monkeypatch):
    from pooling.exact import regression as exact_regression

    groups, design, grid = rats
    assert grid.edge_mass < 1e-9 and [len(axis) for axis in grid.grid[0]] == [61, 61, 61]
    monkeypatch.setattr(exact_regression, "GRID_TERMS", 4 * 10**6)  # 46 points per axis
    coarser = RegressionPosterior(groups, design)
    assert [len(axis) for axis in coarser.grid[0]] == [46, 46, 46]
    np.testing.assert_allclose(grid.summary(groups.index[:3]), coarser.summary(groups.index[:3]),
                               rtol=2e-3)  # fmt: skip


def test_the_grid_matches_importance_sampling_from_the_prior(rats):
    """A sampler-free reference: the prior's draws weighted by the likelihood."""
    groups, design, grid = rats
    rng = np.random.default_rng(12)
    n = 400_000
    a, b = rng.normal(0, 1.5, n), rng.normal(0, 1, n)
    log_kappa = rng.normal(3, 2, n)
    prior = -0.5 * (a / 1.5) ** 2 - 0.5 * b**2 - 0.5 * ((log_kappa - 3) / 2) ** 2
    log_w = grid.log_density(a, b, log_kappa) - prior
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = 1 / np.sum(w**2)
    summary = grid.summary(names=[])
    for name, values in (("a", a), ("b[log_trials]", b)):
        mean = w @ values
        sd = np.sqrt(w @ (values - mean) ** 2)
        assert abs(mean - summary.loc[name, "mean"]) < 5 * sd / np.sqrt(ess), name


def test_one_predictor_only(rats):
    groups, _, _ = rats
    design = predictors.design(groups, ["log_trials_cubic"])
    with pytest.raises(ValueError, match="SBC is the check"):
        RegressionPosterior(groups, design)

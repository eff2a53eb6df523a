"""The Monte Carlo error of many means at once: ArviZ's values, column by column."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr

from pooling import mcse


@pytest.mark.parametrize(("chains", "draws"), [(4, 250), (1, 103), (2, 7), (4, 1000)])
def test_the_same_values_as_arviz(chains, draws, monkeypatch):
    monkeypatch.setattr(mcse, "COLUMNS_AT_ONCE", 37)  # several blocks of columns
    rng = np.random.default_rng([chains, draws])
    # AR(1) columns from anticorrelated to strongly correlated, and a constant one.
    phi = rng.uniform(-0.5, 0.97, 120)
    values = np.zeros((chains, draws, phi.size))
    noise = rng.normal(size=values.shape)
    for t in range(1, draws):
        values[:, t] = phi * values[:, t - 1] + noise[:, t]
    values[..., 0] = 3.0
    expected_ess = az.ess(xr.DataArray(values, dims=("chain", "draw", "row")), method="mean")
    np.testing.assert_allclose(mcse.ess_of_means(values), expected_ess.to_numpy(), rtol=1e-12)
    expected = az.mcse(xr.DataArray(values[..., 1:], dims=("chain", "draw", "row")),
                       method="mean")  # fmt: skip
    got = mcse.mcse_of_means(values)
    np.testing.assert_allclose(got[1:], expected.to_numpy(), rtol=1e-12)
    assert got[0] == 0.0
    both = mcse.mcse_and_ess_of_means(values)
    np.testing.assert_array_equal(both[0], got)
    np.testing.assert_array_equal(both[1], mcse.ess_of_means(values))


@pytest.mark.parametrize("prob", [0.05, 0.5, 0.95])
def test_quantile_errors_are_arviz_values_for_draws_and_for_ranks(prob, monkeypatch):
    """Continuous AR(1) columns and whole-number ranks with ties, several blocks of columns."""
    monkeypatch.setattr(mcse, "COLUMNS_AT_ONCE", 23)
    rng = np.random.default_rng(int(prob * 100))
    phi = rng.uniform(-0.3, 0.9, 50)
    values = np.zeros((4, 300, phi.size))
    noise = rng.normal(size=values.shape)
    for t in range(1, values.shape[1]):
        values[:, t] = phi * values[:, t - 1] + noise[:, t]
    ranks = np.clip(np.rint(values * 2 + 5), 1, 9).astype(np.int32)
    ranks[..., 0] = 1  # always first
    for data in (values, ranks):
        expected = az.mcse(xr.DataArray(data, dims=("chain", "draw", "row")), method="quantile",
                           prob=prob)  # fmt: skip
        np.testing.assert_allclose(mcse.mcse_of_quantiles(data, prob), expected.to_numpy(),
                                   rtol=1e-12, atol=1e-12)  # fmt: skip

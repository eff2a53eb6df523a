"""A log density given as a function: its mode, and NUTS on it through nutpie, with no PyMC."""

from __future__ import annotations

import numpy as np
import pytest

from pooling import function_fits

# A correlated normal in two dimensions: the exact answer for both.
MEAN = np.array([1.5, -2.0])
COVARIANCE = np.array([[1.0, 0.6], [0.6, 0.5]])
PRECISION = np.linalg.inv(COVARIANCE)


def normal(point):
    offset = np.asarray(point, float) - MEAN
    gradient = -PRECISION @ offset
    return float(0.5 * offset @ gradient), gradient


def test_the_mode_is_the_densitys():
    found = function_fits.posterior_mode(normal, np.zeros(2))
    np.testing.assert_allclose(found, MEAN, atol=1e-7)


@pytest.fixture(scope="module")
def draws():
    def sample(seed):
        return function_fits.sample_function(
            normal, lambda point: {"x": np.array(point[0]), "xy": np.array(point)},
            {"x": (), "xy": (2,)}, np.zeros(2), draws=2000, tune=1000, chains=2,
            target_accept=0.9, seed=seed, mass_matrix="low rank", cores=1,
        )  # fmt: skip

    return sample(7), sample(7)


def test_nuts_on_a_function_draws_from_its_density(draws):
    post = draws[0].posterior
    assert post["x"].shape == (2, 2000) and post["xy"].shape == (2, 2000, 2)
    xy = post["xy"].to_numpy().reshape(-1, 2)
    np.testing.assert_array_equal(xy[:, 0], post["x"].to_numpy().ravel())
    # Within 5 standard errors of the exact moments (draws are nearly independent here).
    error = np.sqrt(np.diag(COVARIANCE) / xy.shape[0])
    assert np.all(np.abs(xy.mean(axis=0) - MEAN) < 5 * 2 * error)
    np.testing.assert_allclose(np.cov(xy.T), COVARIANCE, rtol=0.15)
    assert int(draws[0].sample_stats["diverging"].sum()) == 0


def test_the_same_seed_gives_the_same_draws(draws):
    np.testing.assert_array_equal(draws[0].posterior["xy"], draws[1].posterior["xy"])

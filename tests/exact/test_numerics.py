"""Shared numerics: quantiles from a tabulated density, mixture quantiles, maxima, Laplace sds."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from pooling.exact.numerics import (
    laplace_sd,
    mixture_quantile,
    mu_kappa_to_log_ab,
    quantiles_from_density,
    refine_maximum,
)


def test_quantiles_from_a_tabulated_density_match_the_distribution():
    x = np.linspace(0.0, 1.0, 2001)
    got = quantiles_from_density(x, stats.beta(3.0, 7.0).pdf(x))
    np.testing.assert_allclose(got, stats.beta(3.0, 7.0).ppf([0.03, 0.97]), atol=1e-6)


def test_mixture_quantile_solves_the_mixture_cdf():
    a, b, w = np.array([2.0, 9.0]), np.array([8.0, 3.0]), np.array([0.3, 0.7])
    q = mixture_quantile(0.5, a, b, w)
    assert abs(w @ special.betainc(a, b, q) - 0.5) < 1e-10
    # a one-component mixture is that Beta
    assert abs(mixture_quantile(0.97, a[:1], b[:1], np.ones(1)) - stats.beta(2, 8).ppf(0.97)) < 1e-9


def test_mu_kappa_map_inverts():
    mu, kappa = 0.8, 12.0
    log_a, log_b = mu_kappa_to_log_ab(special.logit(mu), np.log(kappa))
    np.testing.assert_allclose([np.exp(log_a), np.exp(log_b)], [mu * kappa, (1 - mu) * kappa])


def test_refine_maximum_finds_the_mode_between_grid_points():
    mode = (5.0 - 1.0) / (5.0 + 3.0 - 2.0)  # Beta(5, 3)
    pdf = stats.beta(5.0, 3.0).pdf
    got = refine_maximum(lambda x: np.atleast_1d(pdf(x)), np.linspace(0.01, 0.99, 50))
    assert abs(got - mode) < 1e-7


def test_laplace_sds_of_a_correlated_normal_are_its_marginal_sds():
    """Exact for a quadratic: the sds of a normal with correlation 0.9; 1 at a saddle."""
    covariance = np.array([[4.0, 0.9, 0.0], [0.9, 0.25, 0.0], [0.0, 0.0, 9.0]])  # 0.9 * 2 * 0.5
    precision = np.linalg.inv(covariance)
    mode = np.array([1.0, -2.0, 0.5])

    def negative(point):
        d = point - mode
        return 0.5 * d @ precision @ d

    sd = laplace_sd(negative, mode, np.full(3, 1e-3))
    np.testing.assert_allclose(sd, [2.0, 0.5, 3.0], rtol=1e-6)
    saddle = laplace_sd(lambda p: p[0] ** 2 - p[1] ** 2, np.zeros(2), np.full(2, 1e-3))
    assert saddle[1] == 1.0

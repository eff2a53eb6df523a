"""Sums of log Gammas: Stirling's series, and the Taylor series about an anchor."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from pooling.log_gamma_sums import GammaSeries, log_gamma_digamma, series_sum, series_sums


def test_log_gamma_and_digamma_match_scipy():
    z = np.r_[np.logspace(-300, 300, 601), np.linspace(0.01, 40, 4001)]
    values = np.array([log_gamma_digamma(v) for v in z])
    for got, expected in zip(values.T, (special.gammaln(z), special.psi(z)), strict=True):
        assert np.max(np.abs(got - expected) / np.maximum(1, np.abs(expected))) < 1e-13


def exact(v, k, count):
    return count @ special.gammaln(v + k), count @ special.psi(v + k)


@pytest.mark.parametrize("anchor", [1e-9, 0.3, 8.0, 400.0])
def test_anchored_blocks_give_the_log_gammas(anchor):
    """Near the anchor and far from it, with subtracted terms and counts from 0 to 10^4."""
    rng = np.random.default_rng(int(anchor * 10) + 1)
    k = np.r_[0.0, rng.integers(0, 10_000, 300), rng.integers(0, 20, 50)].astype(float)
    count = np.r_[-350.0, rng.integers(1, 50, 350)].astype(float)
    block = rng.integers(0, 3, k.size)
    series = GammaSeries(block, k, count, 3)
    series.expand_at(np.full(3, anchor))
    for v in anchor * np.array([1.0, 1 + 1e-9, 1.001, 0.9, 1.3, 3.0, 0.01]):
        for i in range(3):
            mine = block == i
            value, derivative = series_sum(i, v, *series.arrays[:7])
            expected_value, expected_derivative = exact(v, k[mine], count[mine])
            assert value == pytest.approx(expected_value, rel=1e-12, abs=1e-8)
            assert derivative == pytest.approx(expected_derivative, rel=1e-10, abs=1e-8)


@pytest.mark.parametrize("expand", [True, False])
def test_every_block_at_once_gives_each_block(expand):
    """Blocks at their own distances from their anchors, some with counts too near 0 for
    the series and one with none it can take: as each block alone gives."""
    rng = np.random.default_rng(7)
    n_blocks = 40
    block = np.r_[np.arange(n_blocks), rng.integers(0, n_blocks, 2000)]
    k = np.r_[np.zeros(n_blocks), rng.integers(0, 3000, 2000)].astype(float)
    count = np.r_[-rng.integers(1, 40, n_blocks), rng.integers(1, 30, 2000)].astype(float)
    anchor = np.exp(rng.uniform(np.log(1e-9), np.log(500.0), n_blocks))
    # Derivatives that overflow at a count of 0: block 0 has no other count, so no series,
    # block 1 takes a log Gamma there and the series for the others.
    anchor[:2] = 1e-300, 1e-30
    keep = (block != 0) | (k == 0)
    series = GammaSeries(block[keep], k[keep], count[keep], n_blocks)
    if expand:
        series.expand_at(anchor)
    for spread in (0.0, 1e-6, 1e-3, 0.05, 0.3, 2.0):
        v = anchor * np.exp(rng.normal(0, spread, n_blocks))
        derivatives = np.empty(n_blocks)
        total = series_sums(v, *series.arrays, derivatives)
        each = np.array([series_sum(i, v[i], *series.arrays[:7]) for i in range(n_blocks)])
        assert total == pytest.approx(each[:, 0].sum(), rel=1e-13, abs=1e-8)
        np.testing.assert_allclose(derivatives, each[:, 1], rtol=1e-11, atol=1e-8)

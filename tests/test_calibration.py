"""Simulation-based calibration: the machinery, and a biased sampler it must catch.

Notebook 05 itself runs at 60 replicates in JupyterLab (tests/notebooks/test_jupyterlab.py),
where it asserts its own checks, the negative control included.
"""

from __future__ import annotations

import numpy as np
import pytest

from pooling import calibration
from pooling.checks import CheckFailed

TRIALS = np.array([5, 30, 9])


def simulate(rng):
    theta = rng.beta(0.5, 0.5, size=TRIALS.size)
    return dict(zip(["a", "b", "c"], theta, strict=True)), {"y": rng.binomial(TRIALS, theta)}


def exact_posterior(shift: float = 0.0, scale: float = 1.0):
    """Conjugate posterior draws, optionally moved away from the truth or made too narrow."""

    def fit(data, seed):
        rng = np.random.default_rng(seed)
        draws = rng.beta(0.5 + data["y"], 0.5 + TRIALS - data["y"], size=(100, TRIALS.size))
        centre = draws.mean(axis=0)
        draws = np.clip(centre + scale * (draws - centre) + shift, 0.0, 1.0)
        return dict(zip(["a", "b", "c"], draws.T, strict=True)), 0

    return fit


def values_of(fit, replicates=300, seed=1):
    ranks = calibration.simulate_ranks(simulate, fit, replicates, 100, seed)
    return calibration.pit(ranks, seed)


def test_rank_counts_draws_below_and_splits_ties():
    rng = np.random.default_rng(0)
    assert calibration.rank(np.array([0.1, 0.2, 0.3]), 0.25, rng) == 2
    assert calibration.rank(np.array([0.1, 0.2, 0.3]), 0.0, rng) == 0
    tied = {calibration.rank(np.zeros(4), 0.0, rng) for _ in range(200)}
    assert tied == {0, 1, 2, 3, 4}


def test_thin_spreads_evenly_over_all_chains():
    draws = np.arange(2000).reshape(2, 1000)
    kept = calibration.thin(draws, 100)
    assert kept.size == 100 and kept[0] == 0 and kept[-1] == 1999


def test_ranks_keep_every_replicate_and_its_divergences():
    def fit(data, seed):
        draws, _ = exact_posterior()(data, seed)
        return draws, seed % 3

    ranks = calibration.simulate_ranks(simulate, fit, 50, 100, seed=3)
    assert len(ranks) == 50 and list(ranks.columns) == ["a", "b", "c", "divergences"]
    assert ranks["divergences"].max() > 0
    assert ranks[["a", "b", "c"]].to_numpy().min() >= 0
    assert ranks[["a", "b", "c"]].to_numpy().max() <= 100


def test_exact_posterior_passes_at_the_family_wise_level():
    table = calibration.assert_calibrated(values_of(exact_posterior()))
    assert table["ok"].all() and len(table) == 3


@pytest.mark.parametrize(
    "biased", [exact_posterior(shift=0.05), exact_posterior(scale=0.5)], ids=["shifted", "narrow"]
)
def test_biased_sampler_fails(biased):
    with pytest.raises(CheckFailed, match="Calibration check"):
        calibration.assert_calibrated(values_of(biased))


def test_same_seed_same_ranks():
    first = calibration.simulate_ranks(simulate, exact_posterior(), 20, 100, seed=5)
    second = calibration.simulate_ranks(simulate, exact_posterior(), 20, 100, seed=5)
    assert first.equals(second)

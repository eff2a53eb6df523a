"""Power-scaling sensitivity: the verdict in words, and a case whose answer is known."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from scipy import stats

from pooling.sensitivity import THRESHOLD, power_scaling, verdict


@pytest.mark.parametrize(
    ("prior", "likelihood", "words"),
    [
        (0.2, 0.3, "prior-data conflict"),
        (0.2, 0.01, "prior dominates (weak likelihood)"),
        (0.01, 0.01, "weak likelihood"),
        (0.01, 0.3, "data dominate (no prior sensitivity)"),
        (THRESHOLD, THRESHOLD, "prior-data conflict"),
    ],
)
def test_verdict_words(prior, likelihood, words):
    assert verdict(prior, likelihood) == words


def idata_with(prior_sd: float, data_sd: float, observed: float):
    """Exact posterior draws of a normal mean with a normal prior (conjugate), and both terms."""
    precision = 1 / prior_sd**2 + 1 / data_sd**2
    mean, sd = observed / data_sd**2 / precision, precision**-0.5
    draws = np.random.default_rng(0).normal(mean, sd, size=(4, 2000))
    return az.from_dict(
        {
            "posterior": {"m": draws},
            "log_likelihood": {"y": stats.norm.logpdf(observed, draws, data_sd)},
            "log_prior": {"m": stats.norm.logpdf(draws, 0, prior_sd)},
        }
    )


def test_data_far_from_a_tight_prior_is_a_conflict():
    table = power_scaling(idata_with(prior_sd=1.0, data_sd=1.0, observed=6.0), ["m"])
    assert table.loc["m", "verdict"] == "prior-data conflict"


def test_a_wide_prior_does_not_matter():
    table = power_scaling(idata_with(prior_sd=100.0, data_sd=1.0, observed=1.0), ["m"])
    assert table.loc["m", "verdict"] == "data dominate (no prior sensitivity)"

"""Every check passes on a healthy trace and fails on a deliberately broken one."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from pooling import checks, exact
from pooling.data import load_groups

CHAINS, DRAWS = 4, 2500


@pytest.fixture(scope="module")
def exact_table():
    return exact.no_pooling(load_groups())


def trace(exact_table, seed=0, divergent=0):
    """An ideal trace: independent draws from the exact no-pooling posterior."""
    rng = np.random.default_rng(seed)
    names = [q[6:-1] for q in exact_table.index]
    theta = rng.beta(exact_table["a"], exact_table["b"], size=(CHAINS, DRAWS, len(names)))
    diverging = np.zeros((CHAINS, DRAWS), dtype=bool)
    diverging.flat[rng.choice(diverging.size, divergent, replace=False)] = True
    return az.from_dict(
        {"posterior": {"theta": theta}, "sample_stats": {"diverging": diverging}},
        coords={"vehicle": names},
        dims={"theta": ["vehicle"]},
    )


def test_healthy_trace_passes_every_check(exact_table):
    idata = trace(exact_table)
    assert checks.assert_converged(idata, ["theta"])["ok"].all()
    assert checks.assert_no_divergences(idata) == 0
    assert checks.assert_matches_exact(idata, exact_table)["ok"].all()


def test_shifted_draws_fail_the_exact_check(exact_table):
    idata = trace(exact_table)
    theta = idata.posterior["theta"]
    # Falcon 1's draws moved by a tenth of a posterior sd: invisible by eye, many MCSEs away.
    idata.posterior["theta"] = theta + 0.1 * theta.std() * (theta["vehicle"] == "Falcon 1")
    with pytest.raises(checks.CheckFailed, match=r"theta\[Falcon 1\]"):
        checks.assert_matches_exact(idata, exact_table)
    # the convergence check cannot see a shift shared by all chains
    checks.assert_converged(idata, ["theta"])


def test_wrong_spread_fails_the_quantile_check(exact_table):
    idata = trace(exact_table)
    theta = idata.posterior["theta"]
    mean = theta.mean(("chain", "draw"))
    idata.posterior["theta"] = mean + 0.9 * (theta - mean)  # same mean, 10% too narrow
    table = checks.exact_agreement(idata, exact_table)
    assert (table["z"].abs() < checks.N_MCSE).all()
    assert not table["ok"].all()


def test_stuck_chain_fails_the_convergence_check(exact_table):
    idata = trace(exact_table)
    theta = idata.posterior["theta"].copy()
    theta[1] = theta[1, 0]  # chain 1 never moves from its first draw
    idata.posterior["theta"] = theta
    with pytest.raises(checks.CheckFailed, match="Convergence check"):
        checks.assert_converged(idata, ["theta"])


def test_chain_in_the_wrong_place_fails_rhat(exact_table):
    idata = trace(exact_table)
    theta = idata.posterior["theta"].copy()
    theta[2] = theta[2] * 0.8  # one chain explores a different region
    idata.posterior["theta"] = theta
    table = checks.convergence(idata, ["theta"])
    assert (table["r_hat"] > checks.RHAT_MAX).any()
    with pytest.raises(checks.CheckFailed):
        checks.assert_converged(idata, ["theta"])


def test_too_few_draws_fail_the_ess_check(exact_table):
    idata = trace(exact_table).sel(draw=slice(0, 200))  # 4 x 200 draws: ESS < 1000
    with pytest.raises(checks.CheckFailed, match="Convergence check"):
        checks.assert_converged(idata, ["theta"])


def test_injected_divergences_fail(exact_table):
    idata = trace(exact_table, divergent=3)
    assert checks.divergences(idata) == 3
    with pytest.raises(checks.CheckFailed, match="3 divergent transitions"):
        checks.assert_no_divergences(idata)


def test_the_pymc_gallery_trap_would_have_passed(exact_table):
    """Why the checks reduce to one boolean: iterating a Dataset yields variable names."""
    idata = trace(exact_table)
    theta = idata.posterior["theta"].copy()
    theta[1] = theta[1, 0]
    idata["posterior"]["theta"] = theta
    assert all(az.rhat(idata) < 1.03)  # the trap: always true
    assert not bool((az.rhat(idata)["theta"] < 1.03).all())


def test_exact_check_tolerance_grows_with_the_number_of_tests():
    from scipy import stats

    assert checks.mcse_tolerance(24) == checks.N_MCSE  # the shipped notebooks: 4 MCSEs
    many = checks.mcse_tolerance(30_000)
    assert many > checks.mcse_tolerance(300) > checks.N_MCSE
    # a correct fit fails somewhere with probability FAMILY_FALSE_ALARM at most
    assert 30_000 * 2 * stats.norm.sf(many) == pytest.approx(checks.FAMILY_FALSE_ALARM)

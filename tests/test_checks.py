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


def test_exact_check_tolerance_allows_for_mcses_estimated_from_few_draws():
    """With an effective sample size, Student's t of ess - 1 degrees of freedom: wider for
    the 50 draws of a very large table, the normal's for many, never below N_MCSE."""
    from scipy import stats

    few, many = checks.mcse_tolerance(36, np.array([40.0, 1e6]))
    assert few > checks.mcse_tolerance(36) + 0.4  # the normal's is 4.03 here
    assert 36 * 2 * stats.t.sf(few, 39) == pytest.approx(checks.FAMILY_FALSE_ALARM)
    assert many == pytest.approx(checks.mcse_tolerance(36), abs=1e-3)
    assert (checks.mcse_tolerance(3, np.array([5.0, np.nan, 1e6])) >= checks.N_MCSE).all()


def test_kept_draws_count_in_full_when_further_apart_than_the_chains_correlation():
    """Evenly spaced draws of independent chains count in full; of chains that wander, as
    their effective sample size over every draw."""
    rng = np.random.default_rng(3)
    independent = az.from_dict({"posterior": {"alpha": rng.normal(size=(4, 1000))}})
    assert checks.kept_draws_ess(independent, 50) == 50
    wandering = np.cumsum(rng.normal(size=(4, 1000)), axis=1) * 0.1 + rng.normal(size=(4, 1))
    sticky = az.from_dict({"posterior": {"alpha": wandering, "beta": rng.normal(size=(4, 1000))}})
    ess = float(az.ess(sticky, var_names=["alpha"], method="bulk")["alpha"])
    assert ess < 50
    assert checks.kept_draws_ess(sticky, 50) == pytest.approx(ess)


def test_means_of_kept_draws_pass_when_right_and_fail_when_shifted():
    """The means check on 50 of 4,000 independent draws: the exact means pass, means moved
    by 8 of their standard errors fail."""
    rng = np.random.default_rng(5)
    idata = az.from_dict({"posterior": {"alpha": rng.normal(size=(4, 1000))}})
    conditional = rng.normal(0.5, 0.01, size=(4000, 300))
    used = np.linspace(0, 3999, 50).round().astype(int)
    kept = conditional[used]
    exact_means = np.full(300, 0.5)
    passed = checks.assert_means_match_exact(kept.mean(axis=0), exact_means, kept, idata, used)
    assert passed["ok"] and passed["tolerance"] > checks.mcse_tolerance(300)  # Student's t
    shifted = kept.mean(axis=0) + 8 * 0.01 / np.sqrt(50) * np.eye(300)[7]
    with pytest.raises(checks.CheckFailed, match="row 7"):
        checks.assert_means_match_exact(shifted, exact_means, kept, idata, used)

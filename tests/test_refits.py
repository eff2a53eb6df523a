"""Leave-one-group-out tables: the Monte Carlo average and its standard error, tables with few
or no refits, and real refits against their exact values."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from scipy import special, stats

from pooling import checks
from pooling.exact import leave_one_group_out
from pooling.fits import CompiledSampler
from pooling.refits import log_predictive, loo_table, refit_without_each_group
from pooling.results import load_table, save_idata

GROUPS = pd.DataFrame(
    {"trials": [10, 0, 30], "successes": [7, 0, 29]},
    index=pd.Index(["a", "b", "c"], name="site"),
)


def posterior(theta: np.ndarray) -> xr.Dataset:
    return xr.Dataset({"theta": (("chain", "draw"), theta)})


def binomial(post, i, n, y):
    return stats.binom.logpmf(y, n, post["theta"].to_numpy())


def test_log_predictive_is_the_log_of_the_average_probability():
    log_p = np.random.default_rng(1).normal(-3.0, 0.5, size=(4, 1000))
    result = log_predictive(log_p)
    assert result["elpd"] == pytest.approx(np.log(np.exp(log_p).mean()), rel=1e-12)
    assert 0 < result["se"] < 0.05
    assert result["k"] < 0.7  # log-normal probabilities with small spread: a reliable average


def test_loo_table_lists_the_refitted_groups_in_data_order():
    rng = np.random.default_rng(2)
    fits = {name: posterior(rng.beta(8, 2, size=(2, 500))) for name in ("c", "a")}
    table = loo_table(fits, GROUPS, binomial)
    assert list(table.index) == ["a", "c"] and table.index.name == "site"
    assert list(table.columns) == ["elpd", "se", "k"]
    theta = fits["c"]["theta"].to_numpy()
    expected = special.logsumexp(stats.binom.logpmf(29, 30, theta)) - np.log(theta.size)
    assert table.loc["c", "elpd"] == pytest.approx(expected, rel=1e-12)


def test_no_refits_give_an_empty_table_that_saves_and_loads(tmp_path, monkeypatch):
    # REFIT_GROUPS = 0: notebook 4 still finds the columns it reads, with no rows.
    monkeypatch.setenv("POOLING_RESULTS_DIR", str(tmp_path))
    table = loo_table({}, GROUPS, binomial)
    assert table.empty and list(table.columns) == ["elpd", "se", "k"]
    save_idata(table.to_xarray(), "no_refits")
    loaded = load_table("no_refits")
    assert loaded.empty and list(loaded.columns) == ["elpd", "se", "k"]
    assert loaded.reindex(GROUPS.index)["elpd"].isna().all()


def test_log_predictive_se_is_the_mcse_of_the_mean_over_the_mean():
    # Autocorrelated draws: the standard error must count the ESS of the values themselves.
    rng = np.random.default_rng(3)
    z = np.zeros((4, 2000))
    for t in range(1, z.shape[1]):
        z[:, t] = 0.9 * z[:, t - 1] + rng.normal(size=4)
    log_p = -2 + 0.8 * z
    p = np.exp(log_p)
    expected = float(np.squeeze(az.mcse(p, method="mean"))) / p.mean()
    assert log_predictive(log_p)["se"] == pytest.approx(expected, rel=1e-12)


@pytest.fixture(scope="module")
def zero_of_29():
    """A no-pooling model of 30 groups, one of them 0 successes in 29 trials, compiled once."""
    rng = np.random.default_rng(4)
    trials = np.r_[29, rng.integers(5, 300, 29)]
    groups = pd.DataFrame(
        {"trials": trials, "successes": np.r_[0, rng.binomial(trials[1:], 0.25)]},
        index=pd.Index([f"g{i:02d}" for i in range(30)], name="site"),
    )
    with pm.Model(coords={"site": groups.index}) as model:
        n = pm.Data("trials", groups["trials"].to_numpy(), dims="site")
        y = pm.Data("successes", groups["successes"].to_numpy(), dims="site")
        theta = pm.Beta("theta", 0.5, 0.5, dims="site")
        pm.Binomial("y", n=n, p=theta, observed=y, dims="site")
    return groups, CompiledSampler(model)


def refit_table(groups, fits):
    table = loo_table(fits, groups, binomial_of_group)
    exact_values = leave_one_group_out(groups, only=[0])
    return pd.DataFrame({"refit": table["elpd"], "refit se": table["se"], "refit k": table["k"],
                         "exact": exact_values["no_pooling"]})  # fmt: skip


def binomial_of_group(post, i, n, y):
    return stats.binom.logpmf(y, n, post["theta"].to_numpy()[..., i])


def test_refit_of_a_group_with_no_successes_passes_the_exact_check(zero_of_29):
    # The case found on 1,222 real batting records: 0 hits in 29 at-bats, left out of a
    # no-pooling refit at the notebooks' refit settings. Its elpd is carried by the draws of
    # theta near 0, which NUTS explores more slowly than the bulk.
    groups, sampler = zero_of_29
    fits = refit_without_each_group(sampler, groups, seed=20240129, draws=1000, tune=1000,
                                    chains=4, only=[0])  # fmt: skip
    table = checks.assert_refits_match_exact(refit_table(groups, fits))
    assert table.loc["g00", "refit k"] <= checks.PARETO_K_MAX  # compared, not skipped


def test_refit_that_kept_the_group_fails_the_exact_check(zero_of_29):
    # A wrong refit: the group's own record left in, so its rate is pinned near 0.
    groups, sampler = zero_of_29
    fit = sampler.sample(draws=1000, tune=1000, chains=4, target_accept=0.8, seed=1)
    with pytest.raises(checks.CheckFailed, match="g00"):
        checks.assert_refits_match_exact(refit_table(groups, {"g00": fit.posterior}))

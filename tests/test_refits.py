"""Leave-one-group-out tables: the Monte Carlo average, and tables with few or no refits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import special, stats

from pooling.refits import log_predictive, loo_table
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

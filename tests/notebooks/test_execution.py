"""The notebooks beyond nbval: PyMC's own sampler, and the same draws from the same seed.

nbval (configured in pyproject.toml) re-executes the committed notebooks with their own
parameters in freshly started kernels, and tests/notebooks/test_figure_regression.py checks
that they reproduce the committed figures and table of estimates byte for byte. These tests
execute the sources with other parameters through the same runner that `make` uses, writing
everything into a temporary directory.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from scipy import special, stats

from pooling import exact
from pooling.data import load_groups
from pooling.paths import NOTEBOOKS_DIR
from pooling.runner.execute import execute
from pooling.runner.kernels import KernelServer
from pooling.runner.staleness import NEEDS, OPTIONAL, sources

# The collection; 05 (calibration) runs reduced in test_jupyterlab.py. 06 (17,593 careers)
# samples its models as 03 does; with PyMC's NUTS it would take minutes, so it runs with
# nutpie only (under nbval and in JupyterLab).
SOURCES = [source for source in sources() if source.stem not in OPTIONAL]


#: Draws per chain with PyMC's NUTS: the hierarchical model's hyperparameters need more for
#: an ESS of 1000 than the conjugate rates of 01 and 02, which 1000 draws per chain give.
PYMC_DRAWS = {"03_hierarchical": 3000}


@pytest.fixture(scope="module")
def server():
    """Warm kernels, as ``make`` runs the notebooks (the same bytes as fresh ones: see
    tests/runner/test_execute.py), so that each run here skips the start-up. Without the
    throw-away nutpie compile that warms Numba: PyMC's own sampler compiles no Numba."""
    with KernelServer(warm=False) as warm:
        yield warm


@pytest.fixture(scope="module")
def pymc_run(tmp_path_factory, server):
    """Every notebook, in order, with PyMC's NUTS; 04 reads what 01-03 wrote."""
    out = tmp_path_factory.mktemp("pymc")
    for source in SOURCES:
        # Enough draws for the notebooks' own checks (ESS >= 1000) to pass; the refits only
        # need to run (04 checks them against their exact values within their own error).
        # Two refits (the lowest and highest rates) show that refitting works with PyMC's NUTS
        # too; each costs a pool of sampler processes. 500 tuning steps are enough for PyMC's
        # adaptation here (every check passes; 03 alone: 64 s with 1000, 55 s with 500).
        parameters = {"SAMPLER": "pymc", "DRAWS": PYMC_DRAWS.get(source.stem, 1000),
                      "TUNE": 500, "REFIT_DRAWS": 500, "REFIT_TUNE": 500,
                      "REFIT_GROUPS": 2}  # fmt: skip
        if source.stem in NEEDS:  # the comparison samples nothing; its table gets a threshold
            parameters = {"THRESHOLD": 0.9}
        execute(source, out / f"{source.stem}.ipynb", parameters, out / "figures", out / "results",
                server=server)  # fmt: skip
    return out


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pymc_builtin_sampler(source, pymc_run):
    figures = {p.name for p in (pymc_run / "figures").iterdir()}
    assert sum(name.startswith(source.stem) for name in figures) >= 4
    result = pymc_run / "results" / f"{source.stem}.nc"
    if source.stem.startswith("04"):  # the comparison saves its leave-one-out table
        with xr.open_dataset(result) as table:
            assert {"lovo_elpd", "lovo_elpd_exact", "pareto_k"} <= set(table.data_vars)
        return
    with xr.open_dataset(pymc_run / "results" / f"{source.stem}_refits.nc") as refits:
        assert {"elpd", "se", "k"} <= set(refits.data_vars)
        assert refits.sizes["vehicle"] == 2
    idata = xr.load_datatree(result)
    assert idata["posterior"].attrs["inference_library"] == "pymc"
    assert idata["posterior"].sizes["draw"] == PYMC_DRAWS.get(source.stem, 1000)
    assert {"log_likelihood", "posterior_predictive"} <= set(idata.children)
    for kind in ("model.svg", "trace.png", "forest.png", "ppc.png", "exact.png"):
        assert f"{source.stem}_{kind}" in figures


def _mcse(values: np.ndarray) -> float:
    return float(np.squeeze(az.mcse(values, method="mean")))


def test_estimates_table_agrees_with_the_exact_posteriors(pymc_run):
    table = pd.read_csv(pymc_run / "results" / "estimates.csv")
    groups = load_groups()
    assert len(table) == 3 * len(groups) and list(table.columns[:2]) == ["model", "vehicle"]
    by_model = {name: rows.set_index("vehicle") for name, rows in table.groupby("model")}
    columns = ["mean", "sd", "q03", "q97"]
    no_pooling = exact.no_pooling(groups).set_axis(groups.index)
    np.testing.assert_allclose(by_model["no_pooling"][columns], no_pooling[columns], rtol=1e-5)
    pooled = exact.full_pooling(groups).iloc[0]
    np.testing.assert_allclose(by_model["full_pooling"][columns],
                               np.tile(pooled[columns], (len(groups), 1)), rtol=1e-5)  # fmt: skip
    # The hierarchical rows against the grid, within the Monte Carlo error of the NUTS draws
    # they average over (autocorrelation included; delta method for the quantiles).
    grid = exact.HierarchicalPosterior(groups).summary()
    post = xr.load_datatree(pymc_run / "results" / "03_hierarchical.nc")["posterior"]
    alpha, beta = post["alpha"].to_numpy(), post["beta"].to_numpy()
    hierarchical = by_model["hierarchical"]
    for name, row in hierarchical.iterrows():
        ref = grid.loc[f"theta[{name}]"]
        a, b = alpha + row["successes"], beta + row["trials"] - row["successes"]
        assert abs(row["mean"] - ref["mean"]) <= 5 * _mcse(a / (a + b)) + 1e-5
        for q in ("q03", "q97"):
            density = stats.beta(a, b).pdf(row[q]).mean()
            tolerance = 5 * _mcse(special.betainc(a, b, row[q])) / density + 1e-5
            assert abs(row[q] - ref[q]) <= tolerance, (name, q)
    assert hierarchical["rank_median"].tolist() == [4, 1, 2, 3]
    assert hierarchical["p_above_mu"].between(0, 1).all()


def test_threshold_adds_probabilities_and_q_values(pymc_run):
    table = pd.read_csv(pymc_run / "results" / "estimates.csv")
    assert table["p_above_threshold"].between(0, 1).all()
    no_pooling = table[table["model"] == "no_pooling"]
    a = 0.5 + no_pooling["successes"]
    b = 0.5 + no_pooling["trials"] - no_pooling["successes"]
    np.testing.assert_allclose(no_pooling["p_above_threshold"], stats.beta(a, b).sf(0.9),
                               rtol=1e-5)  # fmt: skip
    assert (table["q_value"] >= 0).all() and (table["q_value"] <= 1).all()


def test_comparison_stops_with_one_line_without_results(tmp_path, server):
    source = NOTEBOOKS_DIR / "04_model_comparison.py"
    with pytest.raises(Exception, match=r"not found: run `make` first"):
        execute(source, tmp_path / "04.ipynb", {}, tmp_path / "figures", tmp_path / "empty",
                server=server)  # fmt: skip


@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_same_seed_same_draws_both_samplers(sampler):
    def fit(seed):
        with pm.Model():
            theta = pm.Beta("theta", 0.5, 0.5, shape=2)
            pm.Binomial("y", n=[5, 9], p=theta, observed=[2, 9])
            return (
                pm.sample(
                    draws=200,
                    tune=200,
                    chains=2,
                    nuts_sampler=sampler,
                    random_seed=seed,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
                .posterior["theta"]
                .to_numpy()
            )

    assert np.array_equal(fit(7), fit(7))
    assert not np.array_equal(fit(7), fit(8))

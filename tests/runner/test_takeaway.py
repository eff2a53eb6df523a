"""``python -m pooling estimates``: the table alone, checked, written whole or not at all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import exact
from pooling.data import DataError, load_groups
from pooling.paths import DEFAULT_DATA, NOTEBOOKS_DIR
from pooling.runner import takeaway
from pooling.runner.cli import main
from pooling.runner.own_data import ParameterError
from pooling.runner.staleness import declared_parameters

LABELS = {"group": "vehicle", "trials": "launches", "successes": "successes"}
QUICK = {"DRAWS": 2000, "TUNE": 1000}


def test_settings_are_the_notebooks_parameters():
    values = takeaway.defaults()
    assert set(values) == set(takeaway.SETTINGS)
    for name, stem in takeaway.SETTINGS.items():
        assert name in declared_parameters(NOTEBOOKS_DIR / f"{stem}.py")
    assert values["PRIOR_SCALE"] == 10.0 and values["THRESHOLD"] is None


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("estimates") / "out"
    takeaway.run_estimates(DEFAULT_DATA, out, LABELS, {**QUICK, "THRESHOLD": 0.9})
    return out


def test_table_agrees_with_the_exact_posteriors(written):
    table = pd.read_csv(written / "estimates.csv")
    groups = load_groups()
    assert list(table.columns[:2]) == ["model", "vehicle"] and len(table) == 12
    rows = table[table["model"] == "no_pooling"].set_index("vehicle")
    reference = exact.no_pooling(groups).set_axis(groups.index)
    np.testing.assert_allclose(rows[["mean", "q03", "q97"]], reference[["mean", "q03", "q97"]],
                               rtol=1e-5)  # fmt: skip
    grid = exact.HierarchicalPosterior(groups).summary()
    rows = table[table["model"] == "hierarchical"].set_index("vehicle")
    for name, row in rows.iterrows():  # the run itself checked them within their MC error
        assert row["mean"] == pytest.approx(grid.loc[f"theta[{name}]", "mean"], abs=0.01)
    assert {"p_above_threshold", "q_value"} <= set(table.columns)
    hyper = pd.read_csv(written / "hyperparameters.csv").set_index("quantity")
    assert list(hyper.index) == ["alpha", "beta", "mu"] and (hyper["divergences"] == 0).all()
    assert (hyper["r_hat"] <= 1.01).all() and (hyper["ess_bulk"] >= 1000).all()


def test_same_seed_same_bytes(written, tmp_path):
    takeaway.run_estimates(DEFAULT_DATA, tmp_path / "again", LABELS, {**QUICK, "THRESHOLD": 0.9})
    for name in ("estimates.csv", "hyperparameters.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (written / name).read_bytes()


def test_a_failed_check_leaves_out_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    # 100 draws per chain cannot reach an ESS of 1000: the convergence check fails.
    status = main(["estimates", "--out", str(out), "-p", "DRAWS", "100", "-p", "TUNE", "200"])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert status == 1 and "Convergence check failed" in line and f"{out} is unchanged" in line
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left behind


def test_bad_input_and_unknown_settings_stop_before_fitting(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("vehicle,launches,successes\nA,5,7\n")
    with pytest.raises(DataError, match="line 2"):
        takeaway.run_estimates(bad, tmp_path / "out", LABELS)
    with pytest.raises(ParameterError, match="unknown setting REFIT_GROUPS"):
        takeaway.run_estimates(DEFAULT_DATA, tmp_path / "out", LABELS, {"REFIT_GROUPS": 0})
    assert not (tmp_path / "out").exists()

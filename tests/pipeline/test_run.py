"""``python -m pooling estimates``: the table alone, checked, written whole or not at all, from
one file or from parts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import exact
from pooling.data import DataError, load_groups
from pooling.paths import DEFAULT_DATA, NOTEBOOKS_DIR
from pooling.pipeline import run
from pooling.runner.cli import main
from pooling.runner.own_data import ParameterError
from pooling.runner.staleness import declared_parameters

LABELS = {"group": "vehicle", "trials": "launches", "successes": "successes"}
QUICK = {"DRAWS": 2000, "TUNE": 1000}


def test_settings_are_the_notebooks_parameters():
    values = run.defaults()
    assert set(values) == set(run.SETTINGS)
    for name, source in run.SETTINGS.items():
        if source is None:  # no notebook has it
            assert name in run.OWN_DEFAULTS
            continue
        stem, declared = (source, name) if isinstance(source, str) else source
        assert declared in declared_parameters(NOTEBOOKS_DIR / f"{stem}.py")
    assert values["PRIOR_SCALE"] == 10.0 and values["THRESHOLD"] is None
    assert values["PREDICTORS"] == "" and values["REGRESSION_DRAWS"] == 1000


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("estimates") / "out"
    run.run_estimates(DEFAULT_DATA, out, LABELS, {**QUICK, "THRESHOLD": 0.9})
    return out


def test_table_agrees_with_the_exact_posteriors(written):
    table = pd.read_parquet(written / "estimates.parquet")
    assert sorted(p.name for p in (written / "estimates.parquet").iterdir()) == [
        "0-no_pooling-00000.parquet", "1-full_pooling-00000.parquet",
        "2-hierarchical-00000.parquet"]  # fmt: skip
    assert list(table["model"].unique()) == ["no_pooling", "full_pooling", "hierarchical"]
    assert str(table["rank_median"].dtype) == "Int64"
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
    run.run_estimates(DEFAULT_DATA, tmp_path / "again", LABELS, {**QUICK, "THRESHOLD": 0.9})
    files = sorted(p.relative_to(written) for p in written.rglob("*") if p.is_file())
    assert len(files) == 5  # three models' parquet, hyperparameters.csv, model_checks.csv
    for name in files:
        assert (tmp_path / "again" / name).read_bytes() == (written / name).read_bytes()


def _parts(tmp_path, groups, bounds, kinds):
    """``groups`` written as files, one per slice of ``bounds``, of the ``kinds`` given."""
    directory = tmp_path / "parts"
    directory.mkdir()
    frame = groups.rename(columns={"trials": "launches"}).reset_index()
    frame.attrs = {}  # the labels are not for a file
    for k, (start, stop, kind) in enumerate(zip(bounds[:-1], bounds[1:], kinds, strict=True)):
        piece = frame.iloc[start:stop]
        if kind == "csv":
            piece.to_csv(directory / f"{k:02d}.csv", index=False)
        else:
            piece.to_parquet(directory / f"{k:02d}.parquet", index=False)
    return directory


def test_parts_of_csv_and_parquet_give_the_same_estimates(written, tmp_path):
    groups = load_groups()
    data = _parts(tmp_path, groups, [0, 1, 3, 4], ["csv", "parquet", "csv"])
    out = run.run_estimates(data, tmp_path / "out", LABELS, {**QUICK, "THRESHOLD": 0.9})
    one, parts = pd.read_parquet(written / "estimates.parquet"), pd.read_parquet(out)
    assert len(list(out.iterdir())) == 9  # three models x three parts
    # Everything but the ranks, which come from draws seeded per part.
    same = [c for c in one.columns if not c.startswith("rank_")]
    pd.testing.assert_frame_equal(parts[same], one[same])
    assert ((parts["rank_q05"] <= parts["rank_median"])
            & (parts["rank_median"] <= parts["rank_q95"])).dropna().all()  # fmt: skip


def test_a_bad_row_is_named_by_its_part_and_line(tmp_path):
    groups = load_groups()
    data = _parts(tmp_path, groups, [0, 2, 4], ["csv", "csv"])
    (data / "01.csv").write_text("vehicle,launches,successes\nX,3,1\nY,4,9\n")
    with pytest.raises(DataError, match=r"01\.csv: line 3: vehicle 'Y' has more successes"):
        run.run_estimates(data, tmp_path / "out", LABELS)
    (data / "01.csv").write_text("vehicle,launches,successes\nX,3,1\nFalcon 1,4,2\n")
    with pytest.raises(DataError, match=r"01\.csv: line 3: vehicle 'Falcon 1' appears more than "
                                        r"once \(also at .*00\.csv: line 2\)"):  # fmt: skip
        run.run_estimates(data, tmp_path / "out", LABELS)
    assert not (tmp_path / "out").exists()


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
        run.run_estimates(bad, tmp_path / "out", LABELS)
    with pytest.raises(ParameterError, match="unknown setting REFIT_GROUPS"):
        run.run_estimates(DEFAULT_DATA, tmp_path / "out", LABELS, {"REFIT_GROUPS": 0})
    assert not (tmp_path / "out").exists()

"""The groups' predictors: built in or from the CSV, standardised, and every bad input one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import predictors
from pooling.data import DataError, load_groups
from pooling.estimates import fold


def _table(tmp_path, rows: str):
    path = tmp_path / "groups.csv"
    path.write_text("team,games,wins,league,budget\n" + rows)
    return path, load_groups(path, "team", "games", "wins")


GOOD = "a,10,4,AL,1.5\nb,20,9,NL,2.5\nc,0,0,AL,3.0\nd,40,30,NL,0.5\n"


def test_built_in_and_columns(tmp_path):
    path, groups = _table(tmp_path, GOOD)
    design = predictors.design(groups, predictors.parse_names("log_trials, budget,league"))
    assert list(design.columns) == ["log_trials", "budget", "league[NL]"]
    np.testing.assert_allclose(design[["log_trials", "budget"]].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(design[["log_trials", "budget"]].std(ddof=0), 1)
    assert design["league[NL]"].tolist() == [0.0, 1.0, 0.0, 1.0]
    # A group without trials has a log_trials too: log(1 + 0).
    assert np.isfinite(design.loc["c", "log_trials"])


def test_a_folded_table_standardises_over_its_groups():
    groups = load_groups("data/rat_tumours.csv", "experiment", "rats", "tumours")
    pairs, inverse = fold(groups)
    for name in ("log_trials", "log_trials_cubic"):
        every = predictors.design(groups, [name])
        folded = predictors.design(pairs, [name])
        np.testing.assert_allclose(folded.to_numpy()[inverse], every.to_numpy(), atol=1e-12)


@pytest.mark.parametrize(("setting", "rows", "expected"), [
    ("log_trials,skill", GOOD, "predictor 'skill' is neither built in"),
    ("wins", GOOD, "predictor 'wins' is neither built in"),
    ("budget", "a,10,4,AL,1.5\nb,20,9,NL,\nc,5,1,AL,2\n", "line 3: predictor 'budget' is empty"),
    ("budget", "a,10,4,AL,2\nb,20,9,NL,2\nc,5,1,AL,2\n", "has the same value in every group"),
    ("league", "a,10,4,AL,2\nb,20,9,AL,1\nc,5,1,AL,2\n", "has one level ('AL') in every group"),
    ("league", "a,10,4,AL,2\nb,20,9,AL,1\nc,0,0,NL,2\n", "level 'NL' has no group with trials"),
    ("league,budget,league", GOOD, "'league' is named twice"),
    ("league,,budget", GOOD, "an empty name"),
])  # fmt: skip
def test_bad_input_is_one_line(tmp_path, setting, rows, expected):
    path, groups = _table(tmp_path, rows)
    with pytest.raises(DataError) as err:
        predictors.design(groups, predictors.parse_names(setting))
    message = str(err.value)
    assert expected in message and "fix:" in message and "\n" not in message


def test_a_folded_table_has_only_the_built_in_predictors():
    pairs = pd.DataFrame({"trials": [3, 5], "successes": [1, 2], "count": [4, 1]})
    with pytest.raises(DataError, match="only the built-in predictors"):
        predictors.design(pairs, ["league"], "PREDICTORS")

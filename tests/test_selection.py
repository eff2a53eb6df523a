"""Which groups are listed: all up to the limit, else the extremes among groups with trials."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pooling import selection


def _groups(trials, successes):
    frame = pd.DataFrame(
        {"trials": np.asarray(trials), "successes": np.asarray(successes)},
        index=pd.Index([f"g{i}" for i in range(len(trials))], name="site"),
    )
    frame.attrs["labels"] = type("Labels", (), {"group": "site"})()
    return frame


def test_every_group_is_listed_up_to_the_limit():
    groups = _groups([5, 0, 9], [2, 0, 9])
    assert selection.select_groups(groups).tolist() == [0, 1, 2]
    assert selection.selection_note(groups, selection.select_groups(groups)) == ""


def test_many_groups_list_the_extremes_among_groups_with_trials():
    # rates 0.0, 0.1, ..., 0.9 and 1.0 twice; group 3 has no trials and no rate
    trials = [10] * 14
    successes = [0, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 3, 10, 5]
    trials[3] = 0
    groups = _groups(trials, successes)
    shown = selection.select_groups(groups, limit=4)
    assert shown.tolist() == [0, 1, 10, 12]  # two lowest, two highest (ties: data order)
    note = selection.selection_note(groups, shown)
    assert note == "\n(the 2 lowest and 2 highest observed rates of 14 site groups)"


def test_few_groups_with_trials_come_first():
    groups = _groups([0, 3, 0, 4, 0], [0, 1, 0, 4, 0])
    shown = selection.select_groups(groups, limit=4)
    assert shown.tolist()[:2] == [1, 3]
    assert "those with trials first" in selection.selection_note(groups, shown)


def test_refit_limit_of_zero_selects_no_group():
    assert selection.select_groups(_groups([5, 0, 9], [2, 0, 9]), limit=0).tolist() == []

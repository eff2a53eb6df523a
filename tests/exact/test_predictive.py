"""The grid's predictions given the other groups: from the full grid only when it suits."""

from __future__ import annotations

import numpy as np
import pytest

from pooling import exact
from pooling.data import load_groups
from pooling.paths import DATA_DIR


def test_leave_one_out_from_the_full_grid_matches_a_grid_of_its_own():
    rats = load_groups(DATA_DIR / "rat_tumours.csv", group="experiment", trials="rats",
                       successes="tumours")  # fmt: skip
    full = exact.HierarchicalPosterior(rats)
    n_all, y_all = rats["trials"].to_numpy(), rats["successes"].to_numpy()
    for i in (0, 35, 70):
        rest = np.arange(len(rats)) != i
        others = rats.assign(trials=np.where(rest, n_all, 0), successes=np.where(rest, y_all, 0))
        own = exact.HierarchicalPosterior(others).log_predictive(int(n_all[i]), int(y_all[i]))
        assert full.log_predictive_without(i) == pytest.approx(own, abs=1e-4)


def test_leave_one_out_refuses_the_full_grid_when_a_group_dominates(hier, groups):
    # Falcon 9 is 304 of 327 launches: without it the posterior is elsewhere.
    assert hier.log_predictive_without(list(groups.index).index("Falcon 9")) is None

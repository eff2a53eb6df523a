"""The rates under the grid posterior: groups without trials, densities at the ends."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pooling import exact


def frame(trials, successes):
    return pd.DataFrame(
        {"trials": trials, "successes": successes},
        index=pd.Index([f"g{i}" for i in range(len(trials))], name="group"),
    )


def test_group_with_zero_trials_equals_a_new_group(hier, groups):
    extended = pd.concat([groups, frame([0], [0]).rename(index={"g0": "New"})])
    table = exact.HierarchicalPosterior(extended).summary()
    np.testing.assert_allclose(table.loc["theta[New]"], table.loc["theta_new"], atol=1e-10)
    np.testing.assert_allclose(table.loc["mu"], hier.summary().loc["mu"], atol=1e-10)


def test_theta_density_at_the_ends_is_its_limit_without_warnings(hier):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ends = hier.theta_pdf(np.array([0.0, 1.0]), "Falcon Heavy")  # 9 of 9: spike at 1
    assert ends[0] == 0.0
    assert ends[1] == np.inf

"""Conjugate posteriors: the closed forms of no pooling and full pooling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pooling import exact


def test_no_pooling_closed_form(groups):
    table = exact.no_pooling(groups)
    y, n = groups["successes"].to_numpy(), groups["trials"].to_numpy()
    np.testing.assert_allclose(table["mean"], (0.5 + y) / (1 + n))
    var = (0.5 + y) * (0.5 + n - y) / ((1 + n) ** 2 * (2 + n))
    np.testing.assert_allclose(table["sd"], np.sqrt(var))
    assert table.loc["theta[Falcon 1]", "a"] == 2.5


def test_full_pooling_closed_form(groups):
    row = exact.full_pooling(groups).loc["theta"]
    assert (row["a"], row["b"]) == (317.5, 10.5)
    assert row["mean"] == pytest.approx(317.5 / 328)
    assert row["mean"] == pytest.approx(0.968, abs=5e-4)  # the reference's pooled estimate
    assert stats.beta(317.5, 10.5).cdf(row["q03"]) == pytest.approx(0.03)

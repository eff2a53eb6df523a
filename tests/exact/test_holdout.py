"""Exact leave-one-group-out predictions of the three models."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from pooling import exact


def _log_beta_binomial(y, n, a, b):
    """log p(y | n, a, b), written out from its definition."""
    log_choose = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
    return log_choose + special.betaln(y + a, n - y + b) - special.betaln(a, b)


def test_each_model_predicts_a_group_from_the_others(groups):
    table = exact.leave_one_group_out(groups, only=[2, 0])
    assert list(table.index) == [groups.index[0], groups.index[2]]  # data order
    n_all, y_all = groups["trials"].to_numpy(), groups["successes"].to_numpy()
    for i in (0, 2):
        n, y = n_all[i], y_all[i]
        rest = np.arange(len(groups)) != i
        row = table.loc[groups.index[i]]
        assert row["no_pooling"] == pytest.approx(_log_beta_binomial(y, n, 0.5, 0.5), rel=1e-12)
        pooled = (0.5 + y_all[rest].sum(), 0.5 + (n_all[rest] - y_all[rest]).sum())
        assert row["full_pooling"] == pytest.approx(_log_beta_binomial(y, n, *pooled), rel=1e-12)
        others = groups.assign(trials=np.where(rest, n_all, 0), successes=np.where(rest, y_all, 0))
        own = exact.HierarchicalPosterior(others).log_predictive(int(n), int(y))
        assert row["hierarchical"] == pytest.approx(own, rel=1e-12)

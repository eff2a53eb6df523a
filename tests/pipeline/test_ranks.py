"""Ranks from joint draws spread over parts equal those of one table, ties included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import estimates
from pooling.pipeline import ranks


def _counts(n, seed):
    rng = np.random.default_rng(seed)
    trials = rng.integers(0, 30, n)
    return pd.DataFrame({"trials": trials, "successes": rng.binomial(trials, 0.3)})


@pytest.mark.parametrize("rounded", [False, True])
def test_part_ranks_equal_the_ranks_of_the_whole_table(rounded, monkeypatch):
    counts = _counts(2000, 1)
    alpha, beta = np.linspace(1, 3, 9), np.linspace(4, 8, 9)
    draws = np.arange(9) * 3
    if rounded:  # rates to 2 decimals: most of them tie, and ties go to the earlier group
        drawn = ranks.part_rates
        monkeypatch.setattr(ranks, "part_rates", lambda *a: np.round(drawn(*a), 2))
    pieces = [counts.iloc[:300], counts.iloc[300:1100], counts.iloc[1100:]]
    merged = ranks.merge_rates(*[ranks.sorted_rates(p, alpha, beta, draws, 7, i)
                                 for i, p in enumerate(pieces)])  # fmt: skip
    got = np.concatenate([ranks.part_ranks(p, alpha, beta, draws, 7, i, merged)
                          for i, p in enumerate(pieces)], axis=1)  # fmt: skip
    theta = np.concatenate([ranks.part_rates(p, alpha, beta, draws, 7, i)
                            for i, p in enumerate(pieces)], axis=1)  # fmt: skip
    assert (sum(t[0].size for t in merged.ties) > 0) == rounded
    index = pd.RangeIndex(len(counts))
    expected = estimates.rank_summary(list(theta), index)
    pd.testing.assert_frame_equal(estimates.rank_quantiles(got, index), expected)
    for k, row in enumerate(theta):
        want = np.empty(len(row), dtype=np.int32)
        want[np.argsort(-row, kind="stable")] = np.arange(1, len(row) + 1)
        np.testing.assert_array_equal(got[k], want)


def test_rates_depend_on_the_part_and_draw_only():
    counts = _counts(50, 2)
    one = ranks.part_rates(counts, np.array([2.0, 3.0]), np.array([5.0, 6.0]), [4, 9], 1, 3)
    two = ranks.part_rates(counts, np.array([3.0]), np.array([6.0]), [9], 1, 3)
    np.testing.assert_array_equal(one[1], two[0])
    other = ranks.part_rates(counts, np.array([3.0]), np.array([6.0]), [9], 1, 4)
    assert not np.array_equal(other[0], two[0])


def test_draw_blocks_hold_at_most_the_block_budget(monkeypatch):
    monkeypatch.setattr(ranks, "BLOCK_VALUES", 1000)
    blocks = ranks.draw_blocks(np.arange(25), 300)
    assert [b.tolist() for b in blocks] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11],
                                            [12, 13, 14], [15, 16, 17], [18, 19, 20],
                                            [21, 22, 23], [24]]  # fmt: skip
    assert [b.size for b in ranks.draw_blocks(np.arange(5), 10**6)] == [1] * 5

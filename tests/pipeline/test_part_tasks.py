"""The workers' tasks: per-pair tables equal per-group ones, and parts are written whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pooling import estimates
from pooling.pipeline import part_tasks
from pooling.pipeline.parts import row_keys


def _groups(n=400, seed=3):
    rng = np.random.default_rng(seed)
    trials = rng.integers(0, 12, n)
    frame = pd.DataFrame({"ad": [f"a{i}" for i in range(n)], "trials": trials,
                          "successes": rng.binomial(trials, 0.4)})  # fmt: skip
    return frame


def test_pair_tables_with_weighted_q_values_equal_the_group_tables():
    groups = _groups()
    pairs, inverse = estimates.fold(groups)
    counts = pairs["count"].to_numpy()
    rng = np.random.default_rng(0)
    alpha, beta = rng.gamma(20, 0.1, 200), rng.gamma(30, 0.1, 200)
    indexed = groups.set_index("ad")
    for model, reference in [
        ("no_pooling", estimates.no_pooling(indexed, threshold=0.4)),
        ("hierarchical", estimates.hierarchical(indexed, alpha, beta, threshold=0.4)),
    ]:
        chunks = [part_tasks.pair_table(model, pairs, alpha, beta, slice(k, k + 7), 0.4)
                  for k in range(0, len(pairs), 7)]  # fmt: skip
        table = part_tasks.with_q_values(counts, *chunks)
        expanded = table.iloc[inverse].set_index(indexed.index)
        for column in reference.columns:
            np.testing.assert_allclose(expanded[column], reference[column], rtol=1e-12,
                                       atol=1e-14, err_msg=f"{model} {column}")  # fmt: skip


def test_weighted_q_values_are_the_q_values_of_the_repeated_entries():
    p = np.array([0.9, 0.2, 0.9, 0.5])
    weights = np.array([3, 1, 2, 4])
    got = estimates.q_values(p, weights)
    repeated = estimates.q_values(np.repeat(p, weights))
    np.testing.assert_allclose(got, repeated[np.cumsum(weights) - 1])


def test_names_repeated_across_parts_are_found():
    one, two = _groups(5), _groups(5).iloc[3:]
    hashes = part_tasks.repeated(part_tasks.name_hashes(one, "ad"),
                                 part_tasks.name_hashes(two, "ad"))  # fmt: skip
    assert len(hashes) == 2
    assert part_tasks.located(two, "ad", hashes)["name"].tolist() == ["a3", "a4"]


def test_a_part_is_written_as_one_file_per_model_in_the_table_order(tmp_path):
    groups = _groups(30)
    pairs, inverse = estimates.fold(groups)
    hierarchical = part_tasks.pair_table("hierarchical", pairs, np.full(5, 2.0), np.full(5, 3.0))
    ranks = np.arange(1, len(pairs) + 1)  # one per pair, in two chunks
    chunks = [np.stack([ranks, ranks, ranks])[:, :4], np.stack([ranks, ranks, ranks])[:, 4:]]
    tables = {"no_pooling": part_tasks.pair_table("no_pooling", pairs),
              "full_pooling": part_tasks.pair_table("full_pooling", pd.DataFrame(
                  {"trials": [groups["trials"].sum()], "successes": [groups["successes"].sum()]})),
              "hierarchical": part_tasks.with_ranks(hierarchical, *chunks)}  # fmt: skip
    names = part_tasks.write_part(groups, 2, "ad", row_keys(pairs), tables, str(tmp_path))
    assert names == sorted(names) == ["0-no_pooling-00002.parquet",
                                      "1-full_pooling-00002.parquet",
                                      "2-hierarchical-00002.parquet"]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary file left
    table = pd.read_parquet(tmp_path)
    assert list(table.columns) == ["model", "ad", *estimates.COLUMNS[1:11]]
    assert table["ad"].tolist() == groups["ad"].tolist() * 3
    full = table[table["model"] == "full_pooling"]
    assert full["mean"].nunique() == 1 and full["rank_median"].isna().all()
    hier = table[table["model"] == "hierarchical"]
    assert hier["rank_median"].tolist() == ranks[inverse].tolist()  # each group its pair's
    schemas = {str(pq.read_schema(tmp_path / n)) for n in names}
    assert len(schemas) == 1  # every file of the table has the same columns and types

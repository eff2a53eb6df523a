"""The parts of a groups table: found in a fixed order, each read and checked on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pooling.data import DataError, Labels
from pooling.pipeline import parts

LABELS = Labels("ad", "impressions", "clicks")


def _parquet(path, n, row_group_size, start=0, **columns):
    table = {"ad": [f"ad{i}" for i in range(start, start + n)],
             "impressions": np.full(n, 10), "clicks": np.arange(n) % 11}  # fmt: skip
    table.update(columns)
    pq.write_table(pa.table(table), path, row_group_size=row_group_size)


def test_a_directory_and_a_glob_list_their_files_in_order(tmp_path):
    (tmp_path / "b").mkdir()
    _parquet(tmp_path / "b" / "1.parquet", 5, 5)
    (tmp_path / "a.csv").write_text("ad,impressions,clicks\nx,1,0\n")
    (tmp_path / "notes.txt").write_text("not data")
    found = parts.find_parts(tmp_path)
    assert [(p.number, p.kind) for p in found] == [(0, "csv"), (1, "parquet")]
    assert [p.path for p in parts.find_parts(tmp_path / "*" / "*.parquet")] == [found[1].path]
    with pytest.raises(DataError, match="no file matches"):
        parts.find_parts(tmp_path / "*.pq")
    with pytest.raises(DataError, match="notes.txt: not a .csv or .parquet file"):
        parts.find_parts(tmp_path / "notes.txt")
    with pytest.raises(DataError, match="file not found"):
        parts.find_parts(tmp_path / "missing.csv")


def test_a_big_parquet_file_splits_at_its_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(parts, "PART_ROWS", 25)
    _parquet(tmp_path / "t.parquet", 100, 10)
    found = parts.find_parts(tmp_path / "t.parquet")
    assert [(p.row_groups, p.first_row) for p in found] == [
        ((0, 1, 2), 0), ((3, 4, 5), 30), ((6, 7, 8), 60), ((9,), 90)]  # fmt: skip
    frames = [parts.read_part(p, LABELS) for p in found]
    assert pd.concat(frames)["ad"].tolist() == [f"ad{i}" for i in range(100)]
    assert list(frames[0].columns) == ["ad", "trials", "successes"]
    assert frames[0]["trials"].dtype == np.int64


def test_a_bad_row_names_its_file_and_row(tmp_path, monkeypatch):
    monkeypatch.setattr(parts, "PART_ROWS", 10)
    clicks = np.arange(40) % 11
    clicks[33] = 12  # more clicks than impressions, in the fourth part
    _parquet(tmp_path / "t.parquet", 40, 10, clicks=clicks)
    found = parts.find_parts(tmp_path / "t.parquet")
    assert parts.read_part(found[2], LABELS)["successes"].max() == 10
    with pytest.raises(DataError, match=r"t\.parquet: row 34: ad 'ad33' has more clicks than "
                                        r"impressions \(12 > 10\)"):  # fmt: skip
        parts.read_part(found[3], LABELS)
    _parquet(tmp_path / "u.parquet", 3, 3, impressions=np.array([1.0, 2.5, 3.0]))
    with pytest.raises(DataError, match=r"u\.parquet: row 2: column 'impressions' value '2.5' is "
                                        "not a whole number"):  # fmt: skip
        parts.read_part(parts.find_parts(tmp_path / "u.parquet")[0], LABELS)
    _parquet(tmp_path / "v.parquet", 3, 3, impressions=np.array([1.0, 2.0, 3.0]))
    whole = parts.read_part(parts.find_parts(tmp_path / "v.parquet")[0], LABELS)
    assert whole["trials"].tolist() == [1, 2, 3]  # whole numbers stored as floats are fine
    _parquet(tmp_path / "v.parquet", 3, 3, impressions=np.array([1.0, np.nan, 3.0]))
    with pytest.raises(DataError, match=r"v\.parquet: row 2: column 'impressions' is empty"):
        parts.read_part(parts.find_parts(tmp_path / "v.parquet")[0], LABELS)
    pq.write_table(pa.table({"ad": ["a"], "views": [1], "clicks": [0]}), tmp_path / "w.parquet")
    with pytest.raises(DataError, match=r"w\.parquet: the schema: column 'impressions' not found"):
        parts.read_part(parts.find_parts(tmp_path / "w.parquet")[0], LABELS)
    (tmp_path / "x.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match=r"x\.parquet: not a readable Parquet file"):
        parts.find_parts(tmp_path / "x.parquet")


def test_a_csv_part_is_read_as_load_groups_reads_a_file(tmp_path):
    (tmp_path / "a.csv").write_text("ad,impressions,clicks\nx, 4 ,1\ny,3,\n")
    (part,) = parts.find_parts(tmp_path / "a.csv")
    with pytest.raises(DataError, match=r"a\.csv: line 3: column 'clicks' is empty"):
        parts.read_part(part, LABELS)


def test_row_keys_sort_as_the_pairs():
    frame = pd.DataFrame({"trials": [3, 2, 2, 10], "successes": [0, 2, 1, 0]})
    keys = parts.row_keys(frame)
    assert np.argsort(keys).tolist() == [2, 1, 0, 3]

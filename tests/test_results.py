"""Results between notebooks: saved atomically, read back whole, a missing one named in one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import results


def test_a_saved_table_reads_back_equal(monkeypatch, tmp_path):
    monkeypatch.setenv("POOLING_RESULTS_DIR", str(tmp_path))
    table = pd.DataFrame({"elpd": [-1.5, np.nan]}, index=pd.Index(["a", "b"], name="group"))
    path = results.save_idata(table.to_xarray(), "01_table")
    assert path == tmp_path / "01_table.nc" and list(tmp_path.iterdir()) == [path]
    pd.testing.assert_frame_equal(results.load_table("01_table"), table)


def test_a_missing_result_says_to_run_make(monkeypatch, tmp_path):
    monkeypatch.setenv("POOLING_RESULTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"01_no_pooling.nc not found: run `make` first"):
        results.load_idata("01_no_pooling")

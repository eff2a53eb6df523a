"""The groups loader: the shipped file, every kind of bad row, and what must be accepted."""

from __future__ import annotations

import hashlib
import re

import pytest

from pooling.data import DataError, load_groups
from pooling.paths import DATA_DIR

HEADER = "vehicle,launches,successes\n"


def test_shipped_file_loads_with_reference_counts():
    groups = load_groups()
    assert list(groups.index) == ["Falcon 1", "Falcon 9", "Falcon Heavy", "Starship"]
    assert groups["trials"].tolist() == [5, 304, 9, 9]
    assert groups["successes"].tolist() == [2, 301, 9, 5]
    assert groups.index.name == "vehicle"
    assert str(groups["trials"].dtype) == "int64"
    assert groups.attrs["labels"].trials == "launches"


@pytest.mark.parametrize(
    "name",
    [
        "spacex_launches.csv",
        "rat_tumours.csv",
        "baseball_hits.csv",
        "surgical_mortality.csv",
        "career_batting.csv",
    ],
)
def test_shipped_files_match_the_checksums_in_the_readme(name):
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    listed = re.search(rf"{re.escape(name)}`?\s*\|\s*`?([0-9a-f]{{64}})", readme)
    assert listed, f"data/README.md must list the SHA-256 of {name}"
    assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == listed.group(1)


def test_worked_example_loads():
    groups = load_groups(DATA_DIR / "rat_tumours.csv", group="experiment", trials="rats",
                         successes="tumours")  # fmt: skip
    assert len(groups) == 71
    assert (groups["trials"].sum(), groups["successes"].sum()) == (1739, 267)
    assert groups.loc["experiment 71"].tolist() == [14, 4]


def test_baseball_and_surgical_tables_load_with_their_totals():
    baseball = load_groups(DATA_DIR / "baseball_hits.csv", group="player", trials="at_bats",
                           successes="hits")  # fmt: skip
    assert len(baseball) == 18 and set(baseball["trials"]) == {45}
    assert baseball["successes"].sum() == 215
    assert baseball.loc["Roberto Clemente", "successes"] == 18
    surgical = load_groups(DATA_DIR / "surgical_mortality.csv", group="hospital",
                           trials="operations", successes="deaths")  # fmt: skip
    assert (len(surgical), surgical["trials"].sum(), surgical["successes"].sum()) == (12, 2814, 208)


def test_career_batting_table_loads_with_its_totals():
    career = load_groups(DATA_DIR / "career_batting.csv", group="player", trials="at_bats",
                         successes="hits")  # fmt: skip
    assert len(career) == 17_593 and career["trials"].min() >= 1
    assert career.loc["aaronha01"].tolist() == [12364, 3771]
    assert len(career[["trials", "successes"]].drop_duplicates()) == 9_666


BAD = {
    "fractional count": (HEADER + "A,5,2\nB,5,2.5\n", "line 3", "'2.5' is not a whole number"),
    "text count": (HEADER + "A,5,2\nB,five,2\n", "line 3", "'five' is not a whole number"),
    "negative count": (HEADER + "A,5,2\nB,-5,0\n", "line 3", "'launches' value -5 is negative"),
    "successes above trials": (
        HEADER + "A,5,2\nB,5,7\n",
        "line 3",
        "more successes than launches (7 > 5)",
    ),
    "duplicate names": (HEADER + "A,5,2\nB,4,1\nA,5,3\n", "line 4", "'A' appears more than once"),
    "missing value": (HEADER + "A,5,2\nB,,3\n", "line 3", "'launches' is empty"),
    "short row": (HEADER + "A,5,2\nB,5\n", "line 3", "'successes' is empty"),
    "ragged row": (HEADER + "A,5,2\nB,5,3,4\n", "line 3", "4 fields, more than the header's 3"),
    "extra field in every row": (
        HEADER + "A,5,2,1\nB,5,3,4\n",
        "line 2",
        "4 fields, more than the header's 3",
    ),
    "one group": (HEADER + "A,5,2\n", "1 group found", "at least 2"),
    "header only": (HEADER, "0 groups found", "at least 2"),
    "empty file": ("", "the file is empty", "add a header"),
    "absent column": ("vehicle,launches\nA,5\nB,6\n", "line 1", "column 'successes' not found"),
    "empty name": (HEADER + "A,5,2\n ,5,2\n", "line 3", "is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_one_clear_line(tmp_path, case):
    text, where, problem = BAD[case]
    path = tmp_path / "groups.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_groups(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert where in message and problem in message
    assert "fix:" in message


def test_first_problem_is_reported_with_a_count_of_the_rest(tmp_path):
    path = tmp_path / "groups.csv"
    path.write_text(HEADER + "A,5,2\nB,-1,0\nC,3,4\nD,2,9\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 3: .*is negative \(and 3 more problems\)"):
        load_groups(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_groups(tmp_path / "nope.csv")


def test_binary_file(tmp_path):
    path = tmp_path / "groups.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(DataError, match="binary content"):
        load_groups(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "groups.csv"
    path.write_bytes(HEADER.encode() + "Caf\u00e9,5,2\nB,5,2\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_groups(path)


def test_accepts_bom_crlf_extra_columns_spaces_and_zero_trials(tmp_path):
    path = tmp_path / "groups.csv"
    text = " vehicle , launches,successes,notes\r\n Falcon 1 , 5 ,2,first\r\nNew,0,0,\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    groups = load_groups(path)
    assert list(groups.index) == ["Falcon 1", "New"]
    assert groups.loc["New"].tolist() == [0, 0]
    assert list(groups.columns) == ["trials", "successes"]


def test_other_column_names(tmp_path):
    path = tmp_path / "trials.csv"
    path.write_text("hospital,patients,recovered\nA,10,7\nB,12,12\n", encoding="utf-8")
    groups = load_groups(path, group="hospital", trials="patients", successes="recovered")
    assert groups.index.name == "hospital"
    assert groups["successes"].tolist() == [7, 12]
    assert groups.attrs["labels"].successes == "recovered"

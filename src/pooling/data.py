"""Load and validate a groups CSV: one row per group with its trials and successes.

The shipped file is ``data/spacex_launches.csv`` (vehicle, launches, successes), but any CSV
with a name column and two count columns works. Validation uses a pandera schema; any
violation raises :class:`DataError` with one line naming the file, the line, the problem and
the fix. Lines are counted as in a text editor: the header is line 1.

References
----------
The worked examples in ``data/`` (provenance and checksums in ``data/README.md``):

.. [1] Tarone, R. E. (1982). The use of historical control information in testing for a
   trend in proportions. *Biometrics* 38, 215-220 (rat tumours).
.. [2] Efron, B. and Morris, C. (1975). Data analysis using Stein's estimator and its
   generalizations. *Journal of the American Statistical Association* 70, 311-319 (baseball).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from pooling.paths import DEFAULT_DATA

__all__ = ["DEFAULT_COLUMNS", "MIN_GROUPS", "DataError", "Labels", "line_of", "load_groups",
           "parse_groups", "read_csv_text"]  # fmt: skip

#: Column names of the shipped file.
DEFAULT_COLUMNS = {"group": "vehicle", "trials": "launches", "successes": "successes"}
MIN_GROUPS = 2
_INTEGER = r"^[+-]?\d+$"


class DataError(ValueError):
    """A groups CSV that cannot be used; the message is one line that says how to fix it."""


@dataclass(frozen=True)
class Labels:
    """The data's own column names, used for titles and axis labels.

    Attributes
    ----------
    group, trials, successes : str
        Names of the group, trials and successes columns in the CSV.
    """

    group: str = DEFAULT_COLUMNS["group"]
    trials: str = DEFAULT_COLUMNS["trials"]
    successes: str = DEFAULT_COLUMNS["successes"]


def line_of(row: int) -> str:
    """Where a CSV's data row is, as a text editor counts lines (the header is line 1)."""
    return f"line {row + 2}"


def _text_schema(labels: Labels, text: list[str]) -> pa.DataFrameSchema:
    """Schema for the raw cells: every cell present, counts given as text written as whole
    numbers (the ``text`` ones; the others are already integers)."""
    count = pa.Check.str_matches(_INTEGER, error="is not a whole number")
    columns = {labels.group: pa.Column(str, nullable=False)}
    for name in (labels.trials, labels.successes):
        columns[name] = pa.Column(
            str if name in text else "int64", checks=count if name in text else None,
            nullable=False,
        )  # fmt: skip
    return pa.DataFrameSchema(columns, strict=False)


def _count_schema(labels: Labels) -> pa.DataFrameSchema:
    """Schema for the parsed counts: non-negative, successes within trials, unique names."""
    return pa.DataFrameSchema(
        {
            labels.group: pa.Column(
                str, pa.Check.str_length(min_value=1, error="is an empty name"), unique=True
            ),
            labels.trials: pa.Column("int64", pa.Check.ge(0, error="is negative")),
            labels.successes: pa.Column("int64", pa.Check.ge(0, error="is negative")),
        },
        checks=pa.Check(
            lambda df: df[labels.successes] <= df[labels.trials],
            error=f"has more {labels.successes} than {labels.trials}",
        ),
        strict=False,
    )


_FIXES = {
    "not_nullable": "fill in the missing value or delete the row",
    "field_uniqueness": "give every group a distinct name or merge the duplicate rows",
    "is not a whole number": "write the count as a whole number such as 12",
    "is negative": "counts cannot be negative",
    "is an empty name": "give the group a name",
}


def _first_failure(err: SchemaErrors, frame: pd.DataFrame, path: Path, labels: Labels,
                   locate) -> str:  # fmt: skip
    """One line describing the earliest failing row of a pandera error."""
    cases = err.failure_cases.copy()
    cases["row"] = pd.to_numeric(cases["index"], errors="coerce")
    # A duplicate name is reported where it repeats, not where it first appears.
    unique = cases["check"] == "field_uniqueness"
    cases = cases[~unique | cases.duplicated(["check", "failure_case"])]
    # Column checks come before the row-wide successes <= trials check on the same row.
    cases["frame_wide"] = cases["schema_context"] == "DataFrameSchema"
    cases = cases.sort_values(["row", "frame_wide"], kind="stable", na_position="last")
    problems = cases.drop_duplicates(["row", "check"])
    case = problems.iloc[0]
    where = locate(int(case["row"])) if pd.notna(case["row"]) else "the file"
    check = str(case["check"])
    more = len(problems) - 1
    extra = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
    if case["frame_wide"]:
        row = frame.iloc[int(case["row"])]
        return (
            f"{path}: {where}: {labels.group} {row[labels.group]!r} {check} "
            f"({row[labels.successes]} > {row[labels.trials]}){extra}; "
            f"fix: {labels.successes} must not exceed {labels.trials}"
        )
    if check == "field_uniqueness":
        problem = f"{labels.group} {case['failure_case']!r} appears more than once"
    elif check == "not_nullable":
        problem = f"column {case['column']!r} is empty"
    else:
        value = case["failure_case"]
        # Counts as plain numbers (-1, not np.int64(-1)); text quoted, so that spaces show.
        shown = repr(value) if isinstance(value, str) else str(value)
        problem = f"column {case['column']!r} value {shown} {check}"
    return f"{path}: {where}: {problem}{extra}; fix: {_FIXES.get(check, 'correct the value')}"


def _check_field_counts(path: Path, text: str) -> None:
    """No row may have more fields than the header.

    pandas would take a row with more fields for one with an index column (and so shift every
    value one column along, or report a column as empty), so the count is checked first. A
    row with fewer fields is left to the schema, which names its empty column.
    """
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, [])
    for row in reader:
        if len(row) > len(header):
            raise DataError(
                f"{path}: line {reader.line_num}: {len(row)} fields, more than the header's "
                f"{len(header)}; fix: give every row the header's number of fields (quote a "
                "name that contains a comma)"
            )


def read_csv_text(path: Path) -> pd.DataFrame:
    """Read a CSV as text cells, turning every reading failure into one DataError line.

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    pandas.DataFrame
        Every cell as text, empty cells missing.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; fix: check the path") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror}); fix: check it") from None
    if b"\x00" in raw[:8192]:
        raise DataError(f"{path}: binary content, not a CSV text file; fix: export it as CSV")
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: byte {exc.start} is not UTF-8 text; fix: save the file as UTF-8 CSV"
        ) from None
    if not raw.strip():
        raise DataError(f"{path}: the file is empty; fix: add a header and one row per group")
    _check_field_counts(path, raw.decode("utf-8-sig"))
    try:
        return pd.read_csv(
            path,
            dtype=str,
            encoding="utf-8-sig",
            skipinitialspace=True,
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.ParserError as exc:
        # pandas says "Expected 3 fields in line 5, saw 4": keep its line number.
        detail = str(exc).strip().splitlines()[-1].replace("Error tokenizing data. C error: ", "")
        raise DataError(
            f"{path}: ragged row: {detail}; fix: give every row the header's number of fields"
        ) from None
    except csv.Error as exc:  # pragma: no cover - the C parser reports through ParserError
        raise DataError(f"{path}: not a valid CSV ({exc}); fix: export it as CSV") from None


def load_groups(
    path: str | Path = DEFAULT_DATA,
    group: str = DEFAULT_COLUMNS["group"],
    trials: str = DEFAULT_COLUMNS["trials"],
    successes: str = DEFAULT_COLUMNS["successes"],
) -> pd.DataFrame:
    """Load and validate a groups CSV.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        CSV file; defaults to the shipped ``data/spacex_launches.csv``.
    group, trials, successes : str, optional
        Names of the columns holding the group name, the number of trials and the number of
        successes. Other columns are ignored.

    Returns
    -------
    pandas.DataFrame
        Indexed by group name (index named after ``group``), with integer columns
        ``trials`` and ``successes`` in file order. ``frame.attrs["labels"]`` holds the
        data's own column names as :class:`Labels` and ``frame.attrs["source"]`` the path.

    Raises
    ------
    DataError
        One line naming the file, the line and the problem, and how to fix it.

    Notes
    -----
    A group with 0 trials is valid: its posterior is the prior (no pooling) or the
    population prediction (hierarchical model).
    """
    path = Path(path)
    labels = Labels(group=group.strip(), trials=trials.strip(), successes=successes.strip())
    frame = read_csv_text(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = parse_groups(frame, path, labels)
    if len(frame) < MIN_GROUPS:
        raise DataError(
            f"{path}: {len(frame)} group{'s' * (len(frame) != 1)} found, at least {MIN_GROUPS} "
            "needed; fix: add a row per group below the header"
        )
    groups = frame.set_index(labels.group)
    groups.attrs["labels"] = labels
    groups.attrs["source"] = str(path)
    return groups


def parse_groups(
    frame: pd.DataFrame, path, labels: Labels, locate=line_of, header: str = "line 1"
) -> pd.DataFrame:
    """Validate the cells of a groups table, or of one part of it, and parse its counts.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table's columns as read: text cells, or counts already stored as integers (a
        Parquet file's). Other columns are ignored.
    path : str or pathlib.Path
        The file, for messages.
    labels : Labels
        The names of the group, trials and successes columns.
    locate : callable, optional
        ``locate(row)`` names the place of the frame's ``row``-th row in messages; default
        :func:`line_of`.
    header : str, optional
        Where the column names are, for messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``labels.group`` (text), ``trials`` and ``successes`` (int64), in order.

    Raises
    ------
    DataError
        One line naming the file, the place and the problem, and how to fix it. The names'
        uniqueness is checked within ``frame`` only.
    """
    missing = [c for c in (labels.group, labels.trials, labels.successes) if c not in frame]
    if missing:
        raise DataError(
            f"{path}: {header}: column {missing[0]!r} not found (columns: "
            f"{', '.join(map(str, frame.columns))}); fix: rename the column or pass its name"
        )
    frame = frame[[labels.group, labels.trials, labels.successes]].copy()
    text = []
    for column in frame:
        if column != labels.group and pd.api.types.is_integer_dtype(frame[column]):
            frame[column] = frame[column].astype("int64")
            continue
        if column != labels.group:
            text.append(column)
        frame[column] = frame[column].astype(str).str.strip()
    try:
        _text_schema(labels, text).validate(frame, lazy=True)
        frame[text] = frame[text].astype("int64")
        _count_schema(labels).validate(frame, lazy=True)
    except SchemaErrors as err:
        raise DataError(_first_failure(err, frame, path, labels, locate)) from None
    return frame.rename(columns={labels.trials: "trials", labels.successes: "successes"})

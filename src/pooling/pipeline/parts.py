"""The parts of a groups table: CSV or Parquet files, a directory of them, or a glob.

A table too big for one file usually comes as many (a partitioned Parquet data set, or CSV
exports one per day). :func:`find_parts` lists its parts in a fixed order, and
:func:`read_part` reads and validates one of them with the checks and one-line messages of
:func:`pooling.data.load_groups`, naming the part's own file and line (CSV) or row (Parquet).
A CSV file is one part; a Parquet file is split at its row groups into parts of about
:data:`PART_ROWS` rows, so that one big file still spreads over the workers.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pooling.data import DataError, Labels, line_of, parse_groups, read_csv_text

__all__ = ["PART_ROWS", "SUFFIXES", "Part", "find_parts", "read_part", "row_keys"]

#: Rows of a Parquet file read as one part (whole row groups, so a part may hold more).
PART_ROWS = 1_000_000
#: File endings read, and how.
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Part:
    """One part of a groups table.

    Attributes
    ----------
    number : int
        Its position among the parts (the order of the output).
    path : str
        Its file.
    kind : {"csv", "parquet"}
    row_groups : tuple of int
        For Parquet, the row groups it holds; empty for a CSV (the whole file).
    first_row : int
        Rows of the file before it.
    """

    number: int
    path: str
    kind: str
    row_groups: tuple[int, ...] = ()
    first_row: int = 0

    def locate(self, row: int) -> str:
        """Where the part's ``row``-th row is, for messages: a CSV line or a Parquet row."""
        if self.kind == "csv":
            return line_of(row)
        return f"row {self.first_row + row + 1}"


def _files(data: str | Path) -> list[Path]:
    path = Path(data)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
        where = f"{path}: no .csv or .parquet file in this directory"
    elif glob.has_magic(str(data)):
        found = sorted(Path(p) for p in glob.glob(str(data), recursive=True) if Path(p).is_file())
        where = f"{data}: no file matches"
    else:
        if not path.exists():
            raise DataError(f"{path}: file not found; fix: check the path")
        found, where = [path], ""
    if not found:
        raise DataError(f"{where}; fix: check the path or the pattern")
    for file in found:
        if file.suffix.lower() not in SUFFIXES:
            raise DataError(
                f"{file}: not a .csv or .parquet file; fix: export the table as CSV or Parquet"
            )
    return found


def _parquet_parts(path: Path, start: int) -> list[Part]:
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        raise DataError(
            f"{path}: not a readable Parquet file ({exc}); fix: write it again"
        ) from None
    parts, chosen, rows, first = [], [], 0, 0
    for group in range(metadata.num_row_groups):
        chosen.append(group)
        rows += metadata.row_group(group).num_rows
        if rows >= PART_ROWS or group == metadata.num_row_groups - 1:
            parts.append(Part(start + len(parts), str(path), "parquet", tuple(chosen), first))
            first, chosen, rows = first + rows, [], 0
    return parts


def find_parts(data: str | Path) -> list[Part]:
    """The parts of a groups table, in the order of the output.

    Parameters
    ----------
    data : str or pathlib.Path
        A ``.csv`` or ``.parquet`` file, a directory (every such file below it, by path), or
        a glob pattern (``"exports/*.csv"``).

    Returns
    -------
    list of Part

    Raises
    ------
    DataError
        When nothing matches, a file has another ending, or a Parquet footer is unreadable.
    """
    parts: list[Part] = []
    for file in _files(data):
        if SUFFIXES[file.suffix.lower()] == "csv":
            parts.append(Part(len(parts), str(file), "csv"))
        else:
            parts.extend(_parquet_parts(file, len(parts)))
    return parts


def _read_parquet(part: Part, labels: Labels) -> pd.DataFrame:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(part.path)
    names = [str(n).strip() for n in file.schema_arrow.names]
    wanted = [labels.group, labels.trials, labels.successes]
    if any(c not in names for c in wanted):
        return pd.DataFrame(columns=names)  # parse_groups names the missing column
    original = [file.schema_arrow.names[names.index(c)] for c in wanted]
    table = file.read_row_groups(list(part.row_groups), columns=original)
    frame = table.to_pandas()
    frame.columns = wanted
    for column in (labels.trials, labels.successes):
        values = frame[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        # Counts stored as floats (as some writers do, for a column with gaps) are whole
        # numbers where they are; the rest is left as text for parse_groups to name.
        whole = np.isfinite(values) & (values == np.floor(values))
        if whole.all():
            frame[column] = values.astype("int64")
        else:
            text = values.astype(str)
            text[whole] = values[whole].astype("int64").astype(str)
            frame[column] = text
    return frame


def read_part(part: Part, labels: Labels) -> pd.DataFrame:
    """Read and validate one part.

    Parameters
    ----------
    part : Part
    labels : pooling.data.Labels
        The table's column names.

    Returns
    -------
    pandas.DataFrame
        Columns ``labels.group`` (text), ``trials`` and ``successes`` (int64), in file order.

    Raises
    ------
    DataError
        One line: the part's file, the line or row, the problem and the fix. Names are
        checked for uniqueness within the part here, across parts by the caller.
    """
    if part.kind == "csv":
        frame = read_csv_text(Path(part.path))
        frame.columns = [str(c).strip() for c in frame.columns]
        header = "line 1"
    else:
        frame = _read_parquet(part, labels)
        header = "the schema"
    return parse_groups(frame, part.path, labels, part.locate, header)


def row_keys(frame: pd.DataFrame) -> np.ndarray:
    """One integer per ``(trials, successes)``, ordered as the pairs sort.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``trials`` and ``successes`` (below 2**31 each).

    Returns
    -------
    numpy.ndarray
        ``trials * 2**32 + successes``, int64.
    """
    return frame["trials"].to_numpy(np.int64) * 2**32 + frame["successes"].to_numpy(np.int64)

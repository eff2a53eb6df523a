"""The groups' own predictors of their rates: ``PREDICTORS=name,...`` as a design matrix.

An exchangeable population says that a group's rate owes nothing to what is known about the
group. When it does (players with few at-bats are mostly pitchers), the population's mean can
depend on the group's predictors, ``logit(mu_i) = a + x_i . b``
(:mod:`pooling.regression`). This module turns the names a user gives into the columns
``x_i``:

- ``log_trials``: ``log(1 + trials)``, built in (a group without trials has a value too);
- ``log_trials_cubic``: a smooth form of it, the orthogonal polynomial of degree 3 (as R's
  ``poly(x, 3)``), for when the effect is not linear;
- any other name is a column of the groups CSV: a numeric column is one predictor, a text
  column a category with an indicator per level but the first (in sorted order).

Every numeric column is standardised over the groups (mean 0, sd 1), so that the priors of
:mod:`pooling.regression` have the same meaning on any table. Bad input raises
:class:`pooling.data.DataError` with one line: file, line, problem and fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pooling.data import DataError, line_of, read_csv_text

__all__ = ["BUILT_IN", "design", "parse_names"]

#: Predictors computed from the counts, with what they mean.
BUILT_IN = {
    "log_trials": "log(1 + trials), standardised",
    "log_trials_cubic": "orthogonal cubic polynomial of log(1 + trials), each term standardised",
}
#: Degree of ``log_trials_cubic``.
CUBIC = 3


def parse_names(text: str | None) -> list[str]:
    """The predictor names of a ``PREDICTORS`` setting, in order.

    Parameters
    ----------
    text : str or None
        Comma-separated names, e.g. ``"log_trials,league"``; empty or ``None`` for none.

    Returns
    -------
    list of str

    Raises
    ------
    pooling.data.DataError
        A name given twice, or an empty name.
    """
    if not text or not text.strip():
        return []
    names = [name.strip() for name in text.split(",")]
    if "" in names:
        raise DataError(f"PREDICTORS={text!r}: an empty name; fix: separate names with single "
                        "commas, e.g. PREDICTORS=log_trials,league")  # fmt: skip
    seen = set()
    for name in names:
        if name in seen:
            raise DataError(f"PREDICTORS={text!r}: {name!r} is named twice; fix: name each "
                            "predictor once")  # fmt: skip
        seen.add(name)
    return names


def _standardised(values: np.ndarray, name: str, source: str, weights=None) -> np.ndarray:
    mean = np.average(values, weights=weights)
    sd = np.sqrt(np.average((values - mean) ** 2, weights=weights))
    if not sd > 1e-12 * max(1.0, abs(mean)):
        raise DataError(f"{source}: predictor {name!r} has the same value in every group, so it "
                        "cannot predict anything; fix: leave it out of PREDICTORS")  # fmt: skip
    return (values - mean) / sd


def _cubic(log_trials: np.ndarray, source: str, weights=None) -> dict[str, np.ndarray]:
    """Orthogonal polynomial terms of degree 1 to :data:`CUBIC` (QR of the Vandermonde,
    each row weighted by the groups it stands for)."""
    centred = log_trials - np.average(log_trials, weights=weights)
    if np.unique(centred).size <= CUBIC:
        raise DataError(f"{source}: log_trials_cubic needs more than {CUBIC} distinct numbers "
                        "of trials; fix: use PREDICTORS=log_trials")  # fmt: skip
    root = np.sqrt(np.ones_like(centred) if weights is None else np.asarray(weights, float))
    vander = np.vander(centred, CUBIC + 1, increasing=True)
    _, r = np.linalg.qr(vander * root[:, None])
    # Orthogonal under the weights; signs fixed so that each term grows with log(trials)^k.
    q = np.linalg.solve(r.T, vander.T).T * np.sign(np.diag(r))
    return {f"log_trials^{k}": _standardised(q[:, k], "log_trials_cubic", source, weights)
            for k in range(1, CUBIC + 1)}  # fmt: skip


def _column(groups: pd.DataFrame, cells: pd.Series, name: str, path) -> dict[str, np.ndarray]:
    """One CSV column as predictors: standardised numbers, or a category's indicators."""
    empty = cells.isna() | (cells.astype(str).str.strip() == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise DataError(f"{path}: {line_of(row)}: predictor {name!r} is empty; fix: fill it in "
                        f"for every group, or leave {name!r} out of PREDICTORS")  # fmt: skip
    text = cells.astype(str).str.strip().to_numpy()
    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(float)
    if np.isfinite(numbers).all():
        return {name: _standardised(numbers, name, str(path))}
    levels = sorted(set(text))
    if len(levels) < 2:
        raise DataError(f"{path}: predictor {name!r} has one level ({levels[0]!r}) in every "
                        "group, so it cannot predict anything; fix: leave it out of "
                        "PREDICTORS")  # fmt: skip
    rated = groups["trials"].to_numpy() > 0
    out = {}
    for level in levels:
        inside = text == level
        if not (inside & rated).any():
            raise DataError(f"{path}: predictor {name!r}: level {level!r} has no group with "
                            "trials left, so the data say nothing about it; fix: merge it into "
                            "another level or drop its groups")  # fmt: skip
        if level != levels[0]:
            out[f"{name}[{level}]"] = inside.astype(float)
    return out


def design(groups: pd.DataFrame, names: list[str], path: str | Path | None = None) -> pd.DataFrame:
    """The predictors of every group, one column each (a category: one per level but the first).

    Parameters
    ----------
    groups : pandas.DataFrame
        The validated groups frame (:func:`pooling.data.load_groups`), in file order, or a
        folded table with ``count`` (built-in predictors only, standardised over the groups).
    names : list of str
        Predictor names (:func:`parse_names`): built-in (:data:`BUILT_IN`) or CSV columns.
    path : str or pathlib.Path, optional
        The groups CSV, for its other columns; default ``groups.attrs["source"]``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``groups``; numeric columns standardised, indicators 0 or 1.
        ``attrs["names"]`` holds ``names``.

    Raises
    ------
    pooling.data.DataError
        An unknown name, an empty cell, a constant predictor, or a level of a category with
        no group with trials.
    """
    path = Path(path if path is not None else groups.attrs.get("source", "the groups table"))
    source = str(path)
    columns: dict[str, np.ndarray] = {}
    table = None
    log_trials = np.log1p(groups["trials"].to_numpy(float))
    # A folded table's rows stand for "count" groups each: the same standardisation.
    weights = groups["count"].to_numpy(float) if "count" in groups else None
    for name in names:
        if name == "log_trials":
            columns[name] = _standardised(log_trials, name, source, weights)
        elif name == "log_trials_cubic":
            columns.update(_cubic(log_trials, source, weights))
        elif weights is not None:
            raise DataError(f"{source}: predictor {name!r}: a folded table has only the "
                            f"built-in predictors ({', '.join(BUILT_IN)}); fix: run the "
                            f"notebooks (make DATA=... OUT=... PREDICTORS={name}) for a "
                            "column of the table")  # fmt: skip
        else:
            if table is None:
                table = read_csv_text(path)
                table.columns = [str(c).strip() for c in table.columns]
            labels = groups.attrs.get("labels")
            own = {labels.group, labels.trials, labels.successes} if labels else set()
            if name not in table or name in own:
                usable = [c for c in table.columns if c not in own]
                raise DataError(f"{source}: line 1: predictor {name!r} is neither built in "
                                f"({', '.join(BUILT_IN)}) nor a column of the table (other "
                                f"columns: {', '.join(usable) or 'none'}); fix: correct the "
                                "name in PREDICTORS")  # fmt: skip
            columns.update(_column(groups, table[name].reset_index(drop=True), name, path))
    frame = pd.DataFrame(columns, index=groups.index)
    frame.attrs["names"] = list(names)
    return frame

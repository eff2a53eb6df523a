"""The tasks that the estimates run sends to the workers: one part of the table, or one chunk
of its distinct (trials, successes) pairs, at a time.

Each is a pure function of its arguments, so that a task lost with its worker can run again
elsewhere and give the same result, and each file it writes is written whole under a
temporary name and then renamed (:func:`pooling.files.atomic_path`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pooling import estimates
from pooling.estimates import COLUMNS
from pooling.pipeline.parts import row_keys

__all__ = ["MODELS", "located", "name_hashes", "pair_table", "part_file", "problem",
           "rank_chunk", "rank_errors", "rank_function", "regression_table", "repeated",
           "rows_at", "with_q_values", "with_ranks", "write_part"]  # fmt: skip

#: The models of the table, in the order of its rows (the last with ``PREDICTORS`` only).
MODELS = ("no_pooling", "full_pooling", "hierarchical", "hierarchical_regression")
_RANKS = ("rank_median", "rank_q05", "rank_q95")


def problem(part, labels) -> str | None:
    """The one-line problem of a part (:func:`pooling.pipeline.parts.read_part`), or None."""
    from pooling.data import DataError
    from pooling.pipeline.parts import read_part

    try:
        read_part(part, labels)
    except DataError as err:
        return str(err)
    return None


def name_hashes(frame: pd.DataFrame, group: str) -> np.ndarray:
    """A 64-bit hash of each group name of a part (to find names repeated across parts)."""
    return pd.util.hash_array(frame[group].to_numpy(object))


def repeated(*hashes: np.ndarray) -> np.ndarray:
    """The hashes that occur more than once among all parts', sorted."""
    every = np.sort(np.concatenate(hashes))
    return np.unique(every[1:][every[1:] == every[:-1]])


def located(frame: pd.DataFrame, group: str, hashes: np.ndarray) -> pd.DataFrame:
    """The part's rows whose name has one of ``hashes``: columns ``row`` and ``name``."""
    rows = np.flatnonzero(np.isin(name_hashes(frame, group), hashes))
    return pd.DataFrame({"row": rows, "name": frame[group].to_numpy(object)[rows]})


def pair_table(
    model: str,
    pairs: pd.DataFrame,
    alpha=None,
    beta=None,
    rows: slice = slice(None),
    threshold: float | None = None,
) -> pd.DataFrame:
    """One model's estimates for some distinct pairs (the same for every group with the pair).

    Parameters
    ----------
    model : str
        One of :data:`MODELS`. For ``full_pooling``, ``pairs`` is one row of the table's
        totals.
    pairs : pandas.DataFrame
        Columns ``trials`` and ``successes``.
    alpha, beta : numpy.ndarray, optional
        For ``hierarchical``: the draws its mixtures average over.
    rows : slice, optional
        The pairs to take (a chunk); default all.
    threshold : float, optional
        As for :func:`pooling.estimates.no_pooling`.

    Returns
    -------
    pandas.DataFrame
        The model's columns of :data:`pooling.estimates.COLUMNS`, without ranks; the
        q-values are not yet those of the whole table (:func:`with_q_values`).
    """
    pairs = pairs.iloc[rows]
    if model == "hierarchical":
        return estimates.hierarchical(pairs, alpha, beta, threshold=threshold)
    fit = estimates.no_pooling if model == "no_pooling" else estimates.full_pooling
    return fit(pairs, threshold=threshold)


def regression_table(
    pairs: pd.DataFrame,
    design: pd.DataFrame,
    a,
    b,
    kappa,
    rows: slice = slice(None),
    threshold: float | None = None,
) -> pd.DataFrame:
    """The regression model's estimates of some distinct pairs, without ranks.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Every distinct pair: ``trials`` and ``successes``.
    design : pandas.DataFrame
        The pairs' predictors (:func:`pooling.predictors.design`), in the same order.
    a, b, kappa : numpy.ndarray
        The draws its mixtures average over (``b``: ``(draws, predictors)``).
    rows : slice, optional
        The pairs to take (a chunk); default all.
    threshold : float, optional
        As for :func:`pooling.estimates.no_pooling`.

    Returns
    -------
    pandas.DataFrame
        As :func:`pair_table`'s.
    """
    pairs = pairs.iloc[rows]
    table = estimates.regression(pairs, design.iloc[rows].set_axis(pairs.index), a, b, kappa,
                                 threshold=threshold)  # fmt: skip
    return table.reset_index(drop=True)


def rank_function(
    pairs: pd.DataFrame,
    counts: np.ndarray,
    alpha,
    beta,
    seed: int,
    model: str,
    columns: np.ndarray | None = None,
) -> estimates.RankFunction:
    """A model's rank function over every distinct pair (:class:`pooling.estimates.RankFunction`).

    A pure function of its arguments: its draws come from a generator seeded by ``seed`` and
    the model, so a worker lost with it loses nothing.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Every distinct pair: ``trials`` and ``successes``.
    counts : numpy.ndarray
        Groups per pair.
    alpha, beta : numpy.ndarray
        The population's Beta at each draw: ``(draws,)``, or ``(draws, predictor rows)``
        when it differs between pairs (the regression).
    seed : int
        The run's seed.
    model : str
        ``hierarchical`` or ``hierarchical_regression``.
    columns : numpy.ndarray, optional
        With a population per predictor row: each pair's row.
    """
    rng = np.random.default_rng([seed, 5, MODELS.index(model)])
    return estimates.rank_function(pairs.assign(count=counts), alpha, beta, rng, columns)


def rank_chunk(function: estimates.RankFunction, rows: slice) -> np.ndarray:
    """The rank quantiles of some pairs: ``(3, pairs)``, median, 5 % and 95 %."""
    q05, median, q95 = function.quantiles(rows=rows)
    return np.stack([median, q05, q95])


def rank_errors(function: estimates.RankFunction) -> str:
    """What a rank function's ranks may be off by, in words (for the run's log)."""
    return (f"from each group's own rate: Monte Carlo error at most {function.mc_error:,.0f} "
            f"ranks (one standard error), and within {function.spread:,.0f} ranks of 1 + the "
            "expected number of groups above")  # fmt: skip


def with_ranks(table: pd.DataFrame, *chunks: np.ndarray) -> pd.DataFrame:
    """A model's pair table with its rank columns (:func:`rank_chunk` of consecutive pairs)."""
    ranks = np.concatenate(chunks, axis=1)
    return table.assign(**{name: values for name, values in zip(_RANKS, ranks, strict=True)})


def with_q_values(counts: np.ndarray, *chunks: pd.DataFrame) -> pd.DataFrame:
    """The chunks of a model's pair table as one, with the q-values of the whole table.

    Parameters
    ----------
    counts : numpy.ndarray
        Groups per pair, in the order of the chunks' rows together.
    *chunks : pandas.DataFrame
        :func:`pair_table` of consecutive chunks of the pairs.
    """
    table = pd.concat(chunks, ignore_index=True)
    if "q_value" in table:
        table["q_value"] = estimates.q_values(table["p_above_threshold"].to_numpy(), counts)
    return table


def rows_at(table: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The rows of a pair table at ``positions`` (what the client checks)."""
    return table.iloc[positions]


def part_file(model: str, part: int) -> str:
    """The file name of one model's rows of one part: the names sort in the table's order."""
    return f"{MODELS.index(model)}-{model}-{part:05d}.parquet"


def _columns(group: str, threshold: bool) -> list[str]:
    names = [c for c in COLUMNS if c not in ("p_above_threshold", "q_value") or threshold]
    return [names[0], group, *names[1:]]


def write_part(
    frame: pd.DataFrame,
    part: int,
    group: str,
    keys: np.ndarray,
    tables: dict[str, pd.DataFrame],
    directory: str,
) -> list[str]:
    """Write one part's rows of every model's estimates.

    Parameters
    ----------
    frame : pandas.DataFrame
        The part (:func:`pooling.pipeline.parts.read_part`).
    part : int
        Its number.
    group : str
        The group column's name.
    keys : numpy.ndarray
        :func:`pooling.pipeline.parts.row_keys` of the distinct pairs, sorted: the rows of
        the tables (``full_pooling``'s one row applies to every group).
    tables : dict
        Model to its pair table (:func:`with_q_values`), with rank columns for the
        hierarchical models (:func:`with_ranks`).
    directory : str
        Where to write (a directory the client and every worker see).

    Returns
    -------
    list of str
        The files written (:func:`part_file`).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pooling.files import atomic_path

    at = np.searchsorted(keys, row_keys(frame))
    threshold = "q_value" in tables["hierarchical"]
    written = []
    for model, table in tables.items():
        rows = np.zeros(len(frame), dtype=np.int64) if model == "full_pooling" else at
        out = pd.DataFrame({"model": np.full(len(frame), model), group: frame[group].to_numpy()})
        for name in _columns(group, threshold)[2:]:
            if name in ("trials", "successes"):
                out[name] = frame[name].to_numpy(np.int64)
            elif name in _RANKS:  # whole numbers, empty for the models without ranks
                values = table[name].to_numpy()[rows] if name in table else [pd.NA] * len(frame)
                out[name] = pd.array(values, dtype="Int64")
            else:
                out[name] = table[name].to_numpy(float)[rows] if name in table else np.nan
        path = Path(directory) / part_file(model, part)
        with atomic_path(path) as tmp:
            pq.write_table(pa.Table.from_pandas(out, preserve_index=False), tmp)
        written.append(path.name)
    return written

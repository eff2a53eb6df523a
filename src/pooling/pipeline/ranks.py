"""Every group's rank among all groups, from joint draws spread over the parts of a table.

A rank needs every group's draw of the same posterior draw, and no worker holds every
group. So the ranks take three steps, each a task of its own (:mod:`pooling.pipeline.run`
wires them):

1. :func:`sorted_rates`: each part draws its groups' rates for a block of posterior draws
   and sorts them;
2. :func:`merge_rates`: per block, the parts' sorted rates become one sorted array per draw
   (and a note of the values that occur more than once: ties are ranked in table order);
3. :func:`part_ranks`: each part draws its rates again (the same generator) and looks each
   up in the merged arrays.

Each part's rates for posterior draw ``s`` come from their own generator,
``numpy.random.default_rng([seed, part, s])``, so they are the same however the work is
split between processes and machines. The ranks equal those of
:func:`pooling.estimates.rank_summary` on the same joint draws: rank 1 is the highest rate,
ties go to the group earlier in the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["BLOCK_VALUES", "Merged", "draw_blocks", "merge_rates", "part_ranks", "part_rates",
           "sorted_rates"]  # fmt: skip

#: Most rates (posterior draws x groups) one merge task sorts at once: 160 MB of float64.
BLOCK_VALUES = 20_000_000


def draw_blocks(draws: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """The posterior draws that the ranks use, in blocks of at most :data:`BLOCK_VALUES`
    rates of every group.

    Parameters
    ----------
    draws : numpy.ndarray
        Positions among the flattened draws (:func:`pooling.estimates.rank_draws`).
    n_groups : int

    Returns
    -------
    list of numpy.ndarray
    """
    size = max(BLOCK_VALUES // max(n_groups, 1), 1)
    return [draws[k : k + size] for k in range(0, len(draws), size)]


def part_rates(counts: pd.DataFrame, alpha, beta, draws, seed: int, part: int) -> np.ndarray:
    """One part's joint draws of its groups' rates under the hierarchical model.

    Parameters
    ----------
    counts : pandas.DataFrame
        The part's groups: columns ``trials`` and ``successes``.
    alpha, beta : numpy.ndarray
        The hyperparameters at the posterior draws used.
    draws : numpy.ndarray
        Those draws' positions among the flattened draws (they seed the generators).
    seed, part : int
        The run's seed and the part's number.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(draws), groups)``: row ``k`` is ``Beta(alpha + y, beta + N - y)`` at draw
        ``draws[k]``.
    """
    y = counts["successes"].to_numpy(float)
    f = counts["trials"].to_numpy(float) - y
    out = np.empty((len(draws), len(y)))
    for k, s in enumerate(draws):
        rng = np.random.default_rng([seed, part, int(s)])
        out[k] = rng.beta(alpha[k] + y, beta[k] + f)
    return out


def sorted_rates(counts, alpha, beta, draws, seed: int, part: int) -> np.ndarray:
    """:func:`part_rates`, each row sorted ascending (the first step)."""
    return np.sort(part_rates(counts, alpha, beta, draws, seed, part), axis=1)


@dataclass
class Merged:
    """Every group's rate at a block of posterior draws, sorted (the second step's result).

    Attributes
    ----------
    values : numpy.ndarray
        Shape ``(draws, groups)``, each row ascending.
    ties : list of tuple
        Per draw, ``(values, earlier)``: the rates that occur more than once, ascending, and
        for each of them how many times it occurs in the parts before each part (shape
        ``(values, parts)``).
    """

    values: np.ndarray
    ties: list


def merge_rates(*parts: np.ndarray) -> Merged:
    """Merge the parts' sorted rates of one block (in part order).

    Parameters
    ----------
    *parts : numpy.ndarray
        :func:`sorted_rates` of every part, shape ``(draws, groups of the part)``.

    Returns
    -------
    Merged
    """
    values = np.sort(np.concatenate(parts, axis=1), axis=1)
    ties = []
    for k, row in enumerate(values):
        repeated = np.unique(row[1:][row[1:] == row[:-1]])
        earlier = np.zeros((repeated.size, len(parts)), dtype=np.int64)
        if repeated.size:
            for j, part in enumerate(parts[:-1]):
                own = part[k]
                found = np.searchsorted(own, repeated, "right") - np.searchsorted(own, repeated)
                earlier[:, j + 1] = earlier[:, j] + found
        ties.append((repeated, earlier))
    return Merged(values, ties)


def part_ranks(counts, alpha, beta, draws, seed: int, part: int, merged: Merged) -> np.ndarray:
    """One part's ranks at a block of posterior draws (the third step).

    Parameters
    ----------
    counts, alpha, beta, draws, seed, part
        As for :func:`part_rates`, the same as for the block's :func:`sorted_rates`.
    merged : Merged
        :func:`merge_rates` of the block.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(draws), groups of the part)``, int32: 1 is the highest rate of all
        groups; equal rates rank in table order.
    """
    rates = part_rates(counts, alpha, beta, draws, seed, part)
    total = merged.values.shape[1]
    out = np.empty(rates.shape, dtype=np.int32)
    for k, row in enumerate(rates):
        order = np.argsort(row, kind="stable")
        ranked = row[order]  # sorted keys: searchsorted walks the merged row once
        above = total - np.searchsorted(merged.values[k], ranked, "right")
        repeated, earlier = merged.ties[k]
        if repeated.size:
            tied = np.isin(ranked, repeated)
            at = np.searchsorted(repeated, ranked[tied])
            # Among equal rates: those of earlier parts, then this part's in table order
            # (descending table order within the part's ascending sort of equal keys).
            positions = order[tied]
            local = pd.Series(positions).groupby(ranked[tied]).rank(method="first")
            above[tied] += earlier[at, part] + local.to_numpy(np.int64) - 1
        out[k, order] = above + 1
    return out

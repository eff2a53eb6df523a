"""Which groups get a panel, a table row or a refit of their own.

Up to :data:`LISTED` groups, every one; past that, the groups with the lowest and the highest
observed rates, so that plots stay readable and work that costs a fit or a grid per group
stays bounded whatever the number of groups.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LISTED", "select_groups", "selection_note"]

#: Most groups that get a panel, a row or a refit of their own.
LISTED = 12


def select_groups(groups, limit: int | None = None) -> np.ndarray:
    """Positions of the groups that a plot or table lists.

    Parameters
    ----------
    groups : pandas.DataFrame
        The validated groups frame (columns ``trials`` and ``successes``).
    limit : int, optional
        Most groups listed; default :data:`LISTED`.

    Returns
    -------
    numpy.ndarray
        Every position, in data order, when there are at most ``limit`` groups; otherwise
        the ``limit // 2`` groups with the lowest observed rate and the ``limit // 2`` with
        the highest, lowest first. Groups with no trials have no rate and come last (they
        are listed only when fewer than ``limit`` groups have trials). Ties keep the data
        order, so the choice is the same on every run.
    """
    limit = LISTED if limit is None else limit
    if len(groups) <= limit:
        return np.arange(len(groups))
    trials = groups["trials"].to_numpy()
    rate = np.divide(groups["successes"].to_numpy(), trials, out=np.full(len(trials), np.inf),
                     where=trials > 0)  # fmt: skip
    order = np.argsort(rate, kind="stable")  # no trials (inf) last
    rated = int((trials > 0).sum())
    if rated <= limit:
        return order[:limit]
    return np.concatenate([order[: limit // 2], order[rated - limit // 2 : rated]])


def selection_note(groups, shown: np.ndarray) -> str:
    """A second title line saying which groups are shown, when not all of them are.

    Parameters
    ----------
    groups : pandas.DataFrame
        The validated groups frame.
    shown : numpy.ndarray
        From :func:`select_groups`.

    Returns
    -------
    str
        ``""`` when every group is shown, otherwise e.g. ``"\\n(the 6 lowest and 6 highest
        observed rates of 71 experiment groups)"``, to append to a title. A frame that is
        itself a selection (:func:`pooling.scale.split`) carries its note in
        ``attrs["note"]``.
    """
    if len(shown) == len(groups):
        return groups.attrs.get("note", "")
    of = f"of {len(groups):,} {groups.attrs['labels'].group} groups"
    if (groups["trials"].to_numpy() > 0).sum() <= len(shown):  # see select_groups
        return f"\n({len(shown)} {of}: those with trials first)"
    half = len(shown) // 2
    return f"\n(the {half} lowest and {half} highest observed rates {of})"

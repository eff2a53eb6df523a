"""Posterior predictive statistics of the record as a whole that keep their power with many
groups, and a verdict in words.

The lowest and the highest rate cannot fail once a few hundred groups have few trials: some
group then has no success and some has no failure, in the data and in every replicate. So
the statistics here are averages over the groups, whose replicated spread shrinks as the
groups grow in number while a misfit stays: the share of groups with a rate of 0, the share
with a rate of 1, and the spread (sd) of the rates. Each is compared with its replicates by
a two-sided mid-p-value, which treats a tie (common when a share is 0) as half above and half
below, and a p-value beyond the limits gives a verdict in words, as the power-scaling does
(:mod:`pooling.sensitivity`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["LEVEL", "STATISTICS", "check", "p_value", "verdict"]

#: Family-wise level of one model's statistics together (two-sided, Bonferroni).
LEVEL = 0.05


def _share_at(value: float):
    def share(rates, axis=None):
        return np.mean(rates == value, axis=axis)

    return share


#: Name to a function of replicated rates ``(replicates, groups)`` and ``axis=1``.
STATISTICS = {"share at 0": _share_at(0.0), "share at 1": _share_at(1.0), "sd of rates": np.std}

#: What a statistic above (or below) its replicates says about the model, in words.
_MEANING = {
    "share at 0": ("more groups without a success", "fewer groups without a success"),
    "share at 1": ("more groups without a failure", "fewer groups without a failure"),
    "sd of rates": ("rates more spread out", "rates less spread out"),
}


def p_value(replicated: np.ndarray, observed: float) -> float:
    """``P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2``: near 0 or 1 when the model rarely
    makes data like ours."""
    replicated = np.asarray(replicated)
    return float(np.mean(replicated > observed) + np.mean(replicated == observed) / 2)


def verdict(name: str, p: float, observed: float, replicated: np.ndarray, n_statistics: int) -> str:
    """One statistic's verdict: "fits", or what the data have that the model does not make.

    Parameters
    ----------
    name : str
        One of :data:`STATISTICS`.
    p : float
        Its :func:`p_value`.
    observed : float
    replicated : numpy.ndarray
    n_statistics : int
        How many statistics share the model's :data:`LEVEL`.
    """
    limit = LEVEL / (2 * n_statistics)
    if limit <= p <= 1 - limit:
        return "fits"
    low, high = np.quantile(replicated, [0.03, 0.97])
    more, fewer = _MEANING[name]
    what = more if p < limit else fewer
    return (f"the data have {what} than the model makes: {observed:.3g} against "
            f"{low:.3g} to {high:.3g} in 94% of replicates (p = {p:.3f})")  # fmt: skip


def check(replicated: dict[str, np.ndarray], rates: np.ndarray) -> pd.DataFrame:
    """Every statistic of :data:`STATISTICS` against its replicates.

    Parameters
    ----------
    replicated : dict
        Name to the statistic of each replicate
        (:func:`pooling.scale.replicated_statistics` of :data:`STATISTICS`).
    rates : numpy.ndarray
        The observed rates of the groups that have trials.

    Returns
    -------
    pandas.DataFrame
        One row per statistic: ``observed``, ``p`` and ``verdict``.
    """
    rows = {}
    for name, fn in STATISTICS.items():
        observed = float(fn(rates))
        p = p_value(replicated[name], observed)
        words = verdict(name, p, observed, replicated[name], len(STATISTICS))
        rows[name] = {"observed": observed, "p": p, "verdict": words}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("statistic")

"""Exact posteriors of the no-pooling and full-pooling models: Beta distributions.

With a ``Beta(a0, b0)`` prior and binomial counts, each rate's posterior is
``Beta(a0 + y, b0 + N - y)`` (conjugacy), so the two simpler models need no sampling at all to
be checked. Every summary is a table with one row per quantity (``theta[Falcon 1]``, ...)
and the columns ``mean``, ``sd``, ``q03`` and ``q97`` (the 3% and 97% quantiles).

References
----------
.. [1] Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B.
   (2013). *Bayesian Data Analysis*, 3rd ed., chapter 5. CRC Press.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["JEFFREYS", "QUANTILES", "SUMMARY_COLUMNS", "beta_summary", "full_pooling",
           "no_pooling"]  # fmt: skip

#: Beta(1/2, 1/2) prior of the no-pooling and full-pooling models.
JEFFREYS = (0.5, 0.5)
#: The quantiles every summary reports.
QUANTILES = (0.03, 0.97)
SUMMARY_COLUMNS = ["mean", "sd", "q03", "q97"]


def beta_summary(a: np.ndarray, b: np.ndarray, index: list[str]) -> pd.DataFrame:
    """Mean, sd and quantiles of Beta distributions.

    Parameters
    ----------
    a, b : array_like
        Shape parameters, one per row.
    index : list of str
        Row labels.

    Returns
    -------
    pandas.DataFrame
        Columns ``mean``, ``sd``, ``q03``, ``q97``, ``a``, ``b``.
    """
    dist = stats.beta(np.asarray(a, float), np.asarray(b, float))
    return pd.DataFrame(
        {
            "mean": dist.mean(),
            "sd": dist.std(),
            "q03": dist.ppf(QUANTILES[0]),
            "q97": dist.ppf(QUANTILES[1]),
            "a": a,
            "b": b,
        },
        index=pd.Index(index, name="quantity"),
    )


def no_pooling(groups: pd.DataFrame, prior: tuple[float, float] = JEFFREYS) -> pd.DataFrame:
    """Exact posterior of ``theta_i ~ Beta(a0, b0)`` with one rate per group.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group name with columns ``trials`` and ``successes``
        (as returned by :func:`pooling.data.load_groups`).
    prior : tuple of float, optional
        Beta prior ``(a0, b0)``.

    Returns
    -------
    pandas.DataFrame
        One row ``theta[<group>]`` per group: ``Beta(a0 + y_i, b0 + N_i - y_i)``.
    """
    y, n = groups["successes"].to_numpy(), groups["trials"].to_numpy()
    index = [f"theta[{name}]" for name in groups.index]
    return beta_summary(prior[0] + y, prior[1] + n - y, index)


def full_pooling(groups: pd.DataFrame, prior: tuple[float, float] = JEFFREYS) -> pd.DataFrame:
    """Exact posterior of one shared rate ``theta ~ Beta(a0, b0)``.

    Parameters
    ----------
    groups : pandas.DataFrame
        As for :func:`no_pooling`.
    prior : tuple of float, optional
        Beta prior ``(a0, b0)``.

    Returns
    -------
    pandas.DataFrame
        One row ``theta``: ``Beta(a0 + sum y, b0 + sum(N - y))``.
    """
    y, n = groups["successes"].sum(), groups["trials"].sum()
    return beta_summary([prior[0] + y], [prior[1] + n - y], ["theta"])

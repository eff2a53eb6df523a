"""Leave-one-group-out predictions, exact: the model comparison's yardstick.

Leave-one-group-out log predictive densities ``log p(y_i | y_-i)`` of the three models, the
quantity PSIS-LOO estimates [1]_: the conjugate models in closed form, the hierarchical one
by averaging the beta-binomial over the grid posterior given the other groups [2]_
(:class:`~pooling.exact.predictive.PredictiveMixin`).

References
----------
.. [1] Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation
   using leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413-1432.
.. [2] Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B.
   (2013). *Bayesian Data Analysis*, 3rd ed., chapter 5. CRC Press.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from pooling.exact.conjugate import JEFFREYS
from pooling.exact.grid import HYPER_SIGMA, HierarchicalPosterior
from pooling.selection import LISTED

__all__ = ["leave_one_group_out"]


def leave_one_group_out(
    groups: pd.DataFrame,
    prior: tuple[float, float] = JEFFREYS,
    only=None,
    sigma: float | None = None,
) -> pd.DataFrame:
    """Exact leave-one-group-out log predictive densities of the three models.

    For each group ``i``, ``log p(y_i | y_-i)``: the probability of its successes given the
    other groups only. No pooling: ``BetaBinomial(N_i, a0, b0)`` (the prior predictive);
    full pooling: ``BetaBinomial(N_i, a0 + sum_-i y, b0 + sum_-i (N - y))``; hierarchical:
    the beta-binomial averaged over the grid posterior of ``(alpha, beta)`` given ``y_-i``.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed by group name with columns ``trials`` and ``successes``.
    prior : tuple of float, optional
        Beta prior of the no-pooling and full-pooling models.
    only : array_like of int, optional
        Positions of the groups to compute; default every group.
    sigma : float, optional
        Scale of the hierarchical model's ``HalfNormal`` priors on ``alpha`` and ``beta``;
        default :data:`~pooling.exact.grid.HYPER_SIGMA`.

    Notes
    -----
    The hierarchical value needs the grid posterior given the other groups. With more than
    :data:`pooling.selection.LISTED` groups, leaving one out barely moves it, and it is taken
    from the full-data grid (:meth:`PredictiveMixin.log_predictive_without`) when that grid
    is good enough for it; otherwise a grid of its own is computed.

    Returns
    -------
    pandas.DataFrame
        One row per group computed, in data order; columns ``no_pooling``, ``full_pooling``,
        ``hierarchical``.
    """
    sigma = HYPER_SIGMA if sigma is None else sigma
    rows = {}
    n_all, y_all = groups["trials"].to_numpy(), groups["successes"].to_numpy()
    full = HierarchicalPosterior(groups, sigma) if len(groups) > LISTED else None
    for i in sorted(range(len(groups)) if only is None else {int(j) for j in only}):
        name = groups.index[i]
        n, y = int(n_all[i]), int(y_all[i])
        rest = np.arange(len(groups)) != i
        pooled_a = prior[0] + y_all[rest].sum()
        pooled_b = prior[1] + (n_all[rest] - y_all[rest]).sum()
        hierarchical = full.log_predictive_without(i) if full is not None else None
        if hierarchical is None:
            others = groups.assign(
                trials=np.where(rest, n_all, 0), successes=np.where(rest, y_all, 0)
            )
            hierarchical = HierarchicalPosterior(others, sigma).log_predictive(n, y)
        rows[name] = {
            "no_pooling": stats.betabinom.logpmf(y, n, *prior),
            "full_pooling": stats.betabinom.logpmf(y, n, pooled_a, pooled_b),
            "hierarchical": hierarchical,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(groups.index.name)

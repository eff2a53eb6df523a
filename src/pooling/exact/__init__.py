"""Exact posteriors of the three models, for checking the samplers.

No pooling and full pooling are conjugate (:mod:`~pooling.exact.conjugate`); the hierarchical
model's posterior is computed on a grid over ``(alpha, beta)`` (:mod:`~pooling.exact.grid`),
from which its rates (:mod:`~pooling.exact.rates`) and predictions
(:mod:`~pooling.exact.predictive`) follow, and the held-out predictions of all three
(:mod:`~pooling.exact.holdout`). Everything a notebook needs is importable from
here, as ``exact.no_pooling(groups)`` or ``exact.HierarchicalPosterior(groups)``.
"""

from pooling.exact.conjugate import (
    JEFFREYS,
    QUANTILES,
    SUMMARY_COLUMNS,
    beta_summary,
    full_pooling,
    no_pooling,
)
from pooling.exact.grid import HYPER_SIGMA, HierarchicalPosterior
from pooling.exact.holdout import leave_one_group_out
from pooling.exact.numerics import mu_kappa_to_log_ab, refine_maximum

__all__ = [
    "HYPER_SIGMA",
    "JEFFREYS",
    "QUANTILES",
    "SUMMARY_COLUMNS",
    "HierarchicalPosterior",
    "beta_summary",
    "full_pooling",
    "leave_one_group_out",
    "mu_kappa_to_log_ab",
    "no_pooling",
    "refine_maximum",
]

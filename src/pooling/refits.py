"""Leave-one-group-out refits: fit a model again with one group's data removed.

A group is removed by setting its trials and successes to 0: a binomial or beta-binomial
observation of 0 trials has probability 1 whatever the parameters, so it adds nothing to the
likelihood, and every array keeps its shape. That lets nutpie compile each model once and
swap the data for every refit (``CompiledModel.with_data``). The refits give the exact
leave-one-out predictive densities that PSIS-LOO approximates [1]_, where its Pareto k says
the approximation is unreliable.

References
----------
.. [1] Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation
   using leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413-1432.
"""

from __future__ import annotations

from collections.abc import Callable

import arviz as az
import numpy as np
import pandas as pd
from arviz_stats.base import array_stats
from scipy import special

from pooling.fits import CompiledSampler

__all__ = ["log_predictive", "loo_table", "refit_without_each_group"]


def refit_without_each_group(
    sampler: CompiledSampler,
    groups: pd.DataFrame,
    *,
    seed: int,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float = 0.8,
    only=None,
) -> dict[str, object]:
    """Refit a model once per group, with that group's data set to 0 trials.

    Parameters
    ----------
    sampler : pooling.fits.CompiledSampler
        The model's sampler; its data are ``pm.Data`` containers named ``trials`` and
        ``successes``. nutpie reuses its compiled model for every refit.
    groups : pandas.DataFrame
        The full data (columns ``trials`` and ``successes``).
    seed : int
        Seed of every refit.
    draws, tune, chains : int
        Sampler settings.
    target_accept : float, optional
        Target acceptance rate.
    only : array_like of int, optional
        Positions of the groups to leave out, one refit each; default every group.

    Returns
    -------
    dict
        Group name to the refit's posterior (an ``xarray.Dataset``), in data order.
    """
    trials, successes = groups["trials"].to_numpy(), groups["successes"].to_numpy()
    fits = {}
    for i in sorted(range(len(groups)) if only is None else {int(j) for j in only}):
        name = groups.index[i]
        keep = np.arange(len(groups)) != i
        data = {"trials": np.where(keep, trials, 0), "successes": np.where(keep, successes, 0)}
        idata = sampler.sample(
            draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed,
            data=data,
        )  # fmt: skip
        fits[name] = idata.posterior
    return fits


def log_predictive(log_p: np.ndarray) -> dict[str, float]:
    """Log of a Monte Carlo average of predictive probabilities, with its reliability.

    Parameters
    ----------
    log_p : numpy.ndarray
        ``log p(y_i | parameters_s)`` per draw, shape ``(chain, draw)``.

    Returns
    -------
    dict
        ``elpd``: ``log mean p``; ``se``: its Monte Carlo standard error (delta method: the
        MCSE of the mean of ``p`` over that mean); ``k``: the Pareto shape of the largest
        terms. When ``k > 0.7`` the average is dominated by a few rare draws and neither the
        value nor its standard error can be trusted (the same diagnostic as PSIS-LOO's).

    Notes
    -----
    The MCSE is that of a *mean*, with the ESS of the values themselves (``az.mcse`` with
    ``method="mean"``), not the rank-normalised bulk ESS: ``p`` is skewed, carried by the
    draws in one tail, and NUTS explores that tail more slowly than the bulk. For a group of
    0 successes in 29 trials left out of a no-pooling refit, the bulk ESS was 2.5 times the
    mean's ESS, and the errors measured in such standard errors had an sd of 1.65 instead of 1
    over 40 seeded refits (``benchmarks/refit_se.py``).
    """
    log_p = np.asarray(log_p, float)
    value = float(special.logsumexp(log_p) - np.log(log_p.size))
    p = np.exp(log_p - log_p.max())  # rescaled: the ratio mcse / mean is unchanged
    se = float(np.squeeze(az.mcse(p, method="mean")) / p.mean())
    with np.errstate(over="ignore"):  # ArviZ's Pareto fit overflows harmlessly on huge ratios
        # psislw takes log-likelihoods and weights by their negatives (LOO's ratios): the
        # weights here are the probabilities themselves
        _, k = array_stats.psislw(-log_p.ravel())
    return {"elpd": value, "se": se, "k": float(k)}


def loo_table(fits: dict, groups: pd.DataFrame, log_likelihood: Callable) -> pd.DataFrame:
    """Leave-one-group-out log predictive density of each group from its refit.

    Parameters
    ----------
    fits : dict
        From :func:`refit_without_each_group`.
    groups : pandas.DataFrame
        The full data.
    log_likelihood : callable
        ``log_likelihood(posterior, i, trials_i, successes_i)``: the log probability of group
        ``i``'s data under each draw of the refit, shape ``(chain, draw)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``elpd``, ``se`` and ``k`` (see :func:`log_predictive`) for each group that
        was refitted (none when no group was).
    """
    rows = {}
    for i, (name, row) in enumerate(groups.iterrows()):
        if name not in fits:
            continue
        log_p = log_likelihood(fits[name], i, int(row["trials"]), int(row["successes"]))
        rows[name] = log_predictive(log_p)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["elpd", "se", "k"])
    return table.rename_axis(groups.index.name)

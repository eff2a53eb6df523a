"""The hierarchical model whose population mean depends on the groups' own predictors.

    logit(mu_i) = a + x_i . b,   theta_i ~ Beta(mu_i kappa, (1 - mu_i) kappa),
    y_i ~ Binomial(N_i, theta_i)

With ``b = 0`` it is notebook 3's exchangeable model in the coordinates
``mu = alpha / (alpha + beta)`` and ``kappa = alpha + beta``. Each ``theta_i`` integrates out
to a beta-binomial likelihood, which depends on a group only through its predictors and
counts: groups with the same ``(x_i, N_i, y_i)`` share one term (:func:`fold`), and
:mod:`pooling.folded_regression` fits it at a cost per distinct predictor row near the
posterior mode, so with ``log_trials`` or category predictors the cost of a fit does not
grow with the groups.
Given ``(a, b, kappa)`` each group's rate is ``Beta(mu_i kappa + y_i, (1 - mu_i) kappa +
N_i - y_i)``, from which every estimate follows (:func:`pooling.estimates.regression`).

The priors (:data:`PRIORS`), on standardised predictors (:mod:`pooling.predictors`):

- ``a ~ Normal(0, 1.5)``: the logit of the population mean of a group with average
  predictors; its prior mean rate is spread over (0, 1) without piling up at the ends.
- ``b ~ Normal(0, 1)``: one standard deviation of a predictor moves the logit of the mean by
  at most about 2 (a rate of 0.2 to 0.65), at 95 %.
- ``kappa ~ LogNormal(3, 2)``: the population's concentration, 95 % between 0.4 and 1,000,
  so that the spread of the rates about their mean, ``sqrt(mu (1 - mu) / (1 + kappa))``,
  goes from almost all of (0, 1) down to a hundredth (``benchmarks/regression_priors.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PRIORS", "fold", "log_predictive", "loo", "means", "rate_draws"]

#: The priors' parameters: ``a ~ Normal(0, a_sd)``, ``b ~ Normal(0, b_sd)``,
#: ``log kappa ~ Normal(log_kappa_mean, log_kappa_sd)``.
PRIORS = {"a_sd": 1.5, "b_sd": 1.0, "log_kappa_mean": 3.0, "log_kappa_sd": 2.0}


def fold(groups: pd.DataFrame, design: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct ``(predictors, trials, successes)`` rows of the groups.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``, and for a folded table ``count``, the groups
        each row stands for.
    design : pandas.DataFrame
        The groups' predictors (:func:`pooling.predictors.design`), in the same order.

    Returns
    -------
    rows : pandas.DataFrame
        The predictor columns, ``trials``, ``successes`` and ``count`` (groups with that row).
    inverse : numpy.ndarray
        For each group, its row.
    """
    values = np.c_[design.to_numpy(float), groups["trials"].to_numpy(float),
                   groups["successes"].to_numpy(float)]  # fmt: skip
    distinct, inverse = np.unique(values, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    weights = groups["count"].to_numpy(float) if "count" in groups else None
    rows = pd.DataFrame(distinct, columns=[*design.columns, "trials", "successes"])
    rows[["trials", "successes"]] = rows[["trials", "successes"]].astype(np.int64)
    rows["count"] = np.bincount(inverse, weights, len(distinct)).round().astype(np.int64)
    return rows, inverse


def means(x: np.ndarray, a, b) -> np.ndarray:
    """The population mean ``mu`` of each row of ``x`` at each draw: shape ``(draws, rows)``.

    Parameters
    ----------
    x : numpy.ndarray
        Predictors, shape ``(rows, predictors)``.
    a, b : array_like
        Draws of the intercept, shape ``(draws,)``, and of the slopes, ``(draws, predictors)``.
    """
    from scipy import special

    a, b = np.asarray(a, float).reshape(-1), np.asarray(b, float).reshape(len(np.ravel(a)), -1)
    return special.expit(a[:, None] + b @ np.asarray(x, float).T)


def rate_draws(groups: pd.DataFrame, design: pd.DataFrame, a, b, kappa, rng, chunk: int = 100):
    """Joint draws of every group's rate, a block of draws at a time.

    Parameters
    ----------
    groups, design : pandas.DataFrame
        As for :func:`fold`.
    a, b, kappa : array_like
        Posterior draws (flattened over chains; ``b`` of shape ``(draws, predictors)``).
    rng : numpy.random.Generator
    chunk : int, optional
        Draws per block.

    Yields
    ------
    numpy.ndarray
        Shape ``(draws in the block, groups)``.
    """
    y = groups["successes"].to_numpy(float)
    f = groups["trials"].to_numpy(float) - y
    kappa = np.asarray(kappa, float).ravel()
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).reshape(kappa.size, -1)
    x = design.to_numpy(float)
    for start in range(0, kappa.size, chunk):
        part = slice(start, start + chunk)
        mu = means(x, a[part], b[part])
        k = kappa[part, None]
        yield rng.beta(mu * k + y, (1 - mu) * k + f)


def log_predictive(rows: pd.DataFrame, alpha, beta) -> np.ndarray:
    """``log p(y_r | draw)``: each folded row's beta-binomial log probability at each draw.

    Parameters
    ----------
    rows : pandas.DataFrame
        Columns ``trials`` and ``successes`` (:func:`fold`'s rows).
    alpha, beta : numpy.ndarray
        Shape ``(draws, rows)``, or ``(draws, 1)`` for an exchangeable population.

    Returns
    -------
    numpy.ndarray
        Shape ``(draws, rows)``.
    """
    from scipy import stats

    return stats.betabinom.logpmf(rows["successes"].to_numpy(), rows["trials"].to_numpy(),
                                  alpha, beta)  # fmt: skip


def loo(log_p: np.ndarray, counts: np.ndarray, chains: int) -> pd.Series:
    """PSIS-LOO over folded rows: every group of a row leaves the same value.

    With thousands of groups, leaving one out moves the population very little, so the
    importance weights are close to even and ``arviz.loo`` over the distinct rows, each
    counted as often as it occurs, is the PSIS-LOO of every group.

    Parameters
    ----------
    log_p : numpy.ndarray
        :func:`log_predictive`'s values, draws flattened over ``chains`` chains.
    counts : numpy.ndarray
        Groups per row.
    chains : int
        Chains the draws come from (for the relative efficiency).

    Returns
    -------
    pandas.Series
        ``elpd`` (summed over groups), ``se``, ``p_loo``, ``max_k`` and ``k_unreliable``
        (groups whose Pareto k is above ArviZ's limit, 0.7 with this many draws);
        ``attrs["elpd_i"]``: each row's value.
    """
    import arviz as az
    import xarray as xr

    values = np.asarray(log_p).reshape(chains, -1, log_p.shape[-1])
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"draws": (("chain", "draw"), np.zeros(values.shape[:2]))}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "row"), values)}),
    })  # fmt: skip
    result = az.loo(tree, pointwise=True)
    reliable = result.good_k  # 0.7 with this many draws
    elpd_i, k = result.elpd_i.to_numpy(), result.pareto_k.to_numpy()
    counts = np.asarray(counts, float)
    n = counts.sum()
    mean = (counts @ elpd_i) / n
    lppd_i = np.logaddexp.reduce(values.reshape(-1, values.shape[-1]), axis=0) - np.log(
        values.shape[0] * values.shape[1]
    )
    out = pd.Series({"elpd": counts @ elpd_i,
                     "se": float(np.sqrt(n * (counts @ (elpd_i - mean) ** 2) / n)),
                     "p_loo": counts @ (lppd_i - elpd_i), "max_k": float(np.max(k)),
                     "k_unreliable": int(counts[k > reliable].sum())})  # fmt: skip
    out.attrs["elpd_i"] = elpd_i
    return out

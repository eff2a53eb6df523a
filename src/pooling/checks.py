"""Convergence diagnostics and agreement with the exact posterior, as assertions that can fail.

Each ``assert_*`` function returns the table it checked (so a notebook can show it) and raises
:class:`CheckFailed` naming the offending rows when a check fails. Every test reduces its
table to a single boolean before asserting: asserting on an xarray Dataset iterates over its
variable *names* and always passes.
"""

from __future__ import annotations

import re

import arviz as az
import numpy as np
import pandas as pd

from pooling.exact import QUANTILES

__all__ = [
    "ESS_MIN",
    "EXACT_SLACK",
    "FAMILY_FALSE_ALARM",
    "N_MCSE",
    "PARETO_K_MAX",
    "RHAT_MAX",
    "CheckFailed",
    "assert_converged",
    "assert_estimates_match_exact",
    "assert_means_match_exact",
    "assert_matches_exact",
    "assert_no_divergences",
    "assert_refits_match_exact",
    "convergence",
    "divergences",
    "draws_of",
    "estimates_against_exact",
    "exact_agreement",
    "fail_unless",
    "kept_draws_ess",
    "mcse_tolerance",
    "refit_agreement",
]

#: Largest acceptable rank-normalised split R-hat.
RHAT_MAX = 1.01
#: Smallest acceptable bulk and tail effective sample size.
ESS_MIN = 1000
#: A sampled mean or quantile may differ from the exact value by this many Monte Carlo
#: standard errors (at least; see :func:`mcse_tolerance`).
N_MCSE = 4.0
#: Chance that a correct fit fails the exact check somewhere, whatever the number of tests:
#: 4 MCSEs for the few dozen tests of a small data set (3 per quantity).
FAMILY_FALSE_ALARM = 2e-3
#: A refit's average predictive density is reliable up to this Pareto k (as for PSIS-LOO).
PARETO_K_MAX = 0.7
#: Allowance for the error of the exact leave-one-out values themselves (grid sums).
EXACT_SLACK = 1e-3


def mcse_tolerance(n_tests: int, ess=None):
    """Errors in Monte Carlo standard errors allowed when ``n_tests`` comparisons are made.

    Each comparison of a correct fit fails with the probability of an error beyond the
    tolerance, so with thousands of groups a fixed 4 MCSEs would fail somewhere by chance. The
    tolerance grows (Bonferroni) so that a correct fit fails with probability at most
    :data:`FAMILY_FALSE_ALARM` overall, and is never below :data:`N_MCSE`.

    Parameters
    ----------
    n_tests : int
        Number of means and quantiles compared.
    ess : float or numpy.ndarray, optional
        The effective sample size behind each comparison's MCSE. The MCSE is then an estimate
        from that many draws, and an error measured in it follows Student's t with ``ess - 1``
        degrees of freedom rather than the normal: with the 50 draws that the mixtures of a
        table of a million groups average over, 4.2 MCSEs are reached 4 times as often.
        Without it, the normal (the hyperparameters' checks, whose ESS is at least
        :data:`ESS_MIN`).

    Returns
    -------
    float or numpy.ndarray
        4.0 up to 33 tests (11 quantities); 5.4 for 30,000 (10,000 groups); one per ``ess``.
    """
    from scipy import stats

    chance = FAMILY_FALSE_ALARM / (2 * max(n_tests, 1))
    if ess is None:
        return max(N_MCSE, float(stats.norm.isf(chance)))
    dof = np.maximum(np.nan_to_num(np.asarray(ess, float), nan=2.0) - 1, 1.0)
    return np.maximum(N_MCSE, stats.t.isf(chance, dof))


_QUANTITY = re.compile(r"^(?P<var>[^\[]+)(?:\[(?P<coord>.*)\])?$")


class CheckFailed(AssertionError):
    """A diagnostic or exactness check that did not pass."""


def fail_unless(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """Raise :class:`CheckFailed` naming the failed rows, unless every row of ``table`` is ok.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per quantity checked, with a boolean column ``ok``.
    what : str
        The check's name, for the message.

    Returns
    -------
    pandas.DataFrame
        ``table``, when every row passed.
    """
    ok = bool(table["ok"].all())
    if not ok:
        bad = table.loc[~table["ok"]]
        raise CheckFailed(f"{what} failed for {', '.join(map(str, bad.index))}:\n{bad.to_string()}")
    return table


def convergence(idata, var_names: list[str]) -> pd.DataFrame:
    """R-hat and bulk/tail ESS of every scalar in ``var_names``.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit with a ``posterior`` group.
    var_names : list of str
        Variables to check.

    Returns
    -------
    pandas.DataFrame
        Columns ``r_hat``, ``ess_bulk``, ``ess_tail`` and ``ok`` (R-hat <= RHAT_MAX and both
        ESS >= ESS_MIN; a NaN R-hat, as from a stuck chain, is not ok).
    """
    table = az.summary(idata, var_names=var_names, kind="diagnostics", round_to="none")
    table = table[["r_hat", "ess_bulk", "ess_tail"]].copy()
    table["ok"] = (
        (table["r_hat"] <= RHAT_MAX)
        & (table["ess_bulk"] >= ESS_MIN)
        & (table["ess_tail"] >= ESS_MIN)
    )
    return table


def assert_converged(idata, var_names: list[str]) -> pd.DataFrame:
    """Check R-hat <= 1.01 and bulk and tail ESS >= 1000 for every scalar.

    Parameters
    ----------
    idata : xarray.DataTree
    var_names : list of str

    Returns
    -------
    pandas.DataFrame
        The table of :func:`convergence`.

    Raises
    ------
    CheckFailed
        When any scalar fails.
    """
    return fail_unless(convergence(idata, var_names), "Convergence check")


def divergences(idata) -> int:
    """Number of divergent transitions after tuning.

    Parameters
    ----------
    idata : xarray.DataTree

    Returns
    -------
    int
    """
    return int(idata.sample_stats["diverging"].sum())


def assert_no_divergences(idata) -> int:
    """Check that no post-tuning transition diverged.

    Parameters
    ----------
    idata : xarray.DataTree

    Returns
    -------
    int
        0.

    Raises
    ------
    CheckFailed
        With the number of divergent transitions.
    """
    count = divergences(idata)
    if count:
        raise CheckFailed(f"{count} divergent transitions")
    return count


def draws_of(idata, quantity: str):
    """Posterior draws of one scalar, named as in the exact tables (``theta[Falcon 1]``).

    Parameters
    ----------
    idata : xarray.DataTree
    quantity : str
        ``name`` for a scalar variable, ``name[coord]`` for one entry of a 1-d variable.

    Returns
    -------
    xarray.DataArray
        Dimensions ``(chain, draw)``.
    """
    match = _QUANTITY.match(quantity)
    da = idata.posterior[match["var"]]
    if match["coord"] is not None:
        (dim,) = [d for d in da.dims if d not in ("chain", "draw")]
        da = da.sel({dim: match["coord"]})
    return da


def exact_agreement(idata, exact: pd.DataFrame, quantiles_of=None) -> pd.DataFrame:
    """Compare sampled means and 3%/97% quantiles with exact values.

    Parameters
    ----------
    idata : xarray.DataTree
    exact : pandas.DataFrame
        An exact summary from :mod:`pooling.exact` (rows are quantities, columns ``mean``,
        ``q03``, ``q97``).
    quantiles_of : sequence of str, optional
        The quantities whose quantiles are compared; default all. (The MCSE of a tail
        quantile is itself a noisy estimate, heavier-tailed than normal, so among thousands
        of quantities a correct fit would exceed any sensible tolerance somewhere; means are
        compared for every quantity.)

    Returns
    -------
    pandas.DataFrame
        Per quantity: sampled and exact mean, the mean's MCSE and the error in MCSEs; sampled
        and exact quantiles with their tolerance (:func:`mcse_tolerance` quantile MCSEs;
        empty for quantities left out); ``ok`` when every error is within tolerance.
    """
    rows = {}
    with_quantiles = set(exact.index if quantiles_of is None else quantiles_of)
    n_tests = len(exact) + len(QUANTILES) * len(with_quantiles & set(exact.index))
    tolerance = mcse_tolerance(n_tests)
    for quantity, ref in exact.iterrows():
        da = draws_of(idata, quantity)
        values = da.to_numpy().ravel()
        mean = values.mean()
        mcse = float(np.squeeze(az.mcse(da.to_numpy(), method="mean")))
        row = {
            "mean": mean,
            "exact_mean": ref["mean"],
            "mcse": mcse,
            "z": (mean - ref["mean"]) / mcse,
        }
        ok = abs(row["z"]) <= tolerance
        for q in QUANTILES:
            key = f"q{round(q * 100):02d}"
            row[key], row[f"exact_{key}"], row[f"tol_{key}"] = np.nan, ref[key], np.nan
            if quantity in with_quantiles:
                row[key] = np.quantile(values, q)
                row[f"tol_{key}"] = tolerance * float(
                    np.squeeze(az.mcse(da.to_numpy(), method="quantile", prob=q))
                )
                ok &= abs(row[key] - ref[key]) <= row[f"tol_{key}"]
        row["ok"] = bool(ok)
        rows[quantity] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("quantity")


def assert_matches_exact(idata, exact: pd.DataFrame, quantiles_of=None) -> pd.DataFrame:
    """Check every mean and 3%/97% quantile against the exact posterior.

    Parameters
    ----------
    idata : xarray.DataTree
    exact : pandas.DataFrame
        See :func:`exact_agreement`.
    quantiles_of : sequence of str, optional
        See :func:`exact_agreement`.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`exact_agreement`.

    Raises
    ------
    CheckFailed
        When a mean is more than :func:`mcse_tolerance` standard errors away, or a quantile
        further than its tolerance.
    """
    return fail_unless(exact_agreement(idata, exact, quantiles_of), "Exact-posterior check")


def refit_agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Compare leave-one-out refits' log predictive densities with their exact values.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model and group with the columns ``refit``, ``refit se`` and ``refit k``
        (from :func:`pooling.refits.loo_table`) and ``exact``; rows without a refit or an
        exact value are not compared.

    Returns
    -------
    pandas.DataFrame
        ``table`` with the allowed error ``tol`` (:func:`mcse_tolerance` standard errors, for
        the number of refits compared, plus :data:`EXACT_SLACK`) and ``ok``: within it, or
        not comparable (no value, or ``refit k`` above :data:`PARETO_K_MAX`, where the
        refit's average cannot be trusted and says so itself).
    """
    table = table.copy()
    compared = table["refit k"].le(PARETO_K_MAX) & table["exact"].notna()
    table["tol"] = mcse_tolerance(int(compared.sum())) * table["refit se"] + EXACT_SLACK
    table["ok"] = ~compared | ((table["refit"] - table["exact"]).abs() <= table["tol"])
    return table


def assert_refits_match_exact(table: pd.DataFrame) -> pd.DataFrame:
    """Check every reliable leave-one-out refit against its exact value.

    Parameters
    ----------
    table : pandas.DataFrame
        See :func:`refit_agreement`.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`refit_agreement`.

    Raises
    ------
    CheckFailed
        When a refit with ``refit k`` at most 0.7 is further from its exact value than its
        tolerance.
    """
    return fail_unless(refit_agreement(table), "Leave-one-out refit check")


def assert_estimates_match_exact(
    table: pd.DataFrame, idata, exact_summary: pd.DataFrame, groups: pd.DataFrame | None = None,
    design: pd.DataFrame | None = None,
):  # fmt: skip
    """Check hierarchical estimates against the exact grid, within their Monte Carlo error.

    Parameters are those of :func:`estimates_against_exact`, which gives the table.

    Returns
    -------
    pandas.DataFrame
        Per group and column: the estimate, the exact value, the error in MCSEs ``z``, the
        effective sample size, the allowed error ``tol`` and ``ok``.

    Raises
    ------
    CheckFailed
        When any estimate is further from the exact value than its tolerance.
    """
    return fail_unless(estimates_against_exact(table, idata, exact_summary, groups, design),
                       "Estimates check")  # fmt: skip


def estimates_against_exact(
    table: pd.DataFrame, idata, exact_summary: pd.DataFrame, groups: pd.DataFrame | None = None,
    design: pd.DataFrame | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Hierarchical estimates against the exact grid, in their Monte Carlo errors.

    Each estimate averages ``Beta(alpha + y, beta + N - y)`` over the fit's draws of
    ``(alpha, beta)``, so its Monte Carlo error is that of a mean over the draws: of the
    conditional means for ``mean``, of the conditional CDFs at the quantile (divided by the
    density there) for ``q03`` and ``q97``, with the draws' autocorrelation. The allowed
    error is :func:`mcse_tolerance` of that mean's effective sample size.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`pooling.estimates.hierarchical` (or ``regression``) for the groups to
        check.
    idata : xarray.DataTree
        The fit whose draws the table averages over: of ``alpha`` and ``beta``, or with
        ``design`` of the regression model's ``a``, ``b`` and ``kappa``.
    exact_summary : pandas.DataFrame
        The exact summary of those groups (:meth:`pooling.exact.HierarchicalPosterior.summary`
        or :meth:`pooling.exact.regression.RegressionPosterior.summary`).
    groups : pandas.DataFrame, optional
        Every group the estimates were computed with (their distinct counts decide how many
        draws the mixtures average over: :func:`pooling.estimates.mixture_draws`); default
        ``table``'s.
    design : pandas.DataFrame, optional
        For the regression model: every group's predictors, indexed like ``groups``.

    Returns
    -------
    pandas.DataFrame
        Per group and column: ``estimate``, ``exact``, ``z`` (the error in MCSEs), ``ess``,
        ``tol`` (the allowed error) and ``ok``.
    """
    from scipy import special, stats

    from pooling.estimates import fold, mixture_draws

    every = table if groups is None else groups
    post = idata.posterior
    if design is None:
        n_rows = len(fold(every)[0])
        hyper = [post["alpha"].to_numpy(), post["beta"].to_numpy()]
    else:
        from pooling import regression

        n_rows = len(regression.fold(every, design)[0])
        b = post["b"].transpose("chain", "draw", ...).to_numpy()
        hyper = [post["a"].to_numpy(), b, post["kappa"].to_numpy()]
    used = mixture_draws(hyper[0].size, n_rows)
    kept = None
    if used.size < hyper[0].size:
        # Fewer draws when there are very many distinct pairs: the error is that of those.
        kept = kept_draws_ess(idata, used.size)
        hyper = [h.reshape(hyper[0].size, *h.shape[2:])[used][None] for h in hyper]
    rows = {}
    for name, row in table.iterrows():
        ref = exact_summary.loc[f"theta[{name}]"]
        if design is None:
            alpha, beta = hyper
        else:
            mu = special.expit(hyper[0] + hyper[1] @ design.loc[name].to_numpy(float))
            alpha, beta = mu * hyper[2], (1 - mu) * hyper[2]
        a, b = alpha + row["successes"], beta + row["trials"] - row["successes"]
        for column in ("mean", *(f"q{round(q * 100):02d}" for q in QUANTILES)):
            if column == "mean":
                se, ess = _mcse_of_mean(a / (a + b), kept)
            else:
                density = float(stats.beta(a, b).pdf(row[column]).mean())
                se, ess = _mcse_of_mean(special.betainc(a, b, row[column]), kept)
                se /= density
            rows[(name, column)] = {"estimate": row[column], "exact": ref[column],
                                    "z": abs(row[column] - ref[column]) / (se + 1e-12),
                                    "ess": ess, "se": se}  # fmt: skip
    result = pd.DataFrame.from_dict(rows, orient="index").rename_axis(["group", "column"])
    result["tol"] = mcse_tolerance(len(result), result["ess"]) * result.pop("se") + 1e-9
    result["ok"] = (result["estimate"] - result["exact"]).abs() <= result["tol"]
    return result


def assert_means_match_exact(means: np.ndarray, exact_means: np.ndarray,
                             conditional: np.ndarray, idata,
                             used: np.ndarray | None = None) -> pd.Series:  # fmt: skip
    """Check every group's posterior mean against the exact one, within its Monte Carlo error.

    Parameters
    ----------
    means, exact_means : numpy.ndarray
        Each distinct row's estimated and exact posterior mean.
    conditional : numpy.ndarray
        Each row's conditional mean at each draw, ``(draws, rows)`` with the draws flattened
        over ``chains`` chains: the estimate is their average over the draws that
        :func:`pooling.estimates.mixture_draws` keeps, so its error is the MCSE of that
        average.
    idata : xarray.DataTree
        The fit those draws come from (its chains, and :func:`kept_draws_ess` when only some
        draws are kept).
    used : numpy.ndarray, optional
        When ``conditional`` holds those kept draws only: which they are.

    Returns
    -------
    pandas.Series
        The rows compared, the largest error in MCSEs, the error ``z`` and ``tolerance``
        (:func:`mcse_tolerance` of its effective sample size) of the row nearest to failing,
        and ``ok``.

    Raises
    ------
    CheckFailed
        When some row's mean is further from the exact one than the tolerance.
    """
    from pooling.estimates import mixture_draws
    from pooling.mcse import mcse_and_ess_of_means

    if used is None:
        used = mixture_draws(len(conditional), conditional.shape[1])
        conditional = conditional[used]
    if used.size == used[-1] + 1:  # every draw: the chains apart
        chains = idata.posterior.sizes["chain"]
        se, ess = mcse_and_ess_of_means(conditional.reshape(chains, -1, conditional.shape[1]))
    else:
        ess = np.full(conditional.shape[1], kept_draws_ess(idata, used.size))
        se = conditional.std(axis=0, ddof=1) / np.sqrt(ess)
    z = np.abs(np.asarray(means) - np.asarray(exact_means)) / (se + 1e-12)
    tolerance = mcse_tolerance(len(z), ess)
    worst = int(np.argmax(z / tolerance))  # the row nearest to failing, or furthest past
    result = pd.Series({"rows": len(z), "largest_z": float(z.max()), "z": float(z[worst]),
                        "tolerance": float(tolerance[worst]),
                        "ok": bool((z <= tolerance).all())})  # fmt: skip
    if not result["ok"]:
        raise CheckFailed(f"Means check failed: a mean is {z[worst]:.1f} MCSEs from the exact "
                          f"one (row {worst}), more than {tolerance[worst]:.1f}")  # fmt: skip
    return result


def _mcse_of_mean(values: np.ndarray, kept: float | None) -> tuple[float, float]:
    """The MCSE of the mean of ``values`` (chains, draws) and its effective sample size:
    ArviZ's, or with ``kept`` (:func:`kept_draws_ess`) that of so many independent draws."""
    if kept is not None:
        return float(np.std(values, ddof=1) / np.sqrt(kept)), kept
    return (float(np.squeeze(az.mcse(values, method="mean"))),
            float(np.squeeze(az.ess(values, method="mean"))))  # fmt: skip


def kept_draws_ess(idata, kept: int) -> float:
    """The effective size of ``kept`` evenly spaced draws of a fit
    (:func:`pooling.estimates.mixture_draws`).

    Further apart than the chains' autocorrelation time (all the fit's draws over the
    smallest bulk ESS of its parameters), they are independent and count in full; closer, as
    that smallest ESS. Both come from every draw: an ESS estimated from 50 independent draws
    themselves ranges from under 10 to over 80 (``benchmarks/mixture_check.py``), and an
    MCSE with it from far too wide to too narrow.

    Parameters
    ----------
    idata : xarray.DataTree
        The fit, with a ``posterior`` group.
    kept : int
        How many draws are kept.

    Returns
    -------
    float
    """
    ess = az.ess(idata.posterior, method="bulk")
    smallest = min(float(np.min(values)) for values in ess.data_vars.values())
    return float(min(kept, smallest))

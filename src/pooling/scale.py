"""What the notebooks do differently when there are many groups, and why.

A model with a rate per group has a parameter per group. Past :data:`MANY` groups, sampling
every rate by NUTS takes hours at the notebooks' settings, and keeping every draw of every
rate takes gigabytes (``benchmarks/RESULTS.md``). The posteriors of these models have exact
forms that need neither, so past :data:`MANY` groups:

- Notebooks 1 to 3 fit a rate of its own only to the listed groups
  (:func:`pooling.selection.select_groups`). The other groups enter each model through the
  closed form of their likelihood, :class:`Others`: not at all under no pooling (each rate
  depends on its own counts alone), through their summed counts under full pooling, and with
  their rates integrated out (the beta-binomial likelihood, folded over their distinct counts)
  under the hierarchical model. Every parameter that is fitted therefore has the posterior it
  has in the model of every group, and the exact checks still apply to it.
- Notebook 4 takes what concerns every group (means, replicated data, leave-one-out,
  rankings) from joint draws of every group's rate, drawn from the exact posteriors
  (:func:`rate_draws`), as many as :data:`DRAW_BUDGET` allows.

Up to :data:`MANY` groups nothing changes: every group is fitted, and every draw is kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from pooling.exact.conjugate import JEFFREYS
from pooling.folded import rising_terms
from pooling.selection import select_groups, selection_note

__all__ = [
    "DENSITY_DRAWS", "DRAW_BUDGET", "MANY", "MIN_DRAWS", "Others",
    "every_group_fitted", "group_means", "loo", "mass_matrix", "mean_rates", "most_draws",
    "most_probable_best",
    "mu_density_settings", "rate_draws", "replicated_statistics", "split",
    "statistics_of_replicates", "thinned",
]  # fmt: skip

#: Past this many groups the notebooks fit the listed groups' rates only (see the module
#: docstring). Below it the full models are cheap: the 71 groups of ``data/rat_tumours.csv``
#: take about 2 minutes for the whole collection at the default settings.
MANY = 100

#: Draws of ``kappa`` that the density of ``mu`` averages over past :data:`MANY` groups.
DENSITY_DRAWS = 10

#: Most values (draws times groups) in one array of joint draws of every group's rate.
DRAW_BUDGET = 20_000_000
#: Fewest draws kept for a quantity over every group, however many groups there are.
MIN_DRAWS = 100

_REASONS = {
    "no pooling": (
        "under no pooling each group's posterior depends on its own counts alone, so these "
        "are the posteriors the model of every group gives them"
    ),
    "full pooling": (
        "the other {others:,} groups enter the likelihood through their summed counts, which "
        "is all that full pooling's likelihood depends on, so theta has the posterior of the "
        "model of every group"
    ),
    "hierarchical": (
        "the other {others:,} groups enter with their rates integrated out (the beta-binomial "
        "likelihood, folded over their distinct counts), so alpha and beta have the posterior "
        "of the model of every group, and each listed rate its exact one"
    ),
    "comparison": (
        "what concerns every group (means, replicated data sets, leave-one-out, rankings) "
        "comes from the exact posteriors instead, with up to {draws:,} joint draws of every "
        "group's rate (pooling.scale)"
    ),
}


class Others:
    """The groups that a model does not fit one by one, in the closed form of their likelihood.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``: the groups left to this term (may be empty).
    """

    def __init__(self, groups: pd.DataFrame):
        self.count = len(groups)
        self.trials = int(groups["trials"].sum())
        self.successes = int(groups["successes"].sum())
        self.terms = rising_terms(groups)

    def __len__(self) -> int:
        return self.count

    def pooled_likelihood(self, theta) -> None:
        """Add the summed counts' binomial log likelihood in ``theta`` to the model in context.

        ``pm.Potential("others")``, up to a constant; nothing when there are no other groups.
        """
        if not self.count:
            return
        import pymc as pm
        import pytensor.tensor as pt

        failures = self.trials - self.successes
        pm.Potential("others", self.successes * pt.log(theta) + failures * pt.log1p(-theta))

    def beta_binomial_likelihood(self, alpha, beta, longest: int | None = None) -> None:
        """Add the folded beta-binomial log likelihood to the model in context.

        ``pm.Potential("others")`` (:meth:`pooling.folded.RisingTerms.tensor`, with its
        ``longest``), up to a constant; nothing when there are no other groups.
        """
        if not self.count:
            return
        import pymc as pm

        pm.Potential("others", self.terms.tensor(alpha, beta, longest))

    def log_likelihood(self, alpha, beta) -> np.ndarray:
        """The folded beta-binomial log likelihood at each draw of ``(alpha, beta)`` (NumPy)."""
        return self.terms.evaluate(alpha, beta)

    def add_log_likelihood(self, idata) -> None:
        """Add the folded log likelihood at ``idata``'s draws as ``log_likelihood["others"]``.

        So that what sums the log likelihood over observations (``arviz.psense``) counts these
        groups too; nothing when there are no other groups.
        """
        if not self.count:
            return
        post = idata["posterior"]
        values = self.log_likelihood(post["alpha"].to_numpy(), post["beta"].to_numpy())
        idata["log_likelihood"]["others"] = post["alpha"].copy(data=values)


def mean_rates(groups: pd.DataFrame, alpha, beta) -> pd.Series:
    """Each group's posterior mean rate under the hierarchical model, from draws of its
    hyperparameters: the average over the draws of ``(alpha + y_i) / (alpha + beta + N_i)``.

    Up to :data:`MANY` groups over every draw; past that over the draws that
    :func:`pooling.estimates.mixture_draws` keeps, once per distinct ``(trials, successes)``.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``.
    alpha, beta : array_like
        Posterior draws (flattened together).

    Returns
    -------
    pandas.Series
        Indexed like ``groups``.
    """
    from pooling.estimates import fold, mixture_draws

    a, b = np.asarray(alpha, float).ravel(), np.asarray(beta, float).ravel()
    if len(groups) <= MANY:
        y, n = groups["successes"].to_numpy(), groups["trials"].to_numpy()
        rates = (a[:, None] + y) / (a[:, None] + b[:, None] + n)
        return pd.Series(rates.mean(axis=0), index=groups.index)
    pairs, inverse = fold(groups)
    kept = mixture_draws(a.size, len(pairs))
    a, b = a[kept, None], b[kept, None]
    y, n = pairs["successes"].to_numpy(float), pairs["trials"].to_numpy(float)
    step = max(DRAW_BUDGET // kept.size, 1)
    means = np.concatenate([((a + y[k : k + step]) / (a + b + n[k : k + step])).mean(axis=0)
                            for k in range(0, len(pairs), step)])  # fmt: skip
    return pd.Series(means[inverse], index=groups.index)


def mass_matrix(groups: pd.DataFrame | int) -> str:
    """The mass matrix that NUTS adapts for the hierarchical fits of this many groups.

    Up to :data:`MANY` groups, ``"diagonal"`` (the samplers' default). Past that the data pin
    ``mu = alpha / (alpha + beta)`` down far better than ``alpha + beta``, so ``alpha`` and
    ``beta`` move together along a narrow ridge that a diagonal mass matrix cannot follow:
    ``"low rank"`` (:data:`pooling.fits.MASS_MATRICES`), which also learns that direction.
    On the career batting table that takes 4 times fewer leapfrog steps per draw and gives 6
    times the effective sample size (``benchmarks/mass_matrix.py``). This prints why, for the
    notebook's output.

    Parameters
    ----------
    groups : pandas.DataFrame or int
        The validated groups frame, or the number of groups.

    Returns
    -------
    str
        A key of :data:`pooling.fits.MASS_MATRICES`.
    """
    n_groups = groups if isinstance(groups, int) else len(groups)
    if n_groups <= MANY:
        return "diagonal"
    print(f"{n_groups:,} groups: NUTS adapts a low-rank mass matrix, because the data fix "
          "mu far better than alpha + beta, and alpha and beta move together along a ridge "
          "that the default diagonal one cannot follow.")  # fmt: skip
    return "low rank"


def mu_density_settings(groups: pd.DataFrame, mu) -> dict:
    """Settings of :class:`pooling.summaries.ConditionalMuDensity` for this many groups.

    Up to :data:`MANY` groups, none (its defaults). Past that the exact log density costs a
    term per distinct count at every point, and ``mu``'s posterior is narrow, so it uses
    :data:`DENSITY_DRAWS` draws and a ``logit mu`` grid around the draws of ``mu``.

    Parameters
    ----------
    groups : pandas.DataFrame
        The validated groups frame.
    mu : array_like
        Posterior draws of ``mu``.

    Returns
    -------
    dict
        Keyword arguments: ``max_draws`` and ``eta``, or none.
    """
    if len(groups) <= MANY:
        return {}
    from scipy import special

    eta = special.logit(np.asarray(mu, float).ravel())
    lo, hi = eta.min(), eta.max()
    return {"max_draws": DENSITY_DRAWS, "eta": np.linspace(2 * lo - hi, 2 * hi - lo, 401)}


def split(groups: pd.DataFrame, model: str) -> tuple[pd.DataFrame, Others]:
    """The groups a notebook fits one by one, and the others.

    Up to :data:`MANY` groups, every group is fitted and there are no others. Past that, the
    listed groups are fitted (their frame's ``attrs["note"]`` says which they are, for plot
    titles) and this prints, for the notebook's output, what that means for ``model``.

    Parameters
    ----------
    groups : pandas.DataFrame
        The validated groups frame.
    model : {"no pooling", "full pooling", "hierarchical", "comparison"}
        The notebook's model, or ``"comparison"`` for notebook 4.

    Returns
    -------
    fitted : pandas.DataFrame
        The rows of ``groups`` that get a rate of their own, in data order.
    others : Others
        The rest.
    """
    if model not in _REASONS:
        raise ValueError(f"model must be one of {sorted(_REASONS)}, not {model!r}")
    if len(groups) <= MANY:
        return groups, Others(groups.iloc[:0])
    shown = np.sort(select_groups(groups))
    fitted = groups.iloc[shown].copy()
    fitted.attrs["note"] = selection_note(groups, select_groups(groups))
    others = Others(groups.drop(index=fitted.index))
    reason = _REASONS[model].format(others=len(others), draws=most_draws(len(groups)))
    if model == "comparison":
        print(f"{len(groups):,} groups: more than {MANY}, so the fits of notebooks 1 to 3 hold "
              f"the rates of the {len(fitted)} listed groups only; {reason}.")  # fmt: skip
    else:
        print(f"{len(groups):,} groups: more than {MANY}, so NUTS fits the rates of the "
              f"{len(fitted)} listed groups only; {reason}. Every group's estimate is in the "
              "table of estimates (notebook 4).")  # fmt: skip
    return fitted, others


def every_group_fitted(idata, groups: pd.DataFrame) -> bool:
    """Whether ``idata``'s rates cover every group of ``groups`` (up to :data:`MANY` groups).

    Parameters
    ----------
    idata : xarray.DataTree
        A fit of notebooks 1 to 3.
    groups : pandas.DataFrame
        The validated groups frame.
    """
    dim = groups.attrs["labels"].group
    theta = idata.posterior["theta"]
    return dim not in theta.dims or theta.sizes[dim] == len(groups)


def most_draws(n_groups: int) -> int:
    """Most joint draws of ``n_groups`` rates kept: :data:`DRAW_BUDGET` values, or
    :data:`MIN_DRAWS` draws."""
    return max(DRAW_BUDGET // max(n_groups, 1), MIN_DRAWS)


def _own_draws(idata, groups: pd.DataFrame) -> bool:
    """Whether the fit's own draws serve for every group (up to :data:`MANY` groups)."""
    return every_group_fitted(idata, groups) and len(groups) <= MANY


def thinned(n_draws: int, n_groups: int) -> np.ndarray:
    """Evenly spaced positions of the flattened draws kept for joint draws of every rate.

    Every draw while ``n_draws * n_groups`` is within :data:`DRAW_BUDGET`; otherwise as many
    as fit, and at least :data:`MIN_DRAWS`.
    """
    most = most_draws(n_groups)
    if n_draws <= most:
        return np.arange(n_draws)
    return np.linspace(0, n_draws - 1, most).round().astype(int)


def rate_draws(idata, groups: pd.DataFrame, rng: np.random.Generator,
               chunk: int | None = None) -> Iterator[np.ndarray]:  # fmt: skip
    """Joint posterior draws of every group's rate, a block of draws at a time.

    When ``idata`` has every group's rate, its own draws (flattened over chains). Otherwise
    drawn from the exact posterior that the fit implies, at the draws :func:`thinned` keeps:
    ``Beta(1/2 + y_i, 1/2 + N_i - y_i)`` under no pooling (a fit with a rate per group but
    no ``alpha``), the common ``theta`` under full pooling, and
    ``Beta(alpha + y_i, beta + N_i - y_i)`` at each draw of ``(alpha, beta)`` under the
    hierarchical model.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit of notebooks 1 to 3.
    groups : pandas.DataFrame
        The validated groups frame: every group.
    rng : numpy.random.Generator
        The notebook's generator (used only when drawing).
    chunk : int, optional
        Draws per block; default as many as :data:`DRAW_BUDGET` allows in one block of
        :data:`MIN_DRAWS`-sized steps.

    Yields
    ------
    numpy.ndarray
        Shape ``(draws in the block, groups)``.
    """
    post = idata.posterior
    dim = groups.attrs["labels"].group
    theta = post["theta"]
    n_draws = theta.sizes["chain"] * theta.sizes["draw"]
    pooled = dim not in theta.dims
    chunk = chunk or max(DRAW_BUDGET // (10 * max(len(groups), 1)), 1)
    if _own_draws(idata, groups):
        flat = theta.stack(sample=("chain", "draw"))
        flat = flat.to_numpy()[:, None] if pooled else flat.transpose("sample", dim).to_numpy()
        for start in range(0, n_draws, chunk):
            yield np.broadcast_to(flat[start : start + chunk], (min(chunk, n_draws - start),
                                                                len(groups)))  # fmt: skip
        return
    kept = thinned(n_draws, len(groups))
    y = groups["successes"].to_numpy(float)
    f = groups["trials"].to_numpy(float) - y
    if pooled:
        common = theta.to_numpy().ravel()[kept]
    elif "alpha" in post:
        a = post["alpha"].to_numpy().ravel()[kept]
        b = post["beta"].to_numpy().ravel()[kept]
    else:  # no pooling: the same posterior at every draw
        a, b = np.full(kept.size, JEFFREYS[0]), np.full(kept.size, JEFFREYS[1])
    for start in range(0, kept.size, chunk):
        part = slice(start, start + chunk)
        if pooled:
            yield np.broadcast_to(common[part, None], (common[part].size, len(groups)))
        else:
            yield rng.beta(a[part, None] + y, b[part, None] + f)


def group_means(idata, groups: pd.DataFrame) -> np.ndarray:
    """Every group's posterior mean rate under a fit of notebooks 1 to 3.

    The mean of the fit's own draws when it has every group's rate; otherwise the exact
    mean: ``(1/2 + y_i) / (1 + N_i)`` under no pooling, the mean of the common ``theta``
    under full pooling, :func:`mean_rates` under the hierarchical model.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit of notebooks 1 to 3.
    groups : pandas.DataFrame
        The validated groups frame: every group.

    Returns
    -------
    numpy.ndarray
        One mean per group, in data order.
    """
    post = idata.posterior
    dim = groups.attrs["labels"].group
    theta = post["theta"]
    if dim not in theta.dims:
        return np.full(len(groups), float(theta.mean()))
    if every_group_fitted(idata, groups):
        return theta.mean(("chain", "draw")).sel({dim: groups.index}).to_numpy()
    if "alpha" in post:
        return mean_rates(groups, post["alpha"], post["beta"]).to_numpy()
    y, n = groups["successes"].to_numpy(float), groups["trials"].to_numpy(float)
    return (JEFFREYS[0] + y) / (sum(JEFFREYS) + n)


def replicated_statistics(idata, groups: pd.DataFrame, statistics: dict,
                          rng: np.random.Generator) -> dict[str, np.ndarray]:  # fmt: skip
    """Statistics of replicated data sets over every group that has trials.

    From the fit's posterior predictive draws when it has every group; otherwise each
    replicate is drawn here, ``y_rep ~ Binomial(N_i, theta_i)`` at the joint draws of
    :func:`rate_draws`.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit of notebooks 1 to 3 (with ``posterior_predictive["y"]``).
    groups : pandas.DataFrame
        The validated groups frame: every group.
    statistics : dict
        Name to a function of an array of replicated rates ``(replicates, groups)`` and
        ``axis=1``, such as ``numpy.min``.
    rng : numpy.random.Generator
        The notebook's generator.

    Returns
    -------
    dict
        Name to the statistic of each replicate.
    """
    trials = groups["trials"].to_numpy()
    rated = trials > 0
    if _own_draws(idata, groups):
        dim = groups.attrs["labels"].group
        rep = idata.posterior_predictive["y"].stack(sample=("chain", "draw"))
        rep = rep.transpose(..., dim).to_numpy()
        rep_rate = rep[:, rated] / trials[rated]
        return {name: fn(rep_rate, axis=1) for name, fn in statistics.items()}
    return statistics_of_replicates(rate_draws(idata, groups, rng), groups, statistics, rng)


def statistics_of_replicates(blocks, groups: pd.DataFrame, statistics: dict,
                             rng: np.random.Generator) -> dict[str, np.ndarray]:  # fmt: skip
    """Statistics of data sets replicated at joint draws of every group's rate.

    Parameters
    ----------
    blocks : iterable of numpy.ndarray
        Joint draws, each block of shape ``(draws, groups)`` (as :func:`rate_draws` yields).
    groups : pandas.DataFrame
        The validated groups frame: every group.
    statistics : dict
        As for :func:`replicated_statistics`.
    rng : numpy.random.Generator
        For ``y_rep ~ Binomial(N_i, theta_i)``.

    Returns
    -------
    dict
        Name to the statistic of each replicate.
    """
    trials = groups["trials"].to_numpy()
    rated = trials > 0
    out = {name: [] for name in statistics}
    for block in blocks:
        rep_rate = rng.binomial(trials[rated], block[:, rated]) / trials[rated]
        for name, fn in statistics.items():
            out[name].append(fn(rep_rate, axis=1))
    return {name: np.concatenate(values) for name, values in out.items()}


def most_probable_best(idata, groups: pd.DataFrame, positions: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """For the groups at ``positions``, the probability that each has the highest rate of all.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit of notebooks 1 or 3 (a rate per group).
    groups : pandas.DataFrame
        The validated groups frame: every group.
    positions : numpy.ndarray
        Positions in ``groups``.
    rng : numpy.random.Generator
        The notebook's generator (used past :data:`MANY` groups).

    Returns
    -------
    numpy.ndarray
        One probability per position: the share of joint draws (:func:`rate_draws`) in
        which that group's rate is the highest.
    """
    best = np.concatenate([block.argmax(axis=1) for block in rate_draws(idata, groups, rng)])
    return np.array([np.mean(best == k) for k in positions])


def loo(idata, groups: pd.DataFrame):
    """Leave-one-group-out predictive densities of every group, as ``arviz.loo`` gives them.

    Up to :data:`MANY` groups, PSIS-LOO from the fit's pointwise log likelihood
    (``arviz.loo``). Past that the fits hold the listed groups' log likelihood only, and
    every group's value is computed from the posterior's exact form instead: the
    beta-binomial predictive of each group's record given the others under no pooling and
    full pooling (exact, Pareto k undefined), and under the hierarchical model the
    importance-sampling estimate over the draws of ``(alpha, beta)`` that the estimates
    average over (:func:`pooling.estimates.mixture_draws`),
    ``-log mean_s 1 / p(y_i | alpha_s, beta_s)``, once per distinct ``(trials, successes)``
    (Pareto k for the listed groups). With this many groups, leaving one out moves the
    posterior of the population very little, so the weights are close to even.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit of notebooks 1 to 3.
    groups : pandas.DataFrame
        The validated groups frame: every group.

    Returns
    -------
    arviz.ELPDDataLOO
        With ``elpd_i`` and ``pareto_k`` over every group.
    """
    if _own_draws(idata, groups):
        import arviz as az

        return az.loo(idata, pointwise=True)
    from arviz_stats.base import array_stats
    from scipy import special, stats

    from pooling.estimates import fold, mixture_draws

    dim = groups.attrs["labels"].group
    post = idata.posterior
    pairs, inverse = fold(groups)
    y, n = pairs["successes"].to_numpy(float), pairs["trials"].to_numpy(float)
    k = np.full(len(groups), np.nan)
    if "alpha" in post:
        a, b = post["alpha"].to_numpy().ravel(), post["beta"].to_numpy().ravel()
        kept = mixture_draws(a.size, len(pairs))  # as many as the estimates average over
        a, b = a[kept, None], b[kept, None]
        loo_i, lppd_i = np.empty(len(pairs)), np.empty(len(pairs))
        step = max(DRAW_BUDGET // kept.size, 1)
        for s in range(0, len(pairs), step):
            part = slice(s, s + step)
            log_p = stats.betabinom.logpmf(y[part], n[part], a, b)
            loo_i[part] = np.log(kept.size) - special.logsumexp(-log_p, axis=0)
            lppd_i[part] = special.logsumexp(log_p, axis=0) - np.log(kept.size)
        listed = select_groups(groups)
        log_p = stats.betabinom.logpmf(groups["successes"].to_numpy()[listed],
                                       groups["trials"].to_numpy()[listed], a, b)  # fmt: skip
        with np.errstate(over="ignore"):
            _, k[listed] = array_stats.psislw(log_p.T)  # weights 1 / p, as LOO's
        n_samples = kept.size
    else:
        n_samples = post.sizes["chain"] * post.sizes["draw"]
        if dim in post["theta"].dims:  # no pooling: given the others, the prior predictive
            prior = np.array(JEFFREYS)[:, None]
            posterior = prior + [y, n - y]
        else:  # full pooling: given the others, the posterior of everyone else's counts
            successes = float(groups["successes"].sum())
            total = np.array([[successes], [groups["trials"].sum() - successes]])
            posterior = np.array(JEFFREYS)[:, None] + total
            prior = posterior - [y, n - y]
        loo_i = stats.betabinom.logpmf(y, n, *prior)
        lppd_i = stats.betabinom.logpmf(y, n, *posterior)
    return _elpd_data(loo_i[inverse], lppd_i[inverse], k, n_samples, groups)


def _elpd_data(loo_i, lppd_i, k, n_samples: int, groups: pd.DataFrame):
    """An ``arviz.ELPDDataLOO`` like ``arviz.loo(pointwise=True)``'s, from pointwise values."""
    import arviz as az
    import xarray as xr

    from pooling.checks import PARETO_K_MAX

    dim = groups.attrs["labels"].group
    coords = {dim: groups.index.to_numpy()}
    return az.ELPDDataLOO(
        elpd=float(loo_i.sum()), se=float(np.sqrt(len(loo_i) * np.var(loo_i))),
        p=float((lppd_i - loo_i).sum()), n_samples=int(n_samples), n_data_points=len(loo_i),
        scale="log", warning=bool(np.nanmax(k, initial=0.0) > PARETO_K_MAX),
        good_k=PARETO_K_MAX, elpd_i=xr.DataArray(loo_i, coords=coords, dims=dim, name="elpd_i"),
        pareto_k=xr.DataArray(k, coords=coords, dims=dim, name="pareto_k"),
    )  # fmt: skip

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. The three models side by side
#
# Notebooks 1 to 3 fitted three models to the same launch record: no pooling (each vehicle on
# its own), full pooling (one rate for all) and a hierarchical model (vehicles drawn from a
# common population). This notebook puts their answers next to each other and asks which one
# the data support, and how confident we can be:
#
# 1. how far each model pulls each vehicle's estimate (shrinkage);
# 2. whether data simulated from each model look like the real record (predictive checks);
# 3. how well each model predicts a vehicle it has not seen (leave-one-out);
# 4. what each model says about questions one would actually ask;
# 5. what the hierarchical model assumed before seeing any data (prior predictive check);
# 6. the estimates themselves, as a table to take away.
#
# It reads what notebooks 1 to 3 saved in `results/` (their fits and their leave-one-vehicle-out
# refits) and fits nothing itself; run `make` first if they are missing.

# %% tags=["parameters"]
SEED = 20240129  # the single seed for every random call below
DATA = None  # path of a groups CSV; None means the shipped data/spacex_launches.csv
GROUP = "vehicle"  # the CSV's column of group names
TRIALS = "launches"  # ... of trials
SUCCESSES = "successes"  # ... of successes
PRIOR_SCALE = 10.0  # scale of the hierarchical model's HalfNormal hyperpriors (as in notebook 3)
THRESHOLD = None  # a rate: the table of estimates adds P(rate > THRESHOLD) and q-values

# %%
import warnings

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from pooling import (
    checks,
    estimates,
    exact,
    plots,
    predictive,
    scale,
    selection,
    session,
    trials_check,
)
from pooling.data import load_groups
from pooling.figures import show_figure
from pooling.paths import DEFAULT_DATA
from pooling.results import load_idata, load_table, save_csv, save_idata

STEM = "04_model_comparison"  # names this notebook's figures and results
MODELS = {"no pooling": "01_no_pooling", "full pooling": "02_full_pooling",
          "hierarchical": "03_hierarchical"}
session.setup()
rng = np.random.default_rng(SEED)
# PSIS-LOO warns about large Pareto k; the values are shown and discussed in section 3.
warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")

# %%
groups = load_groups(DATA or DEFAULT_DATA, group=GROUP, trials=TRIALS, successes=SUCCESSES)
labels = groups.attrs["labels"]
trials, successes = groups["trials"].to_numpy(), groups["successes"].to_numpy()
fits = {name: load_idata(stem) for name, stem in MODELS.items()}
fitted, _ = scale.split(groups, "comparison")  # the groups the fits have rates for
groups.assign(rate=(groups["successes"] / groups["trials"]).round(3))

# %% [markdown]
# Every fit keeps its rates in `theta`: one per vehicle, or, under full pooling, one shared by
# all. `rates` gives every model's draws with one column per vehicle, so the models can be
# compared draw by draw.

# %%
def rates(idata) -> xr.DataArray:
    """Draws of each vehicle's success probability, shape (chain, draw, vehicle)."""
    theta = idata.posterior["theta"]
    if labels.group not in theta.dims:  # full pooling: the same rate for every vehicle
        theta = theta.expand_dims({labels.group: fitted.index}, axis=-1)
    return theta


theta = {name: rates(idata) for name, idata in fits.items()}
mu = fits["hierarchical"].posterior["mu"]
# Observed rates (undefined for a group with no trials), and the groups that plots and tables
# list (pooling.selection).
observed_rate = np.divide(successes, trials, out=np.full(len(groups), np.nan), where=trials > 0)
shown = selection.select_groups(groups)
note = selection.selection_note(groups, shown)

# %% [markdown]
# ## 1. Shrinkage
#
# Each vehicle's observed success rate (cross) and the three models' posterior means with 94%
# highest-density intervals, against its number of launches. No pooling stays at the observed
# rate; full pooling puts everyone on one line; the hierarchical model pulls each vehicle from
# its own rate towards the population mean $\mu$ (dashed), and the fewer the launches, the
# stronger the pull.

# %%
colours = {"no pooling": "C0", "full pooling": "C2", "hierarchical": "C3"}
offsets = {"no pooling": 0.93, "full pooling": 1.0, "hierarchical": 1.07}
fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
dense = len(groups) > 1000  # then smaller, fainter dots for the groups not listed
for name, draws in theta.items():
    # Every group's mean; the 94% HDI for the listed groups (all of them, up to 12).
    mean = scale.group_means(fits[name], groups)
    hdi = az.hdi(draws.sel({labels.group: groups.index[shown]}), prob=0.94).to_numpy()
    x = trials * offsets[name]
    if len(shown) < len(groups):  # the other groups' means as small dots, under the rest
        ax.plot(x, mean, ".", ms=2 if dense else 4, alpha=0.2 if dense else 0.4,
                color=colours[name], zorder=1)  # fmt: skip
    ax.errorbar(x[shown], mean[shown], yerr=[mean[shown] - hdi[:, 0], hdi[:, 1] - mean[shown]],
                fmt="o", capsize=3, color=colours[name], label=f"{name} (mean, 94% HDI)")
if len(groups) <= selection.LISTED:
    ax.plot(trials, observed_rate, "kx", ms=9, mew=2, label="observed rate")
else:
    ax.plot(trials, observed_rate, "k.", ms=2 if dense else 4, alpha=0.6, label="observed rate",
            zorder=1.5)  # fmt: skip
ax.axhline(float(mu.mean()), color=colours["hierarchical"], ls="--", lw=1,
           label=f"population mean mu = {float(mu.mean()):.2f}")
# Names for every group while they fit; past selection.LISTED, for the three lowest and three
# highest observed rates only (the title says so).
named = shown if len(groups) <= selection.LISTED else selection.select_groups(groups, 6)
plots.label_points(ax, trials, observed_rate, groups.index, named,
                   stack=len(groups) > selection.LISTED)  # fmt: skip
ax.set_xscale("log")
title = f"Shrinkage: estimates of each {labels.group}'s success probability"
if len(named) < len(groups):
    k = len(shown) // 2
    title += (f"\n(of {len(groups):,}: 94% HDIs for the {k} lowest and {k} highest rates; "
              "3 + 3 named)")
ax.set(xlabel=f"{labels.trials} (log scale)", ylabel="success probability", title=title)
ax.legend(loc="lower right", fontsize=9)
show_figure(fig, STEM, "shrinkage")

# %% [markdown]
# ## 2. Posterior predictive checks
#
# Each model generates replicated launch records. Left: the 94% interval of each vehicle's
# replicated success rate against the observed one. Right: three statistics of the record as
# a whole, replicated against observed: the share of groups with a rate of 0, the share with
# a rate of 1, and the spread (sd) of the rates. The lowest and the highest rate would not
# do: once a few hundred groups have few trials, some group has no success and some no
# failure in the data and in every replicate, so they could never fail. Each p-value is
# $P(T(y^{rep}) > T(y)) + P(T(y^{rep}) = T(y))/2$ (a tie counts half), and one near 0 or 1
# means the model rarely produces data like ours: beyond 5% over the statistics, two-sided,
# it gets a verdict in words (`pooling.predictive`).

# %%
statistics = predictive.STATISTICS
rated = trials > 0  # the statistics are over the groups that have a rate
predictive_checks = {}
fig, axes = plt.subplots(3, 4, figsize=(14, 8.5 + 0.2 * max(len(shown) - 4, 0)),
                         layout="constrained")  # fmt: skip
listed = shown[rated[shown]]  # the listed groups that have a rate
for row, (name, idata) in zip(axes, fits.items(), strict=True):
    rep = idata.posterior_predictive["y"].sel({labels.group: groups.index[listed]})
    rep = rep.stack(sample=("chain", "draw")).transpose(..., labels.group).to_numpy()
    lo, hi = np.quantile(rep / trials[listed], [0.03, 0.97], axis=0)
    pos = np.arange(len(listed))
    row[0].hlines(pos, lo, hi, color=colours[name], lw=4)
    row[0].plot(observed_rate[listed], pos, "kx", ms=8, mew=2)
    row[0].set_yticks(pos, groups.index[listed])
    row[0].set(xlim=(0, 1.02), title=f"{name}: replicated rate (94%)")
    t_reps = scale.replicated_statistics(idata, groups, statistics, rng)  # over every group
    predictive_checks[name] = predictive.check(t_reps, observed_rate[rated])
    for ax, stat in zip(row[1:], statistics, strict=True):
        ax.hist(t_reps[stat], bins=40, color=colours[name], alpha=0.6)
        ax.axvline(predictive_checks[name].loc[stat, "observed"], color="black", lw=2)
        ax.set(title=f"{stat}: p = {predictive_checks[name].loc[stat, 'p']:.3f}", yticks=[])
fig.suptitle("Posterior predictive checks (black: observed)" + note)
show_figure(fig, STEM, "ppc")
for name, table in predictive_checks.items():
    for stat, row in table.iterrows():
        print(f"{name}, {stat} (p = {row['p']:.3f}): {row['verdict']}")

# %% [markdown]
# The data contradict **full pooling**. Under one common rate of about 0.97, replicated
# records almost never contain a vehicle as unsuccessful as Falcon 1 (2 of 5) or Starship (5 of
# 9): the spread of the rates has a p-value at the extreme, with its verdict above, and the
# left panel shows the observed rates of those two vehicles far outside their replicated
# intervals. No vehicle has a rate of 0, and one in four (Falcon Heavy, 11 of 11) has a rate
# of 1, which every model makes often. The no-pooling and hierarchical models reproduce all
# three statistics with unremarkable p-values.
#
# ### Rates against trials
#
# A population that treats every group alike says that a group's rate owes nothing to its
# number of trials. On tables with many groups that is often false (players with few at-bats
# are mostly pitchers; films with few ratings are mostly worse films), and a model that
# assumes it overestimates the groups with few trials. So each model with a population is
# also checked against the groups' trials: the groups are binned by trials (fifths of
# log trials; fewer bins with fewer than 50 groups), and each bin's pooled success rate, its
# successes over its trials, is compared with the same statistic in replicated data, each
# group with its own trials. A bin fails when its two-sided p-value is below 5% divided by
# the number of bins. With tens of thousands of groups any imperfection fails, so the verdict
# also gives the largest misfit in rate units and says whether it is large next to one
# group's own sampling error in its bin. The table goes to `results/model_checks.csv`.

# %%
trials_checks = {name: trials_check.check(fits[name], groups, rng)
                 for name in ("full pooling", "hierarchical")}  # fmt: skip
fig = plots.trials_check(trials_checks, colours)
show_figure(fig, STEM, "trials")
verdicts = {name: trials_check.verdict(table) for name, table in trials_checks.items()}
model_checks = pd.concat(trials_checks, names=["model"]).reset_index()
model_checks["verdict"] = model_checks["model"].map(verdicts)
checks_path = save_csv(model_checks, "model_checks")
for name, words in verdicts.items():
    print(f"{name}: {words}")

# %% [markdown]
# SpaceX's four vehicles make a single bin, so here the check asks only whether each model
# reproduces the pooled rate of all launches, and both do. On a table of many groups it asks
# whether the rates depend on the trials.
#
# ## 3. Out-of-sample prediction: leave one vehicle out
#
# How well does each model predict a vehicle's record from the other vehicles' records? The
# expected log predictive density (ELPD) scores this, and PSIS-LOO estimates it from a single
# fit by reweighting its draws. With only four vehicles, each one is influential, and the
# Pareto $k$ diagnostic says when the reweighting cannot be trusted ($k > 0.7$).

# %%
loo = {name: scale.loo(idata, groups) for name, idata in fits.items()}  # az.loo, up to MANY
pareto_k = pd.DataFrame({name: result.pareto_k.to_numpy() for name, result in loo.items()},
                        index=groups.index)
pareto_k.round(2)

# %% [markdown]
# Several values of $k$ are above 0.7. For those the PSIS estimate is unreliable, so we use
# the leave-one-vehicle-out predictive density computed directly: each model refitted without
# the vehicle, and the probability of its record averaged over the refit's draws. Notebooks 1
# to 3 did these refits at their end, reusing their compiled models (a vehicle is removed by
# setting its launches and successes to 0), and saved the results, read here.

# %%
lovo = {name: load_table(f"{stem}_refits") for name, stem in MODELS.items()}

# %% [markdown]
# The refits can be checked too: these predictive densities have exact values (beta-binomial
# for the conjugate models, a grid average for the hierarchical one).

# %%
lovo_exact = exact.leave_one_group_out(groups, only=shown, sigma=PRIOR_SCALE)
lovo_exact = lovo_exact.rename(columns=lambda c: c.replace("_", " "))
lovo_exact.round(3)

# %%
# One row per model and group; refits and exact values exist for the listed groups only when
# there are many (empty elsewhere).
elpd = pd.concat({
    name: pd.DataFrame({
        "pareto k": pareto_k[name],
        "PSIS-LOO": pd.Series(loo[name].elpd_i.to_numpy(), index=groups.index),
        "refit": lovo[name]["elpd"], "refit se": lovo[name]["se"], "refit k": lovo[name]["k"],
        "exact": lovo_exact[name],
    }, index=groups.index)
    for name in MODELS
}, names=["model", labels.group])  # fmt: skip
checks.assert_refits_match_exact(elpd)
# The listed groups (pooling.selection).
elpd.loc[pd.IndexSlice[:, groups.index[shown]], :].round(3)

# %% [markdown]
# Every refit whose Monte Carlo average is reliable (`refit k` at most 0.7) agrees with its
# exact value within 4 Monte Carlo standard errors; this is asserted above. The exception is
# full pooling's Falcon 9: given the other vehicles (17 successes in 23), the common rate is
# near 0.75, and 301 successes in 304 launches is so improbable there that the average is
# carried by a few extreme draws, which its own Pareto $k$ flags. PSIS-LOO, wherever its
# $k > 0.7$, is off by up to several units. Summed over the vehicles:

# %%
# A total needs every group: empty when the refits or exact values cover only some.
totals = elpd.groupby("model", sort=False)[["PSIS-LOO", "refit", "exact"]]
totals = totals.sum(min_count=len(groups))
totals.round(2)

# %% [markdown]
# ArviZ's comparison table and plot, from PSIS-LOO as usual; its `diag_elpd` and `diag_diff`
# columns carry the diagnostics, such as the Pareto $k$ values above:

# %%
comparison = az.compare(loo, round_to="none")  # rounded below, to 2 decimals
fig = az.plot_compare(comparison, figure_kwargs={"figsize": (8, 3)}).viz["figure"].item()
fig.axes[0].set_title("PSIS-LOO comparison, higher is better\n"
                      "(unreliable where Pareto k > 0.7; see the refits)")  # fmt: skip
fig.set_layout_engine("constrained")  # room for the models' names
show_figure(fig, STEM, "loo")
comparison.round(2)

# %% [markdown]
# Both the reliable numbers (the exact leave-one-vehicle-out densities) and PSIS-LOO rank full
# pooling far behind: a model with one rate predicts Falcon 1, Falcon 9 and Starship badly.
# Between no pooling and the hierarchical model, the exact values favour no pooling on this
# data. That is less a verdict on the models than a statement about the four vehicles: each
# left-out vehicle is predicted by a model that has seen three others, and the three rates
# that remain are too different for the population to say much about a fourth. The
# no-pooling prior predictive, $\mathrm{BetaBinomial}(N, 1/2, 1/2)$, puts much of its mass
# near 0 and N successes, which suits these extreme records. Four vehicles is very little for
# learning a population; the standard errors of such a comparison are as large as the
# differences.
#
# ## 4. Event probabilities
#
# Questions a reader might actually ask, under each model. Full pooling cannot separate the
# vehicles: every comparison between them is undefined (shown as empty).

# %%
events = {}
for name, draws in theta.items():
    column = {f"P(next trial succeeds): {v}": float(draws.sel({labels.group: v}).mean())
              for v in groups.index[shown]}
    pooled = labels.group not in fits[name].posterior["theta"].dims
    a, b = groups.index[shown[-1]], groups.index[shown[0]]
    column[f"P(theta[{a}] > theta[{b}])"] = np.nan if pooled else float(
        (draws.sel({labels.group: a}) > draws.sel({labels.group: b})).mean())
    best = np.full(len(shown), np.nan) if pooled else scale.most_probable_best(
        fits[name], groups, shown, rng)
    for k, p in zip(shown, best, strict=True):
        column[f"P({groups.index[k]} is the most reliable)"] = float(p)
    events[name] = column
event_table = pd.DataFrame(events)
event_table.round(3)

# %% [markdown]
# ## 5. Prior predictive check of the hyperpriors
#
# What did $\alpha, \beta \sim \mathrm{HalfNormal}(10)$ assume before seeing any launch? Drawing
# from the prior alone gives the implied distribution of the population mean $\mu$ and of a
# single vehicle's $\theta$.

# %%
# 20,000 draws of the hyperpriors and of one theta, in one vectorised call
# (pm.sample_prior_predictive on a model would evaluate it once per draw).
alpha = pm.HalfNormal.dist(sigma=PRIOR_SCALE, size=20_000)
beta = pm.HalfNormal.dist(sigma=PRIOR_SCALE, size=20_000)
theta_prior = pm.Beta.dist(alpha=alpha, beta=beta)
prior = dict(zip(["mu", "theta", "kappa"],
                 pm.draw([alpha / (alpha + beta), theta_prior, alpha + beta], random_seed=SEED),
                 strict=True))  # fmt: skip
post_kappa = fits["hierarchical"].posterior["alpha"] + fits["hierarchical"].posterior["beta"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
for ax, (var, label) in zip(axes, [("mu", "mu"), ("theta", f"theta of one {labels.group}"),
                                   ("kappa", "alpha + beta")], strict=True):
    values = prior[var]
    bins = np.linspace(0, 1, 41) if var != "kappa" else np.linspace(0, 60, 41)
    ax.hist(values, bins=bins, density=True, color="C7", alpha=0.6, label="prior")
    ax.set(title=f"prior of {label}", yticks=[])
axes[2].hist(post_kappa.to_numpy().ravel(), bins=np.linspace(0, 60, 41), density=True,
             color=colours["hierarchical"], alpha=0.5, label="posterior")
axes[2].legend()
show_figure(fig, STEM, "prior")
pd.DataFrame({v: np.quantile(prior[v], [0.03, 0.5, 0.97]) for v in ("mu", "theta", "kappa")},
             index=["3%", "50%", "97%"]).round(3)

# %% [markdown]
# The hyperpriors are symmetric in $\alpha$ and $\beta$, so the implied prior on $\mu$ is
# centred on 0.5 and spread over the whole interval: it expresses no opinion on how reliable
# rockets are, which is reasonable. The prior on $\alpha + \beta$ is less innocent: its median
# is about 15, i.e. it expects vehicles to be fairly alike. The data disagree: the posterior of
# $\alpha + \beta$ sits well below the prior's bulk, because Falcon 9's near-perfect record and
# Falcon 1's 2 of 5 cannot come from a tight population. With a hundred launches per vehicle
# the prior would not matter; with four vehicles it visibly affects how much is pooled, and a
# prior with more room for small $\alpha + \beta$ (e.g. on $\log(\alpha+\beta)$) would be worth
# a sensitivity check.

# %% [markdown]
# ## 6. The estimates, as a table to take away
#
# Every model's estimate of every vehicle's rate goes into one table,
# `results/estimates.csv`, one row per vehicle per model: the posterior mean, sd and the 3%
# and 97% quantiles. No pooling and full pooling are conjugate, so their rows are the exact
# Beta posteriors. The hierarchical rows average each vehicle's
# $\mathrm{Beta}(\alpha + y_i, \beta + N_i - y_i)$ over notebook 3's draws of
# $(\alpha, \beta)$, and add each vehicle's rank among all of them (1 is the most reliable),
# from the joint draws of every rate (with the Monte Carlo error of those rank quantiles
# printed below), and the probability that its rate is above the population mean $\mu$.
# With `THRESHOLD` set, every row also gets the probability of a rate above it and a
# q-value: the expected share of false calls if every vehicle at least as probable is called
# above the threshold. Before the table is written, the hierarchical rows
# of the listed vehicles are checked against the exact posterior on the grid.

# %%
hierarchical_post = fits["hierarchical"].posterior
tables = {
    "no_pooling": estimates.no_pooling(groups, threshold=THRESHOLD),
    "full_pooling": estimates.full_pooling(groups, threshold=THRESHOLD),
    "hierarchical": estimates.hierarchical(
        groups, hierarchical_post["alpha"], hierarchical_post["beta"],
        theta=scale.rate_draws(fits["hierarchical"], groups, rng),
        threshold=THRESHOLD,
    ),
}  # fmt: skip
# Before anything is written: the listed groups' hierarchical rows against the exact grid,
# within their Monte Carlo error (the conjugate rows are exact by construction).
listed_names = groups.index[shown]
hier_exact = exact.HierarchicalPosterior(groups, sigma=PRIOR_SCALE)
estimate_check = checks.assert_estimates_match_exact(
    tables["hierarchical"].loc[listed_names], fits["hierarchical"],
    hier_exact.summary(listed_names), groups,
)  # fmt: skip
estimates_path = save_csv(estimates.estimates_table(tables), "estimates")
ranked = tables["hierarchical"].attrs
print(f"hierarchical ranks from {ranked['rank_draws']:,} joint draws of every rate: Monte "
      f"Carlo error at most {ranked['rank_mc_error']:.2f} ranks (one standard error of any "
      f"{labels.group}'s rank quantile)")

# %% [markdown]
# The league table a reader would want: the listed vehicles ordered by their hierarchical
# estimate, with the no-pooling estimate beside it for how far each one was pulled.

# %%
league = tables["hierarchical"].iloc[shown].sort_values("mean", ascending=False)
league.insert(2, "no pooling mean", tables["no_pooling"].loc[league.index, "mean"])
league.insert(2, "observed rate", league["successes"] / league["trials"])
league.round(3)

# %%
summary = xr.Dataset({
    "lovo_elpd": elpd["refit"].to_xarray(),
    "lovo_elpd_exact": elpd["exact"].to_xarray(),
    "psis_loo_elpd": elpd["PSIS-LOO"].to_xarray(),
    "pareto_k": elpd["pareto k"].to_xarray(),
})
saved = save_idata(summary, STEM)

# %% [markdown]
# ## Which model for what
#
# - **Full pooling** is ruled out for questions about individual vehicles: its predictive check
#   fails and it predicts left-out vehicles worst. It answers only "what fraction of all SpaceX
#   launches succeed?", a question dominated by Falcon 9.
# - **No pooling** is the honest summary of each vehicle's own record and, with four very
#   different vehicles, predicts a left-out vehicle at least as well as the hierarchical model.
#   It has nothing to say about a new vehicle and does not borrow strength.
# - **The hierarchical model** is the one to use for a new vehicle, or for a vehicle with few
#   launches, because it is the only one that describes the population: it gives a predictive
#   distribution for a new design and moderates extreme small-sample rates. Its answers depend
#   noticeably on the hyperprior with this few groups, so report them with that caveat.

# %% [markdown]
# ## References
#
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B. (2013).
#   *Bayesian Data Analysis*, 3rd ed., chapter 5. CRC Press.
# - Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
#   leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413-1432.
# - Efron, B. and Morris, C. (1975). Data analysis using Stein's estimator and its
#   generalizations. *Journal of the American Statistical Association* 70, 311-319.

# %% [markdown]
# ## Environment

# %%
# %load_ext watermark
# %watermark -v -p pymc,pytensor,arviz,nutpie,numpy,pandas,scipy,matplotlib

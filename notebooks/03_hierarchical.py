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
# # 3. Partial pooling: a hierarchical model
#
# The first two notebooks showed two extremes. With no pooling, Falcon Heavy's nine successes
# in nine launches say nothing about Starship; with full pooling, Falcon 9's record swamps
# everything and Falcon 1 looks like a safe bet. A hierarchical model sits in between: each
# vehicle has its own success probability, but the probabilities are drawn from a common
# population distribution whose shape is learnt from the data,
#
# $$
# \alpha, \beta \sim \mathrm{HalfNormal}(10), \qquad
# \theta_i \sim \mathrm{Beta}(\alpha, \beta), \qquad
# y_i \sim \mathrm{Binomial}(N_i, \theta_i),
# $$
#
# with $\mu = \alpha / (\alpha + \beta)$ the population's mean success rate. How strongly each
# $\theta_i$ is pulled towards $\mu$ depends on how much data the vehicle has and on how
# similar the vehicles turn out to be.
#
# The notebook fits the model as written, looks honestly at the divergent transitions it
# produces, then fits the same model with each $\theta_i$ integrated out, which samples
# cleanly. It predicts the success probability of a new vehicle, estimates the most probable
# value of $\mu$, and checks every number against the exact posterior, computed on a grid.

# %% tags=["parameters"]
SEED = 20240129  # the single seed for every random call below
DATA = None  # path of a groups CSV; None means the shipped data/spacex_launches.csv
GROUP = "vehicle"  # the CSV's column of group names
TRIALS = "launches"  # ... of trials
SUCCESSES = "successes"  # ... of successes
DRAWS = 5000  # draws per chain
TUNE = 5000  # tuning steps per chain
CHAINS = 4
TARGET_ACCEPT = 0.98  # the model as written, as in the reference analysis
MARGINAL_TARGET_ACCEPT = 0.95  # the model with theta integrated out (benchmarks/coordinates.py)
PRIOR_SCALE = 10.0  # scale of the HalfNormal hyperpriors on alpha and beta, as in the reference
WIDE_PRIOR_SCALE = 100.0  # a ten times wider hyperprior, for the sensitivity section
REFIT_DRAWS = 1000  # leave-one-out refits (for notebook 4): draws per chain
REFIT_TUNE = 1000  # ... and tuning steps per chain
REFIT_GROUPS = None  # groups refitted: None, those of the plots; 0, none
SAMPLER = "nutpie"  # or "pymc" for PyMC's built-in NUTS

# %%
from functools import partial

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from IPython.display import SVG
from scipy import stats

from pooling import checks, exact, plots, scale, selection, sensitivity, session, trials_check
from pooling.data import load_groups
from pooling.figures import save_graph, show_figure
from pooling.fits import CompiledSampler, complete, model_variables, sample_options
from pooling.paths import DEFAULT_DATA
from pooling.refits import loo_table, refit_without_each_group
from pooling.results import save_idata
from pooling.summaries import ConditionalMuDensity

STEM = "03_hierarchical"  # names this notebook's figures and results
session.setup()
rng = np.random.default_rng(SEED)

# %% [markdown]
# ## The data

# %%
groups = load_groups(DATA or DEFAULT_DATA, group=GROUP, trials=TRIALS, successes=SUCCESSES)
labels = groups.attrs["labels"]
groups.assign(rate=(groups["successes"] / groups["trials"]).round(3))

# %% [markdown]
# ## The model as written
#
# Hyperpriors on $\alpha$ and $\beta$, the population mean $\mu$ as a deterministic, and one
# $\theta$ per vehicle drawn from $\mathrm{Beta}(\alpha, \beta)$.
# The counts are `pm.Data` containers, as in the first two notebooks. With a table of many
# groups, only the listed groups get a $\theta$ of their own; the others enter with their
# $\theta$ integrated out, as in the second model below (`scale.split` says so).

# %%
fitted, others = scale.split(groups, "hierarchical")  # every group, up to scale.MANY of them
trials, successes = fitted["trials"].to_numpy(), fitted["successes"].to_numpy()

# %%
coords = {labels.group: fitted.index}
with pm.Model(coords=coords) as hierarchical_model:
    n_data = pm.Data("trials", trials, dims=labels.group)
    y_data = pm.Data("successes", successes, dims=labels.group)
    alpha = pm.HalfNormal("alpha", sigma=PRIOR_SCALE)
    beta = pm.HalfNormal("beta", sigma=PRIOR_SCALE)
    mu = pm.Deterministic("mu", alpha / (alpha + beta))
    theta = pm.Beta("theta", alpha=alpha, beta=beta, dims=labels.group)
    pm.Binomial("y", n=n_data, p=theta, observed=y_data, dims=labels.group)

# %%
with hierarchical_model:
    others.beta_binomial_likelihood(alpha, beta)  # the groups not fitted one by one, if any
SVG(save_graph(pm.model_to_graphviz(hierarchical_model), STEM))

# %% [markdown]
# The graph shows the hierarchy: $\alpha$ and $\beta$ feed every vehicle's $\theta$, so what is
# learnt about one vehicle informs the population, and through it the others.
#
# ## Sampling the model as written
#
# `pm.sample` (nutpie) with the reference settings: 5000 tuning steps and 5000 draws in each
# of 4 chains, with a high `target_accept` of 0.98 to make the sampler take small, careful
# steps. With many groups NUTS also adapts a low-rank mass matrix (`nuts_options` says how);
# for four vehicles PyMC's defaults serve. This fit is kept for diagnosis (its draws are saved
# as `results/03_hierarchical_centered.nc`); the predictions and the comparison in notebook 4
# use the fit further down.

# %%
mass_matrix = scale.mass_matrix(groups)  # "diagonal", up to scale.MANY groups
nuts_options = sample_options(mass_matrix, SAMPLER)  # {}: PyMC's defaults
print(f"nuts_options = {nuts_options}")

# %%
with hierarchical_model:
    centered_idata = pm.sample(
        draws=DRAWS, tune=TUNE, chains=CHAINS, target_accept=TARGET_ACCEPT, random_seed=SEED,
        nuts_sampler=SAMPLER, progressbar=False, compute_convergence_checks=False,
        **nuts_options,
    )

# %%
saved = save_idata(centered_idata, f"{STEM}_centered")
az.summary(centered_idata, var_names=["alpha", "beta", "mu", "theta"], ci_kind="hdi",
           ci_prob=0.94, round_to=3)

# %%
fig = plots.trace(
    centered_idata, ["alpha", "beta", "mu", "theta"],
    "Hierarchical model as written: trace, one line per chain", groups=fitted,
)
show_figure(fig, STEM, "trace")

# %% [markdown]
# ## Divergences: where and why
#
# A divergent transition means the sampler's simulated trajectory blew up: the step size was
# too large for the curvature of the posterior somewhere along the path. Even at
# `target_accept=0.98`, the model as written keeps some: 12 in 20,000 transitions with nutpie
# 0.16.11, where nutpie 0.16.8 had 4. How many depends on the sampler's tuning; that there are
# some does not.

# %%
n_divergent = checks.divergences(centered_idata)
print(f"divergent transitions in the model as written: {n_divergent} of {DRAWS * CHAINS}")

# %% [markdown]
# Plotting the draws in $(\log\alpha, \log\beta)$ with the divergent ones marked shows where
# they sit. The right panel shows how Falcon Heavy's rate, on the log-odds scale the sampler
# uses, spreads out as $\alpha + \beta$ falls: when the population is loose, a vehicle with no
# failures can sit almost anywhere near 1.

# %%
post = centered_idata.posterior
diverging = centered_idata.sample_stats["diverging"].to_numpy().ravel()
log_a, log_b = np.log(post["alpha"].to_numpy().ravel()), np.log(post["beta"].to_numpy().ravel())
name = fitted.index[np.argmax(successes / np.maximum(trials, 1))]  # the most successful group
theta_max = post["theta"].sel({labels.group: name}).to_numpy().ravel()


def mark_divergent(ax, x, y, xlabel, ylabel):
    ax.scatter(x[~diverging], y[~diverging], s=2, alpha=0.15, color=plots.DRAWS, label="draws")
    ax.scatter(x[diverging], y[diverging], s=18, color=plots.OBSERVED, label="divergent")
    ax.set(xlabel=xlabel, ylabel=ylabel)


fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
mark_divergent(axes[0], log_a, log_b, r"$\log\alpha$", r"$\log\beta$")
mark_divergent(axes[1], np.logaddexp(log_a, log_b), np.log(theta_max / (1 - theta_max)),
               r"$\log(\alpha + \beta)$", f"logit theta[{name}]")
axes[0].legend(loc="lower right", markerscale=2)
fig.suptitle(f"Model as written: {n_divergent} divergent transitions (red)")
show_figure(fig, STEM, "divergences")

# %% [markdown]
# The divergences sit where $\beta$ is small and Falcon Heavy's $\theta$ is pressed against 1.
# Falcon Heavy has never failed, so its rate is free to approach 1, and when $\beta < 1$ the
# population distribution $\mathrm{Beta}(\alpha, \beta)$ itself piles up mass at 1. On the
# log-odds scale the sampler works on, that is a long, thin tail (log-odds of 20 to 35 in the
# right panel) whose width depends on $(\alpha, \beta)$: the step size that suits the bulk of
# the posterior is too large out there. This is the funnel familiar from hierarchical models,
# in a less familiar place. Raising `target_accept` shrinks the step size and thins the
# divergences out but cannot remove them, and each one is a sign that part of the posterior
# may be under-explored.
#
# ## The same model with theta integrated out
#
# Conditional on $\alpha$ and $\beta$, each vehicle's successes follow a beta-binomial
# distribution, $y_i \sim \mathrm{BetaBinomial}(N_i, \alpha, \beta)$. The model below has the
# same priors and the same posterior for $(\alpha, \beta)$, but only two parameters, so the
# thin tail of Falcon Heavy's $\theta$ is no longer part of what the sampler explores.
#
# How it is sampled was chosen by measurement, not on this data set alone. Across the classic
# tables in `data/` (under this hyperprior and the ten times wider one used further down),
# 200 data sets simulated from the prior and synthetic populations from tight to loose with
# means near 0 and near 1, we compared PyMC's default log coordinates for $\alpha$ and
# $\beta$, a softplus transform, joint coordinates $(\operatorname{logit}\mu, \log(\alpha +
# \beta))$ and nutpie's low-rank mass matrix, at `target_accept` from 0.8 to 0.95. With nutpie
# 0.16.11, two never diverged in 1.4 million transitions: the log coordinates at 0.95 and the
# joint coordinates at 0.9 (`benchmarks/coordinates.py`, table in `benchmarks/RESULTS.md`).
# This fit keeps PyMC's own coordinates, at 0.95. (With nutpie 0.16.8 the log coordinates had
# sufficed at 0.9; with 0.16.11 they diverged 6 times there, 4 of them under the wider
# hyperprior.)

# %%
with pm.Model(coords=coords) as marginal_model:
    n_data = pm.Data("trials", trials, dims=labels.group)  # containers: refitted at the end
    y_data = pm.Data("successes", successes, dims=labels.group)
    prior_scale = pm.Data("prior_scale", PRIOR_SCALE)  # a container: refitted wider below
    alpha = pm.HalfNormal("alpha", sigma=prior_scale)
    beta = pm.HalfNormal("beta", sigma=prior_scale)
    mu = pm.Deterministic("mu", alpha / (alpha + beta))
    pm.BetaBinomial("y", alpha=alpha, beta=beta, n=n_data, observed=y_data, dims=labels.group)

# %%
with marginal_model:
    others.beta_binomial_likelihood(alpha, beta)
SVG(save_graph(pm.model_to_graphviz(marginal_model), STEM, "marginal_model"))

# %% [markdown]
# Sampled with the same number of draws, at `target_accept` 0.95:

# %%
# PyMC compiles a model anew for every pm.sample; CompiledSampler compiles it once, for this fit,
# the refit under a wider hyperprior and the leave-one-out refits below.
marginal_sampler = CompiledSampler(marginal_model, SAMPLER, mass_matrix)
hierarchical_idata = marginal_sampler.sample(
    draws=DRAWS, tune=TUNE, chains=CHAINS, target_accept=MARGINAL_TARGET_ACCEPT, seed=SEED
)
print(f"divergent transitions with theta integrated out: {checks.divergences(hierarchical_idata)}")

# %% [markdown]
# The vehicles' rates come back exactly: given $\alpha$ and $\beta$, the posterior of $\theta_i$
# is $\mathrm{Beta}(\alpha + y_i,\, \beta + N_i - y_i)$, so one $\theta_i$ is drawn from it for
# every posterior draw. A new vehicle, with no launches yet, gets $\mathrm{Beta}(\alpha, \beta)$.
# Then, as for every fit, the log-likelihood and replicated data come from the model as
# written, evaluated at these draws.

# %%
post = hierarchical_idata.posterior
y_i = xr.DataArray(successes, coords=coords, dims=labels.group)
n_i = xr.DataArray(trials, coords=coords, dims=labels.group)
a_post, b_post = xr.broadcast(post["alpha"] + y_i, post["beta"] + n_i - y_i)
post["theta"] = a_post.copy(data=rng.beta(a_post.to_numpy(), b_post.to_numpy()))
post["theta_new"] = post["alpha"].copy(data=rng.beta(post["alpha"], post["beta"]))
model_variables(hierarchical_idata, marginal_model)
complete(hierarchical_idata, hierarchical_model, SEED)
saved = save_idata(hierarchical_idata, STEM)
az.summary(hierarchical_idata, var_names=["alpha", "beta", "mu", "theta", "theta_new"],
           ci_kind="hdi", ci_prob=0.94, round_to=3)

# %% [markdown]
# ## Forest plot
#
# Each vehicle's success probability, from the divergence-free fit. Compared with the
# no-pooling notebook, the small-sample vehicles move towards the population: Falcon 1's rate
# rises from about 0.42 to about 0.6, Starship's from 0.55 to about 0.65. Falcon 9, with 304
# launches, barely moves.

# %%
fig = plots.forest(
    hierarchical_idata, ["theta"], f"Hierarchical: theta per {labels.group} (94% HDI)",
    f"theta: probability of success ({labels.successes} per {labels.trials})", groups=fitted,
)
show_figure(fig, STEM, "forest")

# %% [markdown]
# ## Posterior predictive check
#
# Replicated successes per vehicle, with the observed counts in red. Unlike full pooling, the
# hierarchical model reproduces both the failures of Falcon 1 and Starship and the clean
# record of Falcon Heavy.

# %%
fig = plots.ppc_counts(hierarchical_idata, fitted, title="Hierarchical: posterior predictive check")
show_figure(fig, STEM, "ppc")

# %% [markdown]
# ### Rates against trials, on your own data
#
# The model says that a group's rate owes nothing to its number of trials. On a table of many
# groups that is often false, and then the model overestimates the groups with few trials.
# Notebook 4 checks it for every model (the groups binned by trials, each bin's pooled rate
# against its replicates); on your own data (`DATA`) the check for this model is shown here
# too, with what to do when it fails.

# %%
if DATA is None:
    print("The four vehicles make one bin of trials: notebook 4 shows the check.")
else:
    trials_table = trials_check.check(hierarchical_idata, groups, rng)
    show_figure(plots.trials_check({"hierarchical": trials_table}, {"hierarchical": "C3"}),
                STEM, "trials")  # fmt: skip
    advice = ("; notebook 6 with PREDICTORS=log_trials fits a population that depends on the "
              "trials" if trials_table["fails"].any() else "")  # fmt: skip
    print(f"hierarchical: {trials_check.verdict(trials_table)}{advice}")

# %% [markdown]
# ## A new vehicle
#
# Suppose SpaceX flies a new vehicle. Before its first launch, the model's best description of
# its success probability is the population distribution $\mathrm{Beta}(\alpha, \beta)$
# averaged over the posterior of $\alpha$ and $\beta$. The histogram shows those draws; the
# black line is the exact density.

# %%
hier_exact = exact.HierarchicalPosterior(groups, sigma=PRIOR_SCALE)
theta_new = hierarchical_idata.posterior["theta_new"].to_numpy().ravel()
x = np.linspace(0.005, 0.995, 199)
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
heights, _, _ = ax.hist(theta_new, bins=np.linspace(0, 1, 51), density=True, color=plots.DRAWS,
                        alpha=0.6, label="posterior predictive draws")
ax.plot(x, hier_exact.theta_pdf(x), color=plots.EXACT, label="exact")
ax.set(xlabel=f"theta of a new {labels.group}", ylabel="density",
       title=f"Success probability of a new {labels.group}")
ax.set_ylim(0, 1.15 * heights.max())  # the exact density has an integrable spike at 1
ax.legend(loc="upper left")
show_figure(fig, STEM, "new_theta")
print(f"P(theta_new > 0.9) = {np.mean(theta_new > 0.9):.2f}, "
      f"P(theta_new < 0.5) = {np.mean(theta_new < 0.5):.2f}")

# %% [markdown]
# The distribution is wide and piles up near 1: most vehicles in this family succeed almost
# always, but the model has seen two that did not, so a new design could well be one of those.
#
# ## The population mean and its MAP
#
# $\mu = \alpha/(\alpha + \beta)$ is the mean success rate of the population of vehicles. Its
# posterior is skewed, so besides the mean we report its maximum a posteriori (MAP) value:
# **the mode of the marginal posterior density of $\mu$**, not the joint mode of all
# parameters that `pm.find_MAP` returns, and not the tallest bar of a histogram.
#
# A kernel density estimate of the $\mu$ draws locates the mode only to about $\pm 0.005$,
# because the density is flat near its peak. We use a sharper, Rao-Blackwellised estimate
# instead: given $\kappa = \alpha + \beta$, the conditional density of $\mu$ is known up to a
# constant, so the marginal density is the average of those conditional densities over the
# posterior draws of $\kappa$.

# %%
mu_density = ConditionalMuDensity(
    post["alpha"].to_numpy(), post["beta"].to_numpy(), hier_exact.log_density,
    **scale.mu_density_settings(groups, post["mu"]),  # defaults, up to scale.MANY groups
)  # fmt: skip
mu_map = mu_density.mode()
mu_draws = post["mu"].to_numpy().ravel()
x = np.linspace(0.2, 0.999, 400)
hdi_lo, hdi_hi = az.hdi(mu_draws, prob=0.94)
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
ax.hist(mu_draws, bins=np.linspace(0.2, 1, 81), density=True, color=plots.DRAWS, alpha=0.35,
        label="NUTS draws")
ax.plot(x, mu_density.pdf(x), color=plots.OBSERVED, lw=2, label="estimated density")
ax.plot(x, hier_exact.mu_pdf(x), color=plots.EXACT, lw=1, ls="--", label="exact density")
ax.axvline(mu_map, color=plots.OBSERVED, lw=1.5, label="MAP (estimated)")
ax.axvline(hier_exact.mu_mode, color=plots.EXACT, lw=1, ls=":", label="exact mode")
ax.hlines(0.15, hdi_lo, hdi_hi, color=plots.EXACT, lw=4)
ax.text((hdi_lo + hdi_hi) / 2, 0.3, f"94% HDI [{hdi_lo:.2f}, {hdi_hi:.2f}]", ha="center")
ax.text(0.02, 0.95, f"MAP: {mu_map:.3f}\n(mode of the marginal posterior of mu)\n"
        f"exact mode: {hier_exact.mu_mode:.3f}\nmean: {mu_draws.mean():.3f}",
        transform=ax.transAxes, va="top", fontsize=11)
ax.set(xlabel="mu = alpha / (alpha + beta)", ylabel="density", xlim=(0.2, 1),
       title="Population mean success rate mu")
ax.legend(loc="center left", fontsize=9)
show_figure(fig, STEM, "mu")

# %% [markdown]
# ## Checks
#
# **Convergence** for both fits: R-hat at most 1.01, bulk and tail ESS at least 1000 for every
# parameter. The fit used downstream must have no divergent transitions at all.

# %%
hyper = ["alpha", "beta", "mu", "theta"]
centered_convergence = checks.assert_converged(centered_idata, hyper)
convergence = checks.assert_converged(hierarchical_idata, ["alpha", "beta", "mu"])
checks.assert_no_divergences(hierarchical_idata)
print(f"as written: {checks.divergences(centered_idata)} divergences (reported above); "
      f"theta integrated out: {checks.divergences(hierarchical_idata)}")
both = {"as written": centered_convergence, "theta integrated out": convergence}
pd.concat(both, axis=1).round(3)

# %% [markdown]
# **Exact answer.** Integrating the $\theta_i$ out leaves a two-dimensional posterior for
# $(\alpha, \beta)$, computed on a grid in $(\log\alpha, \log\beta)$ with the hyperpriors and
# the Jacobian of the log transform. Everything else is a mixture over the grid: each
# $\theta_i$ of $\mathrm{Beta}(\alpha + y_i, \beta + N_i - y_i)$, a new vehicle's $\theta$ of
# $\mathrm{Beta}(\alpha, \beta)$. The exact values:

# %%
shown = selection.select_groups(fitted)  # every group, or the 12 of the plots when there are more
hierarchical_exact = hier_exact.summary(fitted.index[shown])
print(f"exact mode of mu: {hier_exact.mu_mode:.4f}")
hierarchical_exact.round(4)

# %% [markdown]
# Both fits must agree with them: every mean within 4 MCSEs, the 3% and 97% quantiles within 4
# quantile MCSEs. First the model as written (divergences and all), then the fit used
# downstream.

# %%
centered_agreement = checks.assert_matches_exact(
    centered_idata, hierarchical_exact.drop(index="theta_new")
)
centered_agreement.round(4)

# %%
agreement = checks.assert_matches_exact(hierarchical_idata, hierarchical_exact)
agreement.round(4)

# %% [markdown]
# **The MAP of mu** must match the exact mode within 0.01.

# %%
map_error = abs(mu_map - hier_exact.mu_mode)
print(f"MAP of mu: estimated {mu_map:.4f}, exact {hier_exact.mu_mode:.4f}, error {map_error:.4f}")
assert map_error <= 0.01, f"MAP of mu is {map_error:.4f} from the exact mode"

# %% [markdown]
# **Picture**: exact densities (black) over the draws of the divergence-free fit.

# %%
quantities = ["alpha", "beta", "mu", *[f"theta[{g}]" for g in fitted.index[shown]], "theta_new"]
draws = {q: checks.draws_of(hierarchical_idata, q).to_numpy() for q in quantities}
pdfs = {"alpha": hier_exact.alpha_pdf, "beta": hier_exact.beta_pdf, "mu": hier_exact.mu_pdf,
        "theta_new": hier_exact.theta_pdf}
pdfs.update({f"theta[{g}]": partial(hier_exact.theta_pdf, group=g) for g in fitted.index[shown]})
title = "Hierarchical: NUTS draws against the exact posterior"
title += selection.selection_note(fitted, shown)
fig = plots.overlay_exact(draws, pdfs, title)
show_figure(fig, STEM, "exact")

# %% [markdown]
# ## Prior sensitivity
#
# How much do these conclusions owe to the $\mathrm{HalfNormal}(10)$ hyperpriors? Power-scaling
# answers without refitting: raise the prior, or the likelihood, to a power near 1 and measure
# how far the posterior of each quantity moves (`az.psense`, by importance sampling from the
# draws at hand; Kallioinen et al. 2024). A sensitivity of 0.05 or more counts as
# influential. When the prior matters and so does the likelihood, the two disagree: a
# prior-data conflict. When only the prior matters, the data say little about that quantity.
# The likelihood here is the beta-binomial one, of the model with $\theta$ integrated out.

# %%
with marginal_model:
    scaled = xr.DataTree.from_dict({"posterior": post.to_dataset()[["alpha", "beta", "mu"]]})
    pm.stats.compute_log_prior(scaled, progressbar=False)
    pm.compute_log_likelihood(scaled, progressbar=False)
others.add_log_likelihood(scaled)  # the groups not fitted one by one, if any
prior_sensitivity = sensitivity.power_scaling(scaled, ["alpha", "beta", "mu"])
prior_sensitivity.round(3)

# %%
print("verdict:", "; ".join(f"{q}: {v}" for q, v in prior_sensitivity["verdict"].items()))
conflicted = prior_sensitivity.index[prior_sensitivity["verdict"] == "prior-data conflict"]
if len(conflicted):
    print(f"The data pull {', '.join(conflicted)} against the HalfNormal({PRIOR_SCALE:g}) "
          "hyperprior: read the comparison with a wider hyperprior below before relying on them.")

# %% [markdown]
# The direct test is to refit with a hyperprior ten times wider, $\mathrm{HalfNormal}(100)$,
# through the same compiled model (the prior's scale is a data container), and to check that
# fit against its own exact posterior on the grid. What matters downstream is whether the
# population mean $\mu$, a new group's $\theta$ and the ranking of the groups change:

# %%
wide_idata = marginal_sampler.sample(
    draws=DRAWS, tune=TUNE, chains=CHAINS, target_accept=MARGINAL_TARGET_ACCEPT, seed=SEED,
    data={"prior_scale": WIDE_PRIOR_SCALE},
)  # fmt: skip
wide_exact = exact.HierarchicalPosterior(groups, sigma=WIDE_PRIOR_SCALE)
checks.assert_no_divergences(wide_idata)
checks.assert_converged(wide_idata, ["alpha", "beta", "mu"])
wide_agreement = checks.assert_matches_exact(
    wide_idata, wide_exact.summary([]).loc[["alpha", "beta", "mu"]]
)


def population_summary(idata):
    """mu, a new group's theta and each group's mean rate under one hyperprior."""
    a, b = idata.posterior["alpha"].to_numpy().ravel(), idata.posterior["beta"].to_numpy().ravel()
    mu_draws = a / (a + b)
    mu_lo, mu_hi = az.hdi(mu_draws, prob=0.94)
    new = rng.beta(a, b)
    summary = pd.Series({"mean of mu": mu_draws.mean(), "mu: 94% HDI from": mu_lo,
                         "mu: 94% HDI to": mu_hi, "P(theta_new > 0.9)": np.mean(new > 0.9),
                         "P(theta_new < 0.5)": np.mean(new < 0.5)})
    return summary, scale.mean_rates(groups, a, b)  # E[theta_i | y], every group


population, rates = {}, {}
for sigma, idata in [(PRIOR_SCALE, hierarchical_idata), (WIDE_PRIOR_SCALE, wide_idata)]:
    prior_name = f"HalfNormal({sigma:g})"
    population[prior_name], rates[prior_name] = population_summary(idata)
pd.DataFrame(population).round(3)

# %%
ranks = pd.DataFrame(rates).rank(ascending=False, method="min").astype(int)
moved = int((ranks.iloc[:, 0] != ranks.iloc[:, 1]).sum())
print(f"ranking by mean theta: {moved} of {len(groups)} {labels.group}s change rank "
      "under the wider hyperprior")
pd.concat({"mean theta": pd.DataFrame(rates), "rank": ranks}, axis=1).iloc[
    selection.select_groups(groups)
].round(3)

# %% [markdown]
# ## Discussion
#
# The hierarchical model learns how alike the vehicles are. The posterior of $\alpha + \beta$ is
# small, which means a loose population: vehicles can differ a lot, so each one keeps most of
# its own record, and the two with failures are pulled up only moderately. Falcon 9 dominates
# its own estimate but no longer dominates everyone else's, as it did under full pooling.
#
# The population mean $\mu$ is about 0.81, well below the pooled 0.97: the pooled estimate
# counted launches, so Falcon 9 spoke 304 times, while $\mu$ counts vehicles, and two of the
# four have had failures. Its MAP is near 0.86, above the mean, because the posterior has a
# long left tail. A new vehicle's success probability is very uncertain: close to half of its
# mass lies above 0.9, but there is a real chance of something much worse.
#
# The model as written needed care. Its divergences were real, and a higher `target_accept`
# did not remove them; integrating $\theta$ out removed their cause rather than hiding it,
# and both fits still agree with the exact answer within Monte Carlo error.
#
# The hyperprior is not innocent. Power-scaling finds $\alpha$ and $\beta$ sensitive to both
# the prior and the likelihood: with four vehicles, the data cannot pin down how concentrated
# the population is, and the $\mathrm{HalfNormal}(10)$ prior pulls against them. The
# population mean $\mu$ is not sensitive, and a ten times wider hyperprior moves it by a
# few hundredths, leaves a new vehicle's prospects much as they were and keeps the vehicles in
# the same order. The conclusions above rest on the data, not on the choice of 10.
#
# ## Leave-one-vehicle-out refits, for notebook 4
#
# As in the first two notebooks: the compiled model with $\theta$ integrated out, refitted with
# each vehicle's counts set to 0, and the log predictive probability of the left-out vehicle's
# record, now a beta-binomial probability, with its Monte Carlo standard error and Pareto $k$.

# %%
refits = refit_without_each_group(
    marginal_sampler, fitted, seed=SEED, draws=REFIT_DRAWS, tune=REFIT_TUNE, chains=CHAINS,
    target_accept=MARGINAL_TARGET_ACCEPT, only=selection.select_groups(fitted, REFIT_GROUPS),
)  # fmt: skip
lovo = loo_table(
    refits, fitted,
    lambda post, i, n, y: stats.betabinom.logpmf(y, n, post["alpha"], post["beta"]),
)  # fmt: skip
save_idata(lovo.to_xarray(), f"{STEM}_refits")
lovo.round(3)

# %% [markdown]
# ## References
#
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B. (2013).
#   *Bayesian Data Analysis*, 3rd ed., chapter 5. CRC Press.
# - Betancourt, M. and Girolami, M. (2015). Hamiltonian Monte Carlo for hierarchical models.
#   In *Current Trends in Bayesian Methodology with Applications*, 79-101. CRC Press.
# - Kallioinen, N., Paananen, T., Bürkner, P.-C. and Vehtari, A. (2024). Detecting and
#   diagnosing prior and likelihood sensitivity with power-scaling. *Statistics and
#   Computing* 34, 57.
# - Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
#   leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413-1432.

# %% [markdown]
# ## Environment

# %%
# %load_ext watermark
# %watermark -v -p pymc,pytensor,arviz,nutpie,numpy,pandas,scipy,matplotlib

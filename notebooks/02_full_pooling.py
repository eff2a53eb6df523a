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
# # 2. Full pooling: one success rate for every vehicle
#
# The first notebook let every vehicle have its own success probability. This one goes to the
# other extreme: all launches, whatever the vehicle, are draws from one common rate $\theta$,
#
# $$
# \theta \sim \mathrm{Beta}(1/2,\, 1/2), \qquad y_i \sim \mathrm{Binomial}(N_i,\, \theta).
# $$
#
# The model is equivalent to adding up all launches and all successes. Its exact posterior is
# $\mathrm{Beta}(1/2 + \sum_i y_i,\, 1/2 + \sum_i (N_i - y_i))$, which the **Checks** section
# compares with the sampler. The posterior predictive check then asks whether one rate can
# really describe vehicles as different as Falcon 1 and Falcon 9.

# %% tags=["parameters"]
SEED = 20240129  # the single seed for every random call below
DATA = None  # path of a groups CSV; None means the shipped data/spacex_launches.csv
GROUP = "vehicle"  # the CSV's column of group names
TRIALS = "launches"  # ... of trials
SUCCESSES = "successes"  # ... of successes
DRAWS = 5000  # draws per chain
TUNE = 5000  # tuning steps per chain
CHAINS = 4
TARGET_ACCEPT = 0.8  # PyMC's default, as in the reference analysis
REFIT_DRAWS = 1000  # leave-one-out refits (for notebook 4): draws per chain
REFIT_TUNE = 1000  # ... and tuning steps per chain
REFIT_GROUPS = None  # groups refitted: None, those of the plots; 0, none
SAMPLER = "nutpie"  # or "pymc" for PyMC's built-in NUTS

# %%
import arviz as az
import pymc as pm
from IPython.display import SVG
from scipy import stats

from pooling import checks, exact, plots, scale, selection, session
from pooling.data import load_groups
from pooling.figures import save_graph, show_figure
from pooling.fits import CompiledSampler, complete
from pooling.paths import DEFAULT_DATA
from pooling.refits import loo_table, refit_without_each_group
from pooling.results import save_idata

STEM = "02_full_pooling"  # names this notebook's figures and results
session.setup()

# %% [markdown]
# ## The data
#
# The same validated file as in the first notebook.

# %%
groups = load_groups(DATA or DEFAULT_DATA, group=GROUP, trials=TRIALS, successes=SUCCESSES)
labels = groups.attrs["labels"]
groups.assign(rate=(groups["successes"] / groups["trials"]).round(3))

# %% [markdown]
# ## The model
#
# A single scalar $\theta$ feeds every vehicle's binomial likelihood. The observations keep
# their `vehicle` coordinate, so replicated data can still be compared vehicle by vehicle. As
# in the first notebook, the counts are `pm.Data` containers, for the refits at the end. With
# a table of many groups, only the listed groups get a likelihood term of their own, and the
# others enter through their summed counts (`scale.split` says so).

# %%
fitted, others = scale.split(groups, "full pooling")  # every group, up to scale.MANY of them

# %%
coords = {labels.group: fitted.index}
with pm.Model(coords=coords) as full_pooling_model:
    trials = pm.Data("trials", fitted["trials"].to_numpy(), dims=labels.group)
    successes = pm.Data("successes", fitted["successes"].to_numpy(), dims=labels.group)
    theta = pm.Beta("theta", alpha=1 / 2, beta=1 / 2)
    pm.Binomial("y", n=trials, p=theta, observed=successes, dims=labels.group)

# %%
with full_pooling_model:
    others.pooled_likelihood(theta)  # the groups not fitted one by one, if any
SVG(save_graph(pm.model_to_graphviz(full_pooling_model), STEM))

# %% [markdown]
# ## Sampling
#
# `pm.sample` (nutpie) with the reference settings (5000 tuning steps, 5000 draws, 4 chains)
# and PyMC's default `target_accept`: a one-dimensional, well-behaved posterior needs nothing
# more. Then, as in the first notebook, the log-likelihood and replicated data.

# %%
with full_pooling_model:
    full_pooling_idata = pm.sample(
        draws=DRAWS, tune=TUNE, chains=CHAINS, target_accept=TARGET_ACCEPT, random_seed=SEED,
        nuts_sampler=SAMPLER, progressbar=False, compute_convergence_checks=False,
    )

# %%
complete(full_pooling_idata, full_pooling_model, SEED)
saved = save_idata(full_pooling_idata, STEM)

# %%
az.summary(full_pooling_idata, var_names=["theta"], ci_kind="hdi", ci_prob=0.94, round_to=3)

# %% [markdown]
# ## Trace plot

# %%
fig = plots.trace(full_pooling_idata, ["theta"], "Full pooling: trace of theta, one line per chain")
show_figure(fig, STEM, "trace")

# %% [markdown]
# ## Forest plot
#
# One rate for all vehicles: its 94% highest-density interval lies well above 0.9.

# %%
fig = plots.forest(
    full_pooling_idata, ["theta"], "Full pooling: the common theta (94% HDI)",
    f"theta: probability of success ({labels.successes} per {labels.trials})",
)
show_figure(fig, STEM, "forest")

# %% [markdown]
# ## Posterior predictive check
#
# Replicated successes per vehicle under the common rate, with the observed count in red.
# Look at Falcon 1 and Starship: with $\theta$ near 0.97, the model expects almost every one of
# their launches to succeed, and their observed counts fall far in the left tail.

# %%
fig = plots.ppc_counts(full_pooling_idata, fitted, title="Full pooling: posterior predictive check")
show_figure(fig, STEM, "ppc")

# %% [markdown]
# ## Checks
#
# **Convergence**: R-hat at most 1.01, bulk and tail ESS at least 1000, no divergences.

# %%
convergence = checks.assert_converged(full_pooling_idata, ["theta"])
n_divergent = checks.assert_no_divergences(full_pooling_idata)
print(f"divergent transitions: {n_divergent}")
convergence.round(3)

# %% [markdown]
# **Exact answer**: $\theta \mid y \sim \mathrm{Beta}(1/2 + \sum y_i,\, 1/2 + \sum (N_i - y_i))$.
# The sampled mean must be within 4 MCSEs of the exact mean and the 3% and 97% quantiles within
# 4 quantile MCSEs of the exact ones.

# %%
full_pooling_exact = exact.full_pooling(groups)
full_pooling_exact.round(4)

# %%
agreement = checks.assert_matches_exact(full_pooling_idata, full_pooling_exact)
agreement.round(4)

# %%
draws = {"theta": full_pooling_idata.posterior["theta"].to_numpy()}
row = full_pooling_exact.loc["theta"]
fig = plots.overlay_exact(
    draws, {"theta": stats.beta(row["a"], row["b"]).pdf},
    "Full pooling: NUTS draws against the exact posterior",
)
show_figure(fig, STEM, "exact")

# %% [markdown]
# ## Discussion
#
# Pooling everything gives a precise answer to a question nobody asked. The common rate is
# about 0.97 with a narrow interval, because it is dominated by Falcon 9's 304 launches; the
# other vehicles barely move it. The posterior predictive check shows the price: the model
# cannot reproduce Falcon 1's 2 successes in 5 or Starship's 5 in 9, which land in the extreme
# left tail of their replicated distributions. Betting on a Falcon 1 launch at 97% odds would
# have been a bad bet.
#
# Neither extreme is satisfying: no pooling ignores what the vehicles have in common, full
# pooling ignores how they differ. The third notebook lets the data decide how much to share.
#
# ## Leave-one-vehicle-out refits, for notebook 4
#
# As in the first notebook: the compiled model refitted with each vehicle's counts set to 0,
# and the log predictive probability of the left-out vehicle's record, with its Monte Carlo
# standard error and Pareto $k$.

# %%
# PyMC compiles a model anew for every pm.sample; CompiledSampler compiles it once for all refits.
full_pooling_sampler = CompiledSampler(full_pooling_model, SAMPLER)
refits = refit_without_each_group(
    full_pooling_sampler, fitted, seed=SEED, draws=REFIT_DRAWS, tune=REFIT_TUNE, chains=CHAINS,
    target_accept=TARGET_ACCEPT, only=selection.select_groups(fitted, REFIT_GROUPS),
)  # fmt: skip
lovo = loo_table(refits, fitted, lambda post, i, n, y: stats.binom.logpmf(y, n, post["theta"]))
save_idata(lovo.to_xarray(), f"{STEM}_refits")
lovo.round(3)

# %% [markdown]
# ## References
#
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B. (2013).
#   *Bayesian Data Analysis*, 3rd ed., chapter 5. CRC Press.
# - Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
#   leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413-1432.

# %% [markdown]
# ## Environment

# %%
# %load_ext watermark
# %watermark -v -p pymc,pytensor,arviz,nutpie,numpy,pandas,scipy,matplotlib

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
# # 1. No pooling: every vehicle on its own
#
# SpaceX has flown four launch-vehicle families, with very different track records: Falcon 9 has
# hundreds of flights, the others a handful each. How likely is each vehicle to succeed on its
# next launch?
#
# The simplest answer treats each vehicle as unrelated to the others. Each gets its own success
# probability $\theta_i$ with the same vague prior, and only its own launches inform it:
#
# $$
# \theta_i \sim \mathrm{Beta}(1/2,\, 1/2), \qquad y_i \sim \mathrm{Binomial}(N_i,\, \theta_i).
# $$
#
# The $\mathrm{Beta}(1/2, 1/2)$ prior is Jeffreys' prior for a binomial rate. Because it is
# conjugate, the posterior is known exactly, $\theta_i \mid y \sim \mathrm{Beta}(1/2 + y_i,\,
# 1/2 + N_i - y_i)$, so the **Checks** section at the end compares the sampler with the exact
# answer.
#
# This is the first of three notebooks (no pooling, full pooling, hierarchical) that read the
# same data file. All parameters sit in the next cell; `make` runs the notebook from the
# command line and writes its figures to `figures/`.

# %% tags=["parameters"]
SEED = 20240129  # the single seed for every random call below
DATA = None  # path of a groups CSV; None means the shipped data/spacex_launches.csv
GROUP = "vehicle"  # the CSV's column of group names
TRIALS = "launches"  # ... of trials
SUCCESSES = "successes"  # ... of successes
DRAWS = 5000  # draws per chain
TUNE = 5000  # tuning steps per chain
CHAINS = 4
TARGET_ACCEPT = 0.95
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

STEM = "01_no_pooling"  # names this notebook's figures and results
session.setup()

# %% [markdown]
# ## The data
#
# Launches and successes per vehicle, as of January 2024. The loader validates the file
# (whole, non-negative counts; no more successes than launches; unique names) and stops with
# a one-line message if anything is wrong.

# %%
groups = load_groups(DATA or DEFAULT_DATA, group=GROUP, trials=TRIALS, successes=SUCCESSES)
labels = groups.attrs["labels"]
groups.assign(rate=(groups["successes"] / groups["trials"]).round(3))

# %% [markdown]
# ## The model
#
# One $\theta$ per vehicle, indexed by the `vehicle` coordinate so that every summary and plot
# carries the vehicles' names. The counts go into `pm.Data` containers, so that the model can
# be refitted on other counts without being compiled again (see the last section). With a
# table of many groups, `scale.split` keeps the rates of the listed groups only, and says why.

# %%
fitted, _ = scale.split(groups, "no pooling")  # every group, up to scale.MANY of them

# %%
coords = {labels.group: fitted.index}
with pm.Model(coords=coords) as no_pooling_model:
    trials = pm.Data("trials", fitted["trials"].to_numpy(), dims=labels.group)
    successes = pm.Data("successes", fitted["successes"].to_numpy(), dims=labels.group)
    theta = pm.Beta("theta", alpha=1 / 2, beta=1 / 2, dims=labels.group)
    pm.Binomial("y", n=trials, p=theta, observed=successes, dims=labels.group)

# %%
SVG(save_graph(pm.model_to_graphviz(no_pooling_model), STEM))

# %% [markdown]
# Each vehicle's $\theta$ connects only to its own observations: nothing is shared.
#
# ## Sampling
#
# `pm.sample` with the reference analysis' settings: 5000 tuning steps and 5000 draws in each
# of 4 chains, and a `target_accept` of 0.95. PyMC 6 samples with nutpie when it is installed
# (`SAMPLER = "pymc"` asks for PyMC's own NUTS), and returns an `xarray.DataTree`. The
# convergence checks are ours, as assertions, in the Checks section. The same seed gives the
# same draws on the same machine.

# %%
with no_pooling_model:
    no_pooling_idata = pm.sample(
        draws=DRAWS, tune=TUNE, chains=CHAINS, target_accept=TARGET_ACCEPT, random_seed=SEED,
        nuts_sampler=SAMPLER, progressbar=False, compute_convergence_checks=False,
    )

# %% [markdown]
# Then the pointwise log-likelihood (for model comparison) and replicated data sets from the
# posterior predictive distribution (`pm.compute_log_likelihood` and
# `pm.sample_posterior_predictive`, through one helper), and the fit is saved for notebook 4.

# %%
complete(no_pooling_idata, no_pooling_model, SEED)
saved = save_idata(no_pooling_idata, STEM)

# %% [markdown]
# ArviZ 1's summary shows an 89% equal-tailed interval unless asked otherwise; every interval
# in this collection is the 94% highest-density interval, and every quantile check uses the
# 3% and 97% quantiles, as in the reference analysis.

# %%
az.summary(no_pooling_idata, var_names=["theta"], ci_kind="hdi", ci_prob=0.94, round_to=3)

# %% [markdown]
# ## Trace plot
#
# Left: the posterior density of each $\theta$, one line per chain. Right: the draws in order.
# The chains overlap and the traces look like stationary noise, which is what a healthy fit
# looks like; the numbers behind that impression are in the Checks section.

# %%
fig = plots.trace(
    no_pooling_idata, ["theta"], "No pooling: trace of theta, one line per chain", groups=fitted
)
show_figure(fig, STEM, "trace")

# %% [markdown]
# ## Forest plot
#
# Posterior mean and 94% highest-density interval of each vehicle's success probability.

# %%
fig = plots.forest(
    no_pooling_idata, ["theta"], f"No pooling: theta per {labels.group} (94% HDI)",
    f"theta: probability of success ({labels.successes} per {labels.trials})", groups=fitted,
)
show_figure(fig, STEM, "forest")

# %% [markdown]
# ## Posterior predictive check
#
# If the model describes the data, data sets simulated from the fitted model should look like
# the one we observed. Each panel shows the replicated number of successes for one vehicle,
# with the observed count in red.

# %%
fig = plots.ppc_counts(no_pooling_idata, fitted, title="No pooling: posterior predictive check")
show_figure(fig, STEM, "ppc")

# %% [markdown]
# ## Checks
#
# Three checks, each an assertion that stops the notebook (and fails CI) when violated.
#
# **Convergence.** Every $\theta_i$ must have a rank-normalised R-hat of at most 1.01 and a bulk
# and tail effective sample size of at least 1000, and no transition may diverge.

# %%
convergence = checks.assert_converged(no_pooling_idata, ["theta"])
n_divergent = checks.assert_no_divergences(no_pooling_idata)
print(f"divergent transitions: {n_divergent}")
convergence.round(3)

# %% [markdown]
# **Exact answer.** The posterior is $\mathrm{Beta}(1/2 + y_i,\, 1/2 + N_i - y_i)$. Every sampled
# mean must lie within 4 Monte Carlo standard errors (MCSE) of the exact mean, and the sampled
# 3% and 97% quantiles within 4 quantile MCSEs of the exact quantiles (with many comparisons
# the allowance grows a little, so that a correct fit fails with probability 1 in 500 at most).
# These are the exact values:

# %%
no_pooling_exact = exact.no_pooling(fitted)
no_pooling_exact.round(4)

# %% [markdown]
# and this is how far the sampler is from them (`z` is the error of the mean in MCSEs; `tol_*`
# the allowed error of each quantile):

# %%
shown = selection.select_groups(fitted)  # every group, or the extremes when there are many
agreement = checks.assert_matches_exact(
    no_pooling_idata, no_pooling_exact, quantiles_of=no_pooling_exact.index[shown]
)
agreement.round(4)

# %% [markdown]
# **Picture.** The exact densities (black) over histograms of the draws.

# %%
pictured = no_pooling_exact.iloc[shown]
draws = {q: checks.draws_of(no_pooling_idata, q).to_numpy() for q in pictured.index}
pdfs = {q: stats.beta(row["a"], row["b"]).pdf for q, row in pictured.iterrows()}
title = "No pooling: NUTS draws against the exact posterior"
title += selection.selection_note(fitted, shown)
fig = plots.overlay_exact(draws, pdfs, title)
show_figure(fig, STEM, "exact")

# %% [markdown]
# ## Discussion
#
# With no pooling, each vehicle's estimate is only as good as its own record. Falcon 9, with
# more than 300 launches, is pinned down to within about a percentage point of 99%. The other
# three are not: Falcon 1 and Starship each span most of the unit interval, and Falcon Heavy's
# nine successes in nine attempts still leave a long tail towards lower values. The posterior
# predictive panels show no conflict with the data, which is expected: a model with a free
# parameter per vehicle can reproduce each vehicle's count.
#
# What this model cannot do is say anything about a vehicle it has not seen, or let Falcon 9's
# long record inform the newer vehicles, although they share an engineering team. The next
# notebook goes to the opposite extreme.
#
# ## Leave-one-vehicle-out refits, for notebook 4
#
# Notebook 4 compares the models by how well each predicts a vehicle it has not seen. That
# takes the model refitted without each vehicle in turn, which is done here, where the model
# is already compiled: a vehicle is removed by setting its launches and successes to 0 (a
# binomial with no trials contributes nothing), and the compiled model is sampled again with
# those counts. For each left-out vehicle the table gives the log of its record's predictive
# probability averaged over the refit's draws (`elpd`), the Monte Carlo standard error of that
# average (`se`) and its Pareto $k$ (above 0.7 the average is carried by a few draws and is
# unreliable). Notebook 4 checks these numbers against their exact values.

# %%
# PyMC compiles a model anew for every pm.sample; CompiledSampler compiles it once for all refits.
no_pooling_sampler = CompiledSampler(no_pooling_model, SAMPLER)
refits = refit_without_each_group(
    no_pooling_sampler, fitted, seed=SEED, draws=REFIT_DRAWS, tune=REFIT_TUNE, chains=CHAINS,
    target_accept=TARGET_ACCEPT, only=selection.select_groups(fitted, REFIT_GROUPS),
)  # fmt: skip
lovo = loo_table(
    refits, fitted, lambda post, i, n, y: stats.binom.logpmf(y, n, post["theta"][..., i])
)
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

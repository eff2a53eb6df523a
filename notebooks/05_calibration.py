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
# # 5. Calibration by simulation
#
# Notebooks 1-3 check each fit against the exact posterior of the data we have. This one asks
# a wider question: does each model's fitting procedure recover the truth across every data set
# the model itself considers plausible? Simulation-based calibration (SBC; Talts et al. 2018)
# answers it:
#
# 1. draw parameters from the prior and data from the model, with plain NumPy code written
#    apart from the PyMC models;
# 2. fit the simulated data with the same compiled model and sampler settings as the analysis;
# 3. rank the true value among about 100 thinned posterior draws.
#
# If the fit is right, the true value is just one more posterior draw, so its rank is uniform,
# for every parameter and for every test quantity (here also the log-likelihood, $\mu$ and
# $\alpha + \beta$; Modrák et al. 2023). The ranks' empirical CDF, minus the uniform CDF, must
# stay inside a simultaneous band (Säilynoja et al. 2022): simultaneous over the whole curve
# and over all of a model's quantities, with 95% probability for a calibrated fit.
#
# Notebook 6's regression model, whose population mean depends on each group's number of
# trials, is calibrated here too, on the same design.
#
# Two controls show that the check works. The **positive control** ranks the truth among
# draws from the exact conjugate posteriors of no and full pooling: it must pass. The
# **negative controls** fit the hierarchical model with a hyperprior ten times narrower than
# the one the data were simulated from, and the regression model with a prior on its slope
# ten times narrower: each must fail, visibly.
#
# The group sizes are those of the data (the shipped SpaceX launches by default), so the
# calibration covers the design the analysis actually has.

# %% tags=["parameters"]
SEED = 20240129  # the single seed for every random call below
DATA = None  # path of a groups CSV; None means the shipped data/spacex_launches.csv
GROUP = "vehicle"  # the CSV's column of group names
TRIALS = "launches"  # ... of trials
SUCCESSES = "successes"  # ... of successes
REPLICATES = 1000  # simulated data sets per model
RANKED_DRAWS = 100  # posterior draws each true value is ranked among
DRAWS = 500  # draws per chain of each fit (thinned to RANKED_DRAWS)
TUNE = 500  # tuning steps per chain
CHAINS = 2
TARGET_ACCEPT = 0.8  # no and full pooling, as in notebooks 1 and 2
MARGINAL_TARGET_ACCEPT = 0.95  # the hierarchical fit, as in notebook 3
PRIOR_SCALE = 10.0  # HalfNormal scale of the hyperpriors, as in notebook 3
WRONG_PRIOR_SCALE = 1.0  # the negative control's hyperprior scale
WRONG_SLOPE_SD = 0.1  # the regression's negative control: the sd of its slope's prior
SAMPLER = "nutpie"  # or "pymc" for PyMC's built-in NUTS (much slower)
SCHEDULER = None  # a Dask scheduler (tcp://host:port) for the replicates; None: here

# %%
import numpy as np
import pandas as pd
import pymc as pm
from scipy import special, stats

from pooling import calibration, plots, predictors, regression, selection, session
from pooling.data import load_groups
from pooling.figures import show_figure
from pooling.fits import CompiledSampler
from pooling.paths import DEFAULT_DATA
from pooling.results import save_idata

STEM = "05_calibration"  # names this notebook's figures and results
session.setup()
JEFFREYS = (0.5, 0.5)  # the Beta prior of notebooks 1 and 2

# %% [markdown]
# ## The design
#
# Only the number of trials per group is taken from the data; the successes are simulated.

# %%
groups = load_groups(DATA or DEFAULT_DATA, group=GROUP, trials=TRIALS, successes=SUCCESSES)
labels = groups.attrs["labels"]
trials = groups["trials"].to_numpy()
shown = selection.select_groups(groups)  # the groups whose theta is ranked (at most 12)
names = [f"theta[{g}]" for g in groups.index[shown]]
# The regression's one predictor, log(1 + trials) standardised over the groups, as in 6
x = predictors.design(groups, ["log_trials"], "PREDICTORS")["log_trials"].to_numpy()
PRIORS = regression.PRIORS  # a ~ Normal(0, 1.5), b ~ Normal(0, 1), log kappa ~ Normal(3, 2)
print(
    f"{len(groups)} groups, {trials.sum()} {labels.trials} in all; "
    f"{REPLICATES} replicates per model, each ranked among {RANKED_DRAWS} draws"
)

# %% [markdown]
# ## Simulating from the prior
#
# Each simulator returns the true value of every quantity to be ranked and the simulated
# successes. The log-likelihood of the simulated data at the true parameters is a test
# quantity too: a fit that is too wide or too narrow shows up in it even when each parameter
# looks fine.


# %%
def simulate_no_pooling(rng):
    theta = rng.beta(*JEFFREYS, size=trials.size)
    y = rng.binomial(trials, theta)
    truth = dict(zip(names, theta[shown], strict=True))
    truth["log-likelihood"] = stats.binom.logpmf(y, trials, theta).sum()
    return truth, {"successes": y}


def simulate_full_pooling(rng):
    theta = rng.beta(*JEFFREYS)
    y = rng.binomial(trials, theta)
    return {"theta": theta, "log-likelihood": stats.binom.logpmf(y, trials, theta).sum()}, {
        "successes": y
    }


def simulate_hierarchical(rng, scale=PRIOR_SCALE):
    alpha, beta = np.abs(rng.normal(0.0, scale, size=2))  # HalfNormal(scale) each
    theta = rng.beta(alpha, beta, size=trials.size)
    y = rng.binomial(trials, theta)
    truth = {
        "alpha": alpha,
        "beta": beta,
        "mu": alpha / (alpha + beta),
        "alpha + beta": alpha + beta,
    }
    truth.update(zip(names, theta[shown], strict=True))
    # with theta integrated out, as the fit sees it
    truth["log-likelihood"] = stats.betabinom.logpmf(y, trials, alpha, beta).sum()
    return truth, {"successes": y}


def simulate_regression(rng):
    a = rng.normal(0.0, PRIORS["a_sd"])
    b = rng.normal(0.0, PRIORS["b_sd"])
    kappa = np.exp(rng.normal(PRIORS["log_kappa_mean"], PRIORS["log_kappa_sd"]))
    mu = special.expit(a + b * x)
    theta = rng.beta(mu * kappa, (1 - mu) * kappa)
    y = rng.binomial(trials, theta)
    truth = {"a": a, "b": b, "kappa": kappa}
    truth.update(zip(names, theta[shown], strict=True))
    truth["log-likelihood"] = stats.betabinom.logpmf(y, trials, mu * kappa, (1 - mu) * kappa).sum()
    return truth, {"successes": y}


# %% [markdown]
# ## The models, compiled once
#
# The same models as notebooks 1-3 (the hierarchical one with $\theta$ integrated out, at
# notebook 3's `target_accept`), with the counts and the hyperprior's scale as data
# containers, so that each replicate only swaps the data (`with_data`) and nothing is
# recompiled.

# %%
coords = {labels.group: groups.index}
with pm.Model(coords=coords) as no_pooling_model:
    n_data = pm.Data("trials", trials, dims=labels.group)
    y_data = pm.Data("successes", groups["successes"].to_numpy(), dims=labels.group)
    theta = pm.Beta("theta", *JEFFREYS, dims=labels.group)
    pm.Binomial("y", n=n_data, p=theta, observed=y_data, dims=labels.group)

with pm.Model(coords=coords) as full_pooling_model:
    n_data = pm.Data("trials", trials, dims=labels.group)
    y_data = pm.Data("successes", groups["successes"].to_numpy(), dims=labels.group)
    theta = pm.Beta("theta", *JEFFREYS)
    pm.Binomial("y", n=n_data, p=theta, observed=y_data, dims=labels.group)

with pm.Model(coords=coords) as marginal_model:
    n_data = pm.Data("trials", trials, dims=labels.group)
    y_data = pm.Data("successes", groups["successes"].to_numpy(), dims=labels.group)
    prior_scale = pm.Data("prior_scale", PRIOR_SCALE)
    alpha = pm.HalfNormal("alpha", sigma=prior_scale)
    beta = pm.HalfNormal("beta", sigma=prior_scale)
    pm.BetaBinomial("y", alpha=alpha, beta=beta, n=n_data, observed=y_data, dims=labels.group)

with pm.Model(coords=coords) as regression_model:
    n_data = pm.Data("trials", trials, dims=labels.group)
    y_data = pm.Data("successes", groups["successes"].to_numpy(), dims=labels.group)
    slope_sd = pm.Data("slope_sd", PRIORS["b_sd"])
    a = pm.Normal("a", 0.0, PRIORS["a_sd"])
    b = pm.Normal("b", 0.0, slope_sd)
    kappa = pm.LogNormal("kappa", PRIORS["log_kappa_mean"], PRIORS["log_kappa_sd"])
    mu = pm.math.invlogit(a + b * x)
    pm.BetaBinomial("y", alpha=mu * kappa, beta=(1 - mu) * kappa, n=n_data, observed=y_data,
                    dims=labels.group)  # fmt: skip

samplers = {
    name: CompiledSampler(model, SAMPLER)
    for name, model in [
        ("no pooling", no_pooling_model),
        ("full pooling", full_pooling_model),
        ("hierarchical", marginal_model),
    ]
}
# As in notebook 6: a low-rank mass matrix follows the correlation of a and b.
samplers["regression"] = CompiledSampler(regression_model, SAMPLER, "low rank")


# %% [markdown]
# ## Fitting each replicate
#
# A fit returns the thinned draws of every quantity its simulator reports, and its divergent
# transitions. For the hierarchical model each $\theta_i$ is drawn from its exact conditional
# posterior $\mathrm{Beta}(\alpha + y_i, \beta + N_i - y_i)$, as in notebook 3.


# %%
def nuts_draws(name, data, seed, target_accept, var_names=("theta",)):
    """Thinned posterior draws of a model's free variables, and the fit's divergences."""
    idata = samplers[name].sample(
        draws=DRAWS, tune=TUNE, chains=CHAINS, seed=seed, target_accept=target_accept, data=data
    )
    picks = np.linspace(0, DRAWS * CHAINS - 1, RANKED_DRAWS).round().astype(int)
    draws = []
    for var in var_names:
        values = idata.posterior[var].to_numpy()
        draws.append(values.reshape(DRAWS * CHAINS, *values.shape[2:])[picks])
    return *draws, int(idata.sample_stats["diverging"].sum())


def no_pooling_quantities(theta, y):
    out = dict(zip(names, theta[:, shown].T, strict=True))
    out["log-likelihood"] = stats.binom.logpmf(y, trials, theta).sum(axis=1)
    return out


def full_pooling_quantities(theta, y):
    return {
        "theta": theta,
        "log-likelihood": stats.binom.logpmf(y, trials, theta[:, None]).sum(axis=1),
    }


def fit_no_pooling(data, seed):
    theta, divergences = nuts_draws("no pooling", data, seed, TARGET_ACCEPT)
    return no_pooling_quantities(theta, data["successes"]), divergences


def fit_full_pooling(data, seed):
    theta, divergences = nuts_draws("full pooling", data, seed, TARGET_ACCEPT)
    return full_pooling_quantities(theta, data["successes"]), divergences


def fit_hierarchical(data, seed):
    alpha, beta, divergences = nuts_draws(
        "hierarchical", data, seed, MARGINAL_TARGET_ACCEPT, ("alpha", "beta")
    )
    alpha, beta, y = alpha[:, None], beta[:, None], data["successes"]
    theta = np.random.default_rng(seed).beta(alpha + y, beta + trials - y)
    out = {
        "alpha": alpha[:, 0],
        "beta": beta[:, 0],
        "mu": (alpha / (alpha + beta))[:, 0],
        "alpha + beta": (alpha + beta)[:, 0],
    }
    out.update(zip(names, theta[:, shown].T, strict=True))
    out["log-likelihood"] = stats.betabinom.logpmf(y, trials, alpha, beta).sum(axis=1)
    return out, divergences


def fit_regression(data, seed):
    a, b, kappa, divergences = nuts_draws(
        "regression", data, seed, MARGINAL_TARGET_ACCEPT, ("a", "b", "kappa")
    )
    mu = special.expit(a[:, None] + b[:, None] * x)
    alpha, beta, y = mu * kappa[:, None], (1 - mu) * kappa[:, None], data["successes"]
    theta = np.random.default_rng(seed).beta(alpha + y, beta + trials - y)
    out = {"a": a, "b": b, "kappa": kappa}
    out.update(zip(names, theta[:, shown].T, strict=True))
    out["log-likelihood"] = stats.betabinom.logpmf(y, trials, alpha, beta).sum(axis=1)
    return out, divergences


# %% [markdown]
# The controls. The positive control replaces NUTS by exact draws from the conjugate
# posteriors, $\mathrm{Beta}(1/2 + y_i, 1/2 + N_i - y_i)$ per group and
# $\mathrm{Beta}(1/2 + \sum y, 1/2 + \sum (N - y))$ for all. The negative control simulates
# from $\mathrm{HalfNormal}(10)$ hyperpriors but fits with $\mathrm{HalfNormal}(1)$; the
# regression's simulates slopes from $\mathrm{Normal}(0, 1)$ but fits with
# $\mathrm{Normal}(0, 0.1)$.


# %%
def exact_no_pooling(data, seed):
    y = data["successes"]
    rng = np.random.default_rng(seed)
    theta = rng.beta(JEFFREYS[0] + y, JEFFREYS[1] + trials - y, size=(RANKED_DRAWS, trials.size))
    return no_pooling_quantities(theta, y), 0


def exact_full_pooling(data, seed):
    y = data["successes"]
    rng = np.random.default_rng(seed)
    theta = rng.beta(JEFFREYS[0] + y.sum(), JEFFREYS[1] + (trials - y).sum(), size=RANKED_DRAWS)
    return full_pooling_quantities(theta, y), 0


def fit_wrong_prior(data, seed):
    return fit_hierarchical({**data, "prior_scale": WRONG_PRIOR_SCALE}, seed)


def fit_wrong_slope(data, seed):
    return fit_regression({**data, "slope_sd": WRONG_SLOPE_SD}, seed)


# %% [markdown]
# ## Running the replicates
#
# Every replicate is kept, whatever its fit reports: dropping awkward ones would bias the
# check towards passing. Each run gets its own seed, derived from `SEED`, and each replicate
# its own generator, derived from that: so the replicates can run on the workers of a Dask
# cluster (`SCHEDULER`) and give the same ranks as here.

# %%
runs = {
    "no pooling": (simulate_no_pooling, fit_no_pooling),
    "full pooling": (simulate_full_pooling, fit_full_pooling),
    "hierarchical": (simulate_hierarchical, fit_hierarchical),
    "no pooling, exact (positive control)": (simulate_no_pooling, exact_no_pooling),
    "full pooling, exact (positive control)": (simulate_full_pooling, exact_full_pooling),
    "hierarchical, wrong prior (negative control)": (simulate_hierarchical, fit_wrong_prior),
    "regression": (simulate_regression, fit_regression),
    "regression, wrong slope prior (negative control)": (simulate_regression, fit_wrong_slope),
}
ranks = {
    name: calibration.simulate_ranks(
        simulate, fit, REPLICATES, RANKED_DRAWS, SEED + i, label=name, scheduler=SCHEDULER
    )
    for i, (name, (simulate, fit)) in enumerate(runs.items())
}
values = {name: calibration.pit(table, SEED + i) for i, (name, table) in enumerate(ranks.items())}
print(f"{REPLICATES} replicates per model")

# %% [markdown]
# Divergent transitions, per replicate, are recorded and reported here. No replicate is
# dropped, whatever its fit reports, so the checks below include the replicates whose fits
# diverged. (With 0 divergences on the shipped data, notebooks 1 and 2 are not affected; in
# simulated data, a rate drawn from the $\mathrm{Beta}(1/2, 1/2)$ prior can sit almost at 0 or
# 1, so that a group has no successes or no failures at all, and the log-odds the sampler
# works on have a long tail there.)

# %%
pd.DataFrame.from_dict({
    name: {"replicates": len(table),
           "with divergences": int((table["divergences"] > 0).sum()),
           "divergent transitions": int(table["divergences"].sum()),
           "transitions": 0 if "exact" in name else REPLICATES * DRAWS * CHAINS}
    for name, table in ranks.items()
}, orient="index")  # fmt: skip

# %% [markdown]
# ## The four models
#
# One panel per quantity: the ECDF of the fractional ranks minus the uniform CDF, with its
# simultaneous band shaded. Each band has probability $1 - 0.05/K$ for a model with $K$
# quantities (Bonferroni), so that a calibrated fit keeps all $K$ curves inside with
# probability at least 95%. A calibrated fit wanders inside the band; a fit whose
# posteriors are too narrow makes a U-shaped rank histogram, which here is an ECDF difference
# that dips then rises out of the band; one that is biased drifts out to one side.

# %%
for name, stem_kind in [
    ("no pooling", "no_pooling"),
    ("full pooling", "full_pooling"),
    ("hierarchical", "hierarchical"),
    ("regression", "regression"),
]:
    fig = plots.calibration_ecdf(
        values[name],
        f"Calibration of the {name} model ({REPLICATES} replicates)",
        calibration.EVAL_POINTS,
        calibration.band_prob(values[name].shape[1]),
    )
    show_figure(fig, STEM, stem_kind)

# %% [markdown]
# ## Everything at once, with the controls
#
# The same curves for all eight runs in one figure. The negative controls' $\alpha$, $\beta$
# and $\alpha + \beta$, and $b$, leave the band by far: a fit with the wrong prior puts the
# truth in the tail of its posterior again and again.

# %%
bands = {name: calibration.band(REPLICATES, calibration.band_prob(v.shape[1]))
         for name, v in values.items()}  # fmt: skip
fig = plots.calibration_summary(values, bands, calibration.EVAL_POINTS)
show_figure(fig, STEM, "summary")

# %% [markdown]
# ## Checks
#
# Each model, and each positive control, must stay inside the bands of the figures: the
# assertion is the picture, at a family-wise level of 5% per model (`max_gap` is the largest
# distance of a curve from 0, `allowed` the band's half-width there).

# %%
verdicts = {}
for name in runs:
    if "negative" in name:
        continue
    verdicts[name] = calibration.assert_calibrated(values[name])
pd.concat(verdicts).round(3)

# %% [markdown]
# Each negative control must fail the same check, or the check has no power:

# %%
negatives = {name: calibration.uniformity(values[name]) for name in runs if "negative" in name}
for name, negative in negatives.items():
    assert not negative["ok"].all(), f"{name} passed: the calibration check has no power"
    print(f"{name}: {int((~negative['ok']).sum())} of {len(negative)} quantities fail "
          f"({', '.join(negative.index[~negative['ok']])})")  # fmt: skip
pd.concat(negatives).round(3)

# %%
table = pd.concat({name: t.drop(columns="divergences") for name, t in ranks.items()})
saved = save_idata(table.rename_axis(columns="quantity").stack().rename("rank").to_xarray(), STEM)

# %% [markdown]
# ## References
#
# - Talts, S., Betancourt, M., Simpson, D., Vehtari, A. and Gelman, A. (2018). Validating
#   Bayesian inference algorithms with simulation-based calibration. arXiv:1804.06788.
# - Modrák, M., Moon, A. H., Kim, S., Bürkner, P.-C., Huurre, N., Faltejsková, K., Gelman, A.
#   and Vehtari, A. (2023). Simulation-based calibration checking for Bayesian computation:
#   the choice of test quantities shapes sensitivity. *Bayesian Analysis*.
# - Säilynoja, T., Bürkner, P.-C. and Vehtari, A. (2022). Graphical test for discrete
#   uniformity and its applications in goodness-of-fit evaluation and multiple sample
#   comparison. *Statistics and Computing* 32, 32.
#
# ## Environment

# %%
# %load_ext watermark
# %watermark -v -p pymc,pytensor,arviz,nutpie,numpy,pandas,scipy,matplotlib

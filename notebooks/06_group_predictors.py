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
# # 6. When groups are not alike: a population that depends on the groups' predictors
#
# Notebook 3's hierarchical model treats the groups as exchangeable: before seeing its
# counts, every group's rate is drawn from the same population. Every fit in this collection
# is checked against its exact posterior, so its numbers are right *for that model*. Whether
# the model is right for the data is a second question, and on real tables with many groups
# the answer is often no.
#
# This notebook asks it of 17,593 careers in Major League Baseball (`data/career_batting.csv`:
# at-bats and hits). Players with few at-bats are mostly pitchers, who cannot hit, so a
# player's batting average owes a lot to his number of at-bats. An exchangeable population
# shrinks those players towards a mean far above their own. The remedy is the one of
# Robinson's `ebbr` (`mu_predictors = ~ log(AB)`), of Gelman and Hill's chapter 12 and of
# PyMC's radon example: let the population's mean depend on what is known about each group,
#
# $$\operatorname{logit}\mu_i = a + x_i \cdot b, \qquad
#   \theta_i \sim \mathrm{Beta}(\mu_i\kappa, (1-\mu_i)\kappa), \qquad
#   y_i \sim \mathrm{Binomial}(N_i, \theta_i).$$
#
# The notebook shows:
#
# 1. the rates against at-bats;
# 2. the exchangeable model failing a predictive check of rates against trials, and by how
#    much it misses the players with few at-bats;
# 3. the regression model, its priors and its fit, checked against its exact posterior;
# 4. the same check for the regression model: how much of the misfit it removes, and what
#    remains;
# 5. what changes for the analyst: estimates, ranks and q-values side by side.

# %% tags=["parameters"]
SEED = 20240129  # the single seed for every random call below
DATA = None  # path of a groups CSV; None means the shipped data/career_batting.csv
GROUP = "player"  # the CSV's column of group names
TRIALS = "at_bats"  # ... of trials
SUCCESSES = "hits"  # ... of successes
PREDICTORS = "log_trials"  # the population's predictors: built in, or columns of the CSV
DRAWS = 1000  # draws per chain
TUNE = 1000  # tuning steps per chain
CHAINS = 4
TARGET_ACCEPT = 0.95  # the regression model, as notebook 3's with theta integrated out
PRIOR_SCALE = 10.0  # the exchangeable model's HalfNormal hyperpriors, as in notebook 3
THRESHOLD = 0.3  # a rate: each group's P(rate > THRESHOLD) and its q-value
SAMPLER = "nutpie"  # or "pymc" for PyMC's built-in NUTS

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
from scipy import special

from pooling import checks, estimates, folded, plots, predictors, regression, session, trials_check
from pooling.data import load_groups
from pooling.exact import HierarchicalPosterior
from pooling.exact.regression import RegressionPosterior
from pooling.figures import show_figure
from pooling.fits import sample_options
from pooling.paths import DATA_DIR
from pooling.results import save_csv

STEM = "06_group_predictors"  # names this notebook's figures and results
session.setup()
rng = np.random.default_rng(SEED)

# %%
groups = load_groups(DATA or DATA_DIR / "career_batting.csv", group=GROUP, trials=TRIALS,
                     successes=SUCCESSES)  # fmt: skip
labels = groups.attrs["labels"]
design = predictors.design(groups, predictors.parse_names(PREDICTORS))
trials, successes = groups["trials"].to_numpy(), groups["successes"].to_numpy()
print(f"{len(groups):,} {labels.group}s; predictors: {', '.join(design.columns)}")
groups.describe().round(1)

# %% [markdown]
# ## 1. Rates against trials
#
# Each dot is a group's observed rate, against its number of trials on a log scale. The
# groups are binned into fifths of log trials (the bins of the check in section 2), and the
# line is each bin's pooled rate: its successes over its trials.

# %%
bin_of = trials_check.bins(trials)
by_bin = (pd.DataFrame({"bin": bin_of, "trials": trials, "successes": successes})
          .query("bin >= 0").groupby("bin")
          .agg(groups=("trials", "size"), trials_from=("trials", "min"),
               trials_to=("trials", "max"), trials=("trials", "sum"),
               successes=("successes", "sum")))  # fmt: skip
by_bin["pooled_rate"] = by_bin["successes"] / by_bin["trials"]
rated = trials > 0
fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
ax.plot(trials[rated], successes[rated] / trials[rated], ".", ms=2, alpha=0.15,
        color=plots.DRAWS, label=f"one {labels.group}")  # fmt: skip
for k, row in by_bin.iterrows():
    ax.hlines(row["pooled_rate"], row["trials_from"], row["trials_to"], color=plots.OBSERVED,
              lw=3, label="pooled rate of a fifth" if k == 0 else None)  # fmt: skip
ax.set_xscale("log")
ax.set(xlabel=f"{labels.trials} (log scale)", ylabel="observed rate", ylim=(-0.02, 1.02),
       title=f"{labels.successes} per {labels.trials.rstrip('s')}, by number of "
             f"{labels.trials}")  # fmt: skip
ax.legend(loc="upper right")
show_figure(fig, STEM, "rates")
by_bin.round(3)

# %% [markdown]
# The pooled rate climbs with the number of trials, from the fifth of groups with the fewest
# to the fifth with the most. An exchangeable population has one mean for all of them.
#
# ## 2. The exchangeable model
#
# Notebook 3's model with $\theta$ integrated out (`pooling.folded.prior_model`: the
# beta-binomial likelihood, folded over the distinct (trials, successes) pairs, with
# HalfNormal(10) priors on $\alpha$ and $\beta$), fitted with NUTS and checked against its
# exact posterior on the $(\alpha, \beta)$ grid.

# %%
exchangeable_idata = folded.fit_prior(
    groups, sigma=PRIOR_SCALE, seed=SEED, draws=DRAWS, tune=TUNE, chains=CHAINS,
    target_accept=TARGET_ACCEPT, sampler=SAMPLER, mass_matrix="low rank",
)  # fmt: skip
checks.assert_no_divergences(exchangeable_idata)
exchangeable_exact = HierarchicalPosterior(groups, sigma=PRIOR_SCALE)
checks.assert_converged(exchangeable_idata, ["alpha", "beta", "mu"])
checks.assert_matches_exact(exchangeable_idata, exchangeable_exact.summary(names=[])
                            .drop(index="theta_new")).round(4)  # fmt: skip

# %% [markdown]
# **The check of rates against trials.** Data are replicated from the fit, every group with
# its own trials, and each bin's pooled rate in the replicates is set against the observed
# one: a two-sided posterior predictive p-value per bin, failing below 5% divided by the
# number of bins. With 17,593 groups such a check would find any imperfection, so the
# *misfit* (replicated minus observed, in rate units) stands beside it, and the verdict says
# whether it is large next to one group's own sampling error in its bin.

# %%
def thinned(n_draws: int, most: int = 1000) -> np.ndarray:
    """Evenly spaced draws: the replicates and the ranks need no more than a thousand."""
    return np.linspace(0, n_draws - 1, min(most, n_draws)).round().astype(int)


post = exchangeable_idata.posterior
alpha, beta = post["alpha"].to_numpy().ravel(), post["beta"].to_numpy().ravel()
kept = thinned(alpha.size)
# The exchangeable model is the regression model without predictors: mu = alpha / (alpha +
# beta), kappa = alpha + beta, and no slopes.
exchangeable_rates = regression.rate_draws(
    groups, design.iloc[:, :0], special.logit(alpha / (alpha + beta))[kept],
    np.empty((kept.size, 0)), (alpha + beta)[kept], rng,
)  # fmt: skip
model_checks = {"exchangeable": trials_check.check_draws(exchangeable_rates, groups, rng)}
print("exchangeable:", trials_check.verdict(model_checks["exchangeable"]))
model_checks["exchangeable"].round(4)

# %% [markdown]
# ## 3. The regression model
#
# **Priors.** On standardised predictors (mean 0 and sd 1 over the groups):
#
# - $a \sim \mathrm{Normal}(0, 1.5)$: the logit of the mean rate of a group with average
#   predictors, spread over (0, 1) without piling up at either end;
# - $b \sim \mathrm{Normal}(0, 1)$: one sd of a predictor moves the logit of the mean by at
#   most about 2 at 95%;
# - $\kappa \sim \mathrm{LogNormal}(3, 2)$: 95% between 0.4 and 1,000, so the spread of the
#   rates about their mean, $\sqrt{\mu(1-\mu)/(1+\kappa)}$, may be almost all of (0, 1) or a
#   hundredth of it.
#
# A prior predictive check shows what they allow before the data: the pooled rate of each
# fifth of this table's groups, in data simulated from the priors with every group's own
# trials. Anything from flat to steep, and from 0 to 1, is possible; the observed line is
# one of many (`benchmarks/regression_priors.py` runs the same check from SpaceX's four
# vehicles to 10^6 groups).

# %%
priors = regression.PRIORS
n_prior = 40
prior_a = rng.normal(0, priors["a_sd"], n_prior)
prior_b = rng.normal(0, priors["b_sd"], (n_prior, design.shape[1]))
prior_kappa = rng.lognormal(priors["log_kappa_mean"], priors["log_kappa_sd"], n_prior)
centres = np.sqrt(by_bin["trials_from"] * by_bin["trials_to"])
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
# Rates from the population alone: the groups' own counts set to none.
prior_rates = regression.rate_draws(groups.assign(successes=0, trials=0), design, prior_a,
                                    prior_b, prior_kappa, rng, chunk=1)  # fmt: skip
for theta in prior_rates:
    rep = rng.binomial(trials, theta[0])
    pooled = np.bincount(bin_of[rated], rep[rated]) / np.bincount(bin_of[rated], trials[rated])
    ax.plot(centres, pooled, color=plots.DRAWS, alpha=0.4, lw=1)
ax.plot(centres, by_bin["pooled_rate"], "o-", color=plots.OBSERVED, lw=2, label="observed")
ax.set_xscale("log")
ax.set(xlabel=f"{labels.trials} (log scale, centre of each fifth)", ylabel="pooled rate",
       ylim=(0, 1), title="Prior predictive: pooled rate per fifth (grey: 40 prior draws)")
ax.legend()
show_figure(fig, STEM, "prior")

# %% [markdown]
# **The model.** With $\theta$ integrated out, each group contributes its beta-binomial
# probability, which depends on the group only through its predictors and counts. Groups
# with the same (predictors, trials, successes) share one term, so the likelihood is a sum
# over the distinct rows, each weighted by how many groups it stands for: with `log_trials`,
# 9,666 rows stand for 17,593 players. Plain PyMC:

# %%
rows, row_of = regression.fold(groups, design)
x = rows[design.columns].to_numpy()
with pm.Model(coords={"predictor": design.columns}) as regression_model:
    a = pm.Normal("a", 0.0, priors["a_sd"])
    b = pm.Normal("b", 0.0, priors["b_sd"], dims="predictor")
    kappa = pm.LogNormal("kappa", priors["log_kappa_mean"], priors["log_kappa_sd"])
    mu = pm.math.invlogit(a + pm.math.dot(x, b))
    counts = pm.BetaBinomial.dist(n=rows["trials"].to_numpy(), alpha=mu * kappa,
                                  beta=(1 - mu) * kappa)  # fmt: skip
    log_p = pm.logp(counts, rows["successes"].to_numpy())
    pm.Potential("y", (rows["count"].to_numpy() * log_p).sum())
print(f"{len(rows):,} distinct rows stand for {len(groups):,} {labels.group}s")

# %%
# a and b move together: a low-rank mass matrix follows them (5 times the ESS per second of
# the diagonal one on career batting), as for notebook 3's fits of many groups.
nuts_options = sample_options("low rank", SAMPLER)
with regression_model:
    regression_idata = pm.sample(
        draws=DRAWS, tune=TUNE, chains=CHAINS, target_accept=TARGET_ACCEPT, random_seed=SEED,
        nuts_sampler=SAMPLER, progressbar=False, compute_convergence_checks=False,
        **nuts_options,
    )  # fmt: skip

# %%
hyper = ["a", "b", "kappa"]
checks.assert_no_divergences(regression_idata)
checks.assert_converged(regression_idata, hyper).round(3)

# %%
fig = plots.trace(regression_idata, hyper, "Regression model: traces of a, b and kappa")
show_figure(fig, STEM, "trace")

# %% [markdown]
# **Exact answer.** With one predictor the posterior of $(a, b, \kappa)$ is
# three-dimensional: it is computed on a grid in $(a, b, \log\kappa)$, independent of the
# sampler, whose box starts from the curvature at the mode and is redrawn until it holds
# everything within $e^{-30}$ of the peak (`pooling.exact.regression`). Each group's rate is
# then a mixture of Betas over the grid. Every mean must agree within 4 MCSEs, and the 3% and
# 97% quantiles within 4 quantile MCSEs. (With more than one predictor the grid would need
# too many points; there simulation-based calibration is the check.)

# %%
if design.shape[1] == 1:
    regression_exact = RegressionPosterior(groups, design)
    shown = np.unique(np.r_[np.argsort(trials)[:3], np.argsort(trials)[-3:],
                            np.argsort(successes / np.maximum(trials, 1))[-3:]])  # fmt: skip
    exact_summary = regression_exact.summary(groups.index[shown])
    # a, b and kappa here; the rates in section 5, where the estimates are computed.
    agreement = checks.assert_matches_exact(regression_idata, exact_summary.iloc[:3])
    print(f"exact grid: {[len(axis) for axis in regression_exact.grid[0]]} points per axis, "
          f"{regression_exact.edge_mass:.1e} of the mass on its faces")
else:
    agreement = pd.DataFrame()
    print(f"{design.shape[1]} predictor columns: no exact grid; simulation-based calibration "
          "would be the check")  # fmt: skip
agreement.round(4)

# %% [markdown]
# ## 4. The check, for both models
#
# The same check for the regression model, with the exchangeable model beside it.

# %%
post = regression_idata.posterior
reg_a = post["a"].to_numpy().ravel()
reg_b = post["b"].transpose("chain", "draw", "predictor").to_numpy().reshape(reg_a.size, -1)
reg_kappa = post["kappa"].to_numpy().ravel()
kept = thinned(reg_a.size)
model_checks["regression"] = trials_check.check_draws(
    regression.rate_draws(groups, design, reg_a[kept], reg_b[kept], reg_kappa[kept], rng),
    groups, rng,
)  # fmt: skip
fig = plots.trials_check(model_checks, {"exchangeable": "C3", "regression": "C1"})
show_figure(fig, STEM, "trials")
worst = {name: float(table["misfit"].abs().max()) for name, table in model_checks.items()}
for name, table in model_checks.items():
    print(f"{name}: {trials_check.verdict(table)}")
print(f"largest misfit in any bin: exchangeable {worst['exchangeable']:.4f}, regression "
      f"{worst['regression']:.4f} ({worst['regression'] / worst['exchangeable']:.0%} of it)")
both_checks = pd.concat(model_checks, names=["model"])
save_csv(both_checks.reset_index().assign(verdict=[trials_check.verdict(model_checks[m])
                                     for m in both_checks.index.get_level_values(0)]),
         f"{STEM}_checks")  # fmt: skip
both_checks[["trials_from", "trials_to", "observed", "replicated", "misfit", "z",
             "p_value"]].round(4)  # fmt: skip

# %% [markdown]
# **Leave-one-out.** PSIS-LOO of every group's counts, computed once per distinct row
# (groups of the same row leave the same value) from the draws of the population. Higher is
# better; the Pareto $k$ says where the importance sampling can be trusted (below 0.7).

# %%
def population(model: str) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta) of every folded row at the thinned draws."""
    if model == "exchangeable":
        return alpha[kept, None], beta[kept, None]
    mu_rows = regression.means(x, reg_a[kept], reg_b[kept])
    return mu_rows * reg_kappa[kept, None], (1 - mu_rows) * reg_kappa[kept, None]


loo = {model: regression.loo(regression.log_predictive(rows, *population(model)),
                             rows["count"], CHAINS)
       for model in ("exchangeable", "regression")}  # fmt: skip
gain = loo["regression"].attrs["elpd_i"] - loo["exchangeable"].attrs["elpd_i"]
weights = rows["count"].to_numpy(float)
gain_se = np.sqrt(weights.sum() * (weights @ (gain - weights @ gain / weights.sum()) ** 2)
                  / weights.sum())  # fmt: skip
print(f"regression minus exchangeable: {weights @ gain:,.1f} (se {gain_se:.1f})")
pd.DataFrame(loo).T.round(2)

# %% [markdown]
# ## 5. What changes for the analyst
#
# Both models' estimates, from the same draws as above (`pooling.estimates`): the posterior
# mean and 94% interval of each group's rate, its rank among all groups (1: the highest) with
# a 90% interval, and the probability that it is above the threshold with its q-value (the
# expected share of false calls among the groups at least as probable). With this many
# groups the ranks come from each group's own rate (`estimates.RankFunction`): given the
# population, a group's rank is one plus the expected number of groups above its rate, up to
# a spread of at most $\sqrt{n}/2$ ranks, with a Monte Carlo error printed below.

# %%
pairs, _ = estimates.fold(groups)
mu_rows = regression.means(x, reg_a, reg_b)
rank_functions = {
    "exchangeable": estimates.rank_function(pairs, alpha, beta, rng),
    "regression": estimates.rank_function(rows, mu_rows * reg_kappa[:, None],
                                          (1 - mu_rows) * reg_kappa[:, None], rng),
}  # fmt: skip
tables = {
    "exchangeable": estimates.hierarchical(groups, alpha, beta, theta=rank_functions[
        "exchangeable"], threshold=THRESHOLD),
    "regression": estimates.regression(groups, design, reg_a, reg_b, reg_kappa,
                                       theta=rank_functions["regression"], threshold=THRESHOLD),
}  # fmt: skip
for name, ranks in rank_functions.items():
    print(f"{name}: ranks within {ranks.spread:.0f} (the spread) of 1 + the expected number "
          f"above, with a Monte Carlo error of at most {ranks.mc_error:.1f} ranks")
if design.shape[1] == 1:
    # Every mean against the exact grid, and the quantiles of the groups listed above.
    listed = tables["regression"].iloc[shown]
    checks.assert_estimates_match_exact(listed, regression_idata, exact_summary, groups, design)
    # Each row's conditional mean at each draw; the estimate averages them.
    conditional = ((mu_rows * reg_kappa[:, None] + rows["successes"].to_numpy())
                   / (reg_kappa[:, None] + rows["trials"].to_numpy()))  # fmt: skip
    estimated = tables["regression"]["mean"].groupby(row_of).first().to_numpy()
    means_check = checks.assert_means_match_exact(
        estimated, regression_exact.means(rows), conditional, regression_idata)
    print(f"every one of the {len(rows):,} rows' means within {means_check['largest_z']:.1f} "
          f"MCSEs of the exact one (the nearest to its limit: {means_check['z']:.1f} of "
          f"{means_check['tolerance']:.1f} allowed)")
columns = ["mean", "q03", "q97", "rank_median", "p_above_threshold", "q_value"]
side_by_side = pd.concat({name: table[["trials", "successes"] * (name == "exchangeable")
                                      + columns] for name, table in tables.items()}, axis=1)
side_by_side.iloc[shown].round(3)

# %% [markdown]
# The players with the fewest at-bats lose most: the exchangeable model puts them near the
# population mean of all players, the regression model near the mean of players like them.
# Summed over each fifth of groups by trials:

# %%
summary = pd.DataFrame({
    "groups": by_bin["groups"],
    "observed": by_bin["pooled_rate"],
    **{f"{name} mean": pd.Series(table["mean"].to_numpy()[rated]).groupby(bin_of[rated]).mean()
       for name, table in tables.items()},
    "rank moved by": pd.Series(np.abs(tables["regression"]["rank_median"].to_numpy()
                                      - tables["exchangeable"]["rank_median"].to_numpy())[rated])
                     .groupby(bin_of[rated]).median(),
})  # fmt: skip
called = {name: int((table["q_value"] < 0.05).sum()) for name, table in tables.items()}
print(f"groups called above {THRESHOLD} at a q-value of 5%: " +
      ", ".join(f"{name} {n:,}" for name, n in called.items()))
summary.round(3)

# %% [markdown]
# ## References
#
# - Robinson, D. (2017). *Introduction to Empirical Bayes: Examples from Baseball
#   Statistics*, chapter 7 (beta-binomial regression); the R package `ebbr`.
# - Gelman, A. and Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
#   Models*, chapter 12. Cambridge University Press.
# - Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B. (2013).
#   *Bayesian Data Analysis*, 3rd ed., chapters 5 and 6. CRC Press.
# - Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
#   leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413-1432.

# %% [markdown]
# ## Environment

# %%
# %load_ext watermark
# %watermark -v -p pymc,pytensor,arviz,nutpie,numpy,pandas,scipy,matplotlib

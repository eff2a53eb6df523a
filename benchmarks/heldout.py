"""Prediction of held-out counts: the regression population against ebbr's and the exchangeable.

Each real table is split at random into fitted and held-out counts: each of a group's trials
goes to the held-out half with probability 1/2 (so its held-out trials are
``Binomial(N, 1/2)`` and its held-out successes hypergeometric given them), as one would hold
out half of each player's at-bats or half of each film's ratings. Three fits on the fitted
half then predict the held-out half of every group:

- **exchangeable**: notebook 3's hierarchical model, exactly (its grid posterior);
- **ebbr**: Robinson's beta-binomial regression with ``logit(mu) = a + b log(1 + N)``, fitted
  by maximum likelihood and plugged in (``ebbr::add_ebb_estimate(mu_predictors = ~log(AB))``);
- **regression**: this collection's fully Bayesian regression on ``log_trials``, exactly
  (:class:`pooling.exact.regression.RegressionPosterior`).

Each model's prediction of a group's held-out successes is its posterior predictive, a
beta-binomial given the population (a mixture over 1,000 draws of it for the Bayesian
fits). Reported: the held-out log predictive density summed over groups (higher is better),
and per fifth of groups by fitted trials, the mean predicted rate minus the held-out rate,
weighted by held-out trials (the bias the check of rates against trials sees). Writes the
``heldout`` section of RESULTS.md (``make bench BENCH=heldout``).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from common import shipped_groups, write_section
from scipy import optimize, special, stats

from pooling import predictors, trials_check
from pooling.exact import HierarchicalPosterior
from pooling.exact.regression import RegressionPosterior

#: Tables and the random splits of each.
TABLES = {"career_batting": 3, "rat_tumours": 10, "baseball_hits": 10}
DRAWS = 1000
SEED = 20240129
#: Largest log(kappa) of the maximum-likelihood fit.
LOG_KAPPA_MAX = 12.0


def split(groups: pd.DataFrame, rng: np.random.Generator):
    """Fitted and held-out halves: each trial held out with probability 1/2."""
    n, y = groups["trials"].to_numpy(), groups["successes"].to_numpy()
    held_n = rng.binomial(n, 0.5)
    held_y = rng.hypergeometric(y, n - y, held_n)
    fitted = groups.assign(trials=n - held_n, successes=y - held_y)
    return fitted, held_n, held_y


def ebbr(fitted: pd.DataFrame, design: pd.DataFrame):
    """Maximum-likelihood (a, b, kappa) of the beta-binomial regression."""
    n, y = fitted["trials"].to_numpy(float), fitted["successes"].to_numpy(float)
    x = design.iloc[:, 0].to_numpy(float)

    def negative(p):
        mu = special.expit(p[0] + p[1] * x)
        kappa = np.exp(p[2])
        return -stats.betabinom.logpmf(y, n, mu * kappa, (1 - mu) * kappa).sum()

    # Under-dispersed tables (baseball hits) have their maximum at kappa = infinity: the
    # search stops at LOG_KAPPA_MAX, where the beta-binomial is a binomial to 5 digits.
    found = optimize.minimize(negative, [special.logit(y.sum() / n.sum()), 0.0, 3.0],
                              method="Nelder-Mead",
                              bounds=[(-20, 20), (-20, 20), (-5, LOG_KAPPA_MAX)],
                              options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 4000})  # fmt: skip
    a, b, log_kappa = found.x
    mu = special.expit(a + b * x)
    return (mu * np.exp(log_kappa))[None], ((1 - mu) * np.exp(log_kappa))[None]


def predictive(fitted, held_n, held_y, alpha, beta):
    """Each group's held-out log predictive density and predicted rate, averaged over the
    draws of the population ``(alpha, beta)``, shape ``(draws, groups)`` or ``(draws, 1)``."""
    y = fitted["successes"].to_numpy(float)
    f = fitted["trials"].to_numpy(float) - y
    a, b = alpha + y, beta + f
    log_p = stats.betabinom.logpmf(held_y, held_n, a, b)
    lpd = special.logsumexp(log_p, axis=0) - np.log(len(log_p))
    return lpd, (a / (a + b)).mean(axis=0)


def main() -> int:
    rng = np.random.default_rng(SEED)
    rows, start = [], time.perf_counter()
    for name, n_splits in TABLES.items():
        groups = shipped_groups(name)
        for k in range(n_splits):
            fitted, held_n, held_y = split(groups, rng)
            design = predictors.design(fitted, ["log_trials"], name)
            exchangeable = HierarchicalPosterior(fitted)
            alpha, beta = exchangeable.hyper_draws(DRAWS, rng)
            grid = RegressionPosterior(fitted, design)
            a, b, kappa, w = grid._points()
            kept = rng.choice(len(w), DRAWS, p=w)
            mu = special.expit(a[kept, None] + b[kept, None] * design.iloc[:, 0].to_numpy())
            populations = {
                "exchangeable": (alpha[:, None], beta[:, None]),
                "ebbr": ebbr(fitted, design),
                "regression": (mu * kappa[kept, None], (1 - mu) * kappa[kept, None]),
            }
            where = trials_check.bins(fitted["trials"].to_numpy())
            held = held_n > 0
            for model, (pa, pb) in populations.items():
                lpd, rate = predictive(fitted, held_n, held_y, pa, pb)
                bias = []
                for fifth in range(where.max() + 1):
                    inside = held & (where == fifth)
                    bias.append(
                        held_n[inside] @ rate[inside] / held_n[inside].sum()
                        - held_y[inside].sum() / held_n[inside].sum()
                    )
                rows.append({"table": name, "split": k, "model": model, "lpd": lpd.sum(),
                             **{f"bias {i}": v for i, v in enumerate(bias)}})  # fmt: skip
            print(name, k, {r["model"]: round(r["lpd"], 1) for r in rows[-3:]}, flush=True)
    table = pd.DataFrame(rows)
    lines = []
    for name, one in table.groupby("table", sort=False):
        base = one[one["model"] == "ebbr"].set_index("split")["lpd"]
        for model, runs in one.groupby("model", sort=False):
            gain = runs.set_index("split")["lpd"] - base
            biases = [runs[c].mean() for c in runs.columns if c.startswith("bias") and
                      runs[c].notna().all()]  # fmt: skip
            lines.append(f"| {name} | {model} | {len(runs)} | {runs['lpd'].mean():,.1f} | "
                         f"{gain.mean():+.1f} ({gain.min():+.1f} to {gain.max():+.1f}) | "
                         + ", ".join(f"{v:+.3f}" for v in biases) + " |")  # fmt: skip
    minutes = (time.perf_counter() - start) / 60
    write_section(
        "heldout",
        "## Held-out counts: the regression population against ebbr and the exchangeable "
        "model (`make bench BENCH=heldout`)\n\nEach table split at random, each trial held "
        "out with probability 1/2; every model fitted on the rest and scored on the held-out "
        "counts by its posterior predictive (`benchmarks/heldout.py`). lpd: the held-out log "
        "predictive density summed over groups, the mean over splits (higher is better); "
        "against ebbr: the difference per split, mean (min to max); bias: per fifth of groups "
        "by fitted trials (fewest first), the predicted minus the held-out pooled rate, mean "
        f"over splits. Whole benchmark: {minutes:.1f} min.\n\n"
        "| table | model | splits | lpd | against ebbr | bias per fifth |\n"
        "|---|---|---:|---:|---|---|\n" + "\n".join(lines),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

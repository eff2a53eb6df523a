"""Prior predictive check of the regression model's priors, from 4 groups to 10^6.

The priors of :mod:`pooling.regression` (``a ~ Normal(0, 1.5)``, ``b ~ Normal(0, 1)`` on a
standardised ``log_trials``, ``kappa ~ LogNormal(3, 2)``) are drawn 2,000 times at the
design (the trials) of every shipped table and of 10^6 synthetic groups with career
batting's spread of trials. For each draw, the pooled rate of each fifth of groups by trials
is simulated (given the draw, a bin's successes are a sum of independent beta-binomial
counts: normal with their summed mean and variance, once per distinct number of trials), and
so is the spread of the groups' rates about their means.

A prior that works at every size puts each shipped table's observed pooled rates well inside
what it allows (their percentiles among the prior draws, away from 0 and 100), and lets
the rates be anything from flat to steep in trials. Writes the ``regression_priors``
section of RESULTS.md (``make bench BENCH=regression_priors``, a minute).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from common import SHIPPED, shipped_groups, write_section
from scipy import special

from pooling import predictors, regression, trials_check

DRAWS = 2000
SEED = 20240129


def prior_pooled_rates(trials: np.ndarray, rng: np.random.Generator):
    """Each prior draw's pooled rate per bin, and the bins."""
    distinct, counts = np.unique(trials, return_counts=True)
    pairs = pd.DataFrame({"trials": distinct, "count": counts})
    x = predictors.design(pairs, ["log_trials"], "design")
    p = regression.PRIORS
    a = rng.normal(0, p["a_sd"], DRAWS)
    b = rng.normal(0, p["b_sd"], DRAWS)
    kappa = rng.lognormal(p["log_kappa_mean"], p["log_kappa_sd"], DRAWS)
    mu = special.expit(a[:, None] + b[:, None] * x["log_trials"].to_numpy())
    where = trials_check.bins(distinct, counts)
    mean = mu * distinct
    variance = distinct * mu * (1 - mu) * (kappa[:, None] + distinct) / (kappa[:, None] + 1)
    out = []
    for k in range(where.max() + 1):
        inside = (where == k) & (distinct > 0)
        w = counts[inside]
        total = distinct[inside] @ w
        sums = mean[:, inside] @ w + np.sqrt(variance[:, inside] @ w) * rng.standard_normal(DRAWS)
        out.append(sums / total)
    spread = np.sqrt((mu * (1 - mu) / (kappa[:, None] + 1)) @ counts / counts.sum())
    return np.array(out).T, where, spread


def main() -> int:
    rng = np.random.default_rng(SEED)
    start, rows = time.perf_counter(), []
    career = shipped_groups("career_batting")["trials"].to_numpy()
    designs = {name: shipped_groups(name) for name in SHIPPED}
    designs["10^6 synthetic"] = rng.choice(career, 10**6)
    for name, design in designs.items():
        trials = design if isinstance(design, np.ndarray) else design["trials"].to_numpy()
        if np.unique(trials).size == 1:  # baseball hits: 45 at-bats each, nothing to predict
            rows.append(f"| {name} | {len(trials):,} | - | every group has {trials[0]} trials: "
                        "log_trials is constant, and refused | | | |")  # fmt: skip
            continue
        pooled, where, spread = prior_pooled_rates(trials, rng)
        slope = pooled[:, -1] - pooled[:, 0]
        cells = [f"{len(trials):,}", f"{pooled.shape[1]}",
                 f"{np.quantile(pooled, 0.05):.2f}-{np.quantile(pooled, 0.95):.2f}",
                 f"{np.quantile(slope, 0.05):+.2f} to {np.quantile(slope, 0.95):+.2f}",
                 f"{np.quantile(spread, 0.05):.3f}-{np.quantile(spread, 0.95):.3f}"]  # fmt: skip
        if isinstance(design, np.ndarray):
            cells.append("(synthetic)")
        else:
            successes = design["successes"].to_numpy()
            distinct = np.unique(trials)
            bin_of = where[np.searchsorted(distinct, trials)]
            observed = [successes[(bin_of == k) & (trials > 0)].sum()
                        / trials[(bin_of == k) & (trials > 0)].sum()
                        for k in range(pooled.shape[1])]  # fmt: skip
            percentiles = [100 * np.mean(pooled[:, k] <= v) for k, v in enumerate(observed)]
            cells.append(", ".join(f"{q:.0f}" for q in percentiles))
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    minutes = (time.perf_counter() - start) / 60
    write_section(
        "regression_priors",
        "## Prior predictive check of the regression model's priors (`make bench "
        "BENCH=regression_priors`)\n\n"
        f"{DRAWS:,} draws of `a ~ Normal(0, 1.5)`, `b ~ Normal(0, 1)`, `kappa ~ LogNormal(3, 2)` "
        "at the trials of each table (`benchmarks/regression_priors.py`): the prior "
        "predictive 90% range of the pooled rate of a fifth of groups by trials, of the "
        "difference between the last fifth's and the first's (the trend in trials), and of "
        "the spread of the rates about their means; and the percentile of each observed "
        f"fifth's pooled rate among the prior draws. Whole benchmark: {minutes:.1f} min.\n\n"
        "| table | groups | bins | pooled rate of a bin | last bin minus first | spread of "
        "rates | observed pooled rates' percentiles |\n"
        "|---|---:|---:|---|---|---|---|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

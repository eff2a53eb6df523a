"""How often the check of rates against trials fails a model that is right.

Data are simulated from each model at the designs (the trials) of the shipped tables:
- full pooling: every group's successes ``Binomial(N_i, r)``, at the table's pooled rate ``r``;
- the exchangeable hierarchical model: ``theta_i ~ Beta(alpha, beta)`` at the exact posterior
  mean of ``(alpha, beta)`` on the table, then ``Binomial(N_i, theta_i)``.

Each simulated table is fitted exactly (full pooling: its conjugate Beta posterior; the
hierarchical model: draws from its grid posterior, :meth:`HierarchicalPosterior.hyper_draws`,
which NUTS reproduces within its Monte Carlo error in every notebook), and checked with
:func:`pooling.trials_check.check`. The share of simulated tables on which the check fails
is its false-alarm rate: at most ``FALSE_ALARM`` (5%) by design. Writes the ``trials_check``
section of RESULTS.md (``make bench BENCH=trials_check``, about ten minutes).
"""

from __future__ import annotations

import sys
import time

import arviz as az
import numpy as np
import pandas as pd
from common import shipped_groups, write_section
from scipy import stats

from pooling import exact, trials_check

#: The shipped tables, with the simulated replicates for each (fewer for the largest: each
#: hierarchical replicate there costs an exact grid of about 10 s).
TABLES = {"spacex_launches": 200, "rat_tumours": 200, "baseball_hits": 200,
          "surgical_mortality": 200, "career_batting": 40}  # fmt: skip
#: Posterior draws behind each check.
DRAWS = 1000
SEED = 20240129


def with_successes(groups: pd.DataFrame, successes: np.ndarray) -> pd.DataFrame:
    out = groups.copy()
    out["successes"] = successes
    return out


def fit_of(groups: pd.DataFrame, posterior: dict, theta: np.ndarray, rng) -> object:
    """A fit as the notebooks make it: ``posterior`` (one chain), and replicated counts of
    every group from the rate draws ``theta`` (draws x groups), which the check uses up to
    ``scale.MANY`` groups (past that it draws its own from the posterior)."""
    dim = groups.attrs["labels"].group
    y_rep = rng.binomial(groups["trials"].to_numpy(), theta)
    posterior = {name: np.asarray(values)[None] for name, values in posterior.items()}
    dims = {"y": [dim]} | ({"theta": [dim]} if posterior["theta"].ndim == 3 else {})
    return az.from_dict({"posterior": posterior, "posterior_predictive": {"y": y_rep[None]}},
                        coords={dim: groups.index.to_numpy()}, dims=dims)  # fmt: skip


def full_pooling_fit(groups: pd.DataFrame, rng) -> object:
    y, n = groups["successes"].to_numpy(), groups["trials"].to_numpy()
    theta = rng.beta(1 + y.sum(), 1 + (n - y).sum(), DRAWS)
    return fit_of(groups, {"theta": theta}, theta[:, None], rng)


def hierarchical_fit(groups: pd.DataFrame, rng) -> object:
    y, n = groups["successes"].to_numpy(), groups["trials"].to_numpy()
    alpha, beta = exact.HierarchicalPosterior(groups).hyper_draws(DRAWS, rng)
    theta = rng.beta(alpha[:, None] + y, beta[:, None] + n - y)
    return fit_of(groups, {"alpha": alpha, "beta": beta, "theta": theta}, theta, rng)


def simulated(model: str, groups: pd.DataFrame, population: dict, rng) -> pd.DataFrame:
    """A table of the same trials with successes simulated from ``model``."""
    n = groups["trials"].to_numpy()
    if model == "full pooling":
        successes = rng.binomial(n, population["rate"])
    else:
        successes = rng.binomial(n, rng.beta(population["alpha"], population["beta"], n.size))
    return with_successes(groups, successes)


FITS = {"full pooling": full_pooling_fit, "hierarchical": hierarchical_fit}


def main() -> int:
    rows = []
    start = time.perf_counter()
    for name, replicates in TABLES.items():
        groups = shipped_groups(name)
        rng = np.random.default_rng([SEED, len(rows)])
        summary = exact.HierarchicalPosterior(groups).summary([])
        population = {"rate": groups["successes"].sum() / groups["trials"].sum(),
                      "alpha": summary.loc["alpha", "mean"],
                      "beta": summary.loc["beta", "mean"]}  # fmt: skip
        n_bins = int(trials_check.bins(groups["trials"]).max()) + 1
        for model, fit in FITS.items():
            fails, smallest = 0, []
            for _ in range(replicates):
                data = simulated(model, groups, population, rng)
                checked = trials_check.check(fit(data, rng), data, rng)
                fails += bool(checked["fails"].any())
                smallest.append(checked["p_value"].min())
            # A 95% upper bound on the false-alarm rate (Clopper-Pearson, one-sided).
            upper = stats.beta.ppf(0.95, fails + 1, replicates - fails)
            print(name, model, fails, replicates, round(upper, 3), flush=True)
            rows.append(f"| {name} | {len(groups):,} | {n_bins} | {model} | {replicates} | "
                        f"{fails} | {fails / replicates:.3f} | {upper:.3f} | "
                        f"{np.median(smallest):.2f} |")  # fmt: skip
    minutes = (time.perf_counter() - start) / 60
    write_section(
        "trials_check",
        "## False alarms of the check of rates against trials (`make bench BENCH=trials_check`)"
        "\n\nData simulated from each model at the trials of the shipped tables (full pooling "
        "at the table's pooled rate; the hierarchical model at the exact posterior mean of "
        "alpha and beta on the table), fitted exactly and checked "
        f"(`benchmarks/trials_check.py`, {DRAWS} posterior draws per check). The check may "
        f"fail a right model in at most {trials_check.FALSE_ALARM:.0%} of tables. "
        f"Whole benchmark: {minutes:.1f} min.\n\n"
        "| table | groups | bins | model simulated and fitted | tables | failed | "
        "false-alarm rate | 95% upper bound | median smallest p |\n"
        "|---|---:|---:|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

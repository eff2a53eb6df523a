"""Is a leave-one-out refit's standard error honest? Errors in standard errors over many refits.

A no-pooling refit that leaves out a group of 0 successes in 29 trials: the left-out rate
falls back to its Beta(1/2, 1/2) prior, and the refit's log predictive density of the group's
record, ``log mean (1 - theta)^29``, has the exact value ``log BetaBinomial(0 | 29, 1/2, 1/2)``.
The refit is repeated with many seeds (50 other groups in the model, the notebooks' refit
settings: 1000 + 1000 draws in 4 chains) and each error is divided by the refit's standard
error, computed two ways: with the ESS of the values (``az.mcse(method="mean")``, what
``pooling.refits.log_predictive`` uses) and with the rank-normalised bulk ESS (what it used
before). Honest standard errors give errors with an sd near 1. Writes the ``refit-se`` section
of RESULTS.md: ``make bench BENCH=refit_se`` (about 30 s).
"""

from __future__ import annotations

import argparse
import sys

import arviz as az
import numpy as np
import nutpie
import pymc as pm
from common import write_section
from scipy import stats

from pooling.refits import log_predictive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args(argv)
    n, y = 29, 0
    exact = float(stats.betabinom.logpmf(y, n, 0.5, 0.5))
    rng = np.random.default_rng(1)
    trials = np.r_[rng.integers(5, 300, 50), 0]  # the last group is the one left out
    successes = np.r_[rng.binomial(trials[:-1], 0.25), 0]
    with pm.Model() as model:
        theta = pm.Beta("theta", 0.5, 0.5, shape=len(trials))
        pm.Binomial("y", n=trials, p=theta, observed=successes)
    compiled = nutpie.compile_pymc_model(model)
    z = {"ESS of the values (mean)": [], "bulk ESS (before)": []}
    for seed in range(args.seeds):
        idata = nutpie.sample(compiled, draws=1000, tune=1000, chains=4, seed=seed,
                              progress_bar=False)  # fmt: skip
        log_p = stats.binom.logpmf(y, n, idata.posterior["theta"].to_numpy()[..., -1])
        result = log_predictive(log_p)
        p = np.exp(log_p - log_p.max())
        bulk_se = p.std() / p.mean() / np.sqrt(float(az.ess(p)))
        z["ESS of the values (mean)"].append((result["elpd"] - exact) / result["se"])
        z["bulk ESS (before)"].append((result["elpd"] - exact) / bulk_se)
    rows = []
    for name, values in z.items():
        values = np.array(values)
        rows.append(f"| {name} | {values.mean():+.2f} | {values.std():.2f} | "
                    f"{np.mean(abs(values) > 2):.2f} | {abs(values).max():.2f} |")  # fmt: skip
        print(name, rows[-1], flush=True)
    write_section(
        "refit-se",
        "## Leave-one-out refits: are their standard errors honest?\n\n"
        f"{args.seeds} seeded no-pooling refits leaving out a group of 0 successes in 29 "
        f"trials (exact elpd {exact:.3f}; `benchmarks/refit_se.py`): the error of each "
        "refit's elpd in its own standard errors. Honest standard errors give an sd near 1 "
        "and about 5% beyond 2.\n\n"
        "| standard error from | mean error | sd | share beyond 2 | largest |\n"
        "|---|---:|---:|---:|---:|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

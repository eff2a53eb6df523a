"""How far the regression model goes with a numeric predictor that does not fold.

A numeric column with a value of its own for every group leaves as many likelihood rows as
groups (:func:`pooling.regression.fold` finds no two alike), unlike ``log_trials`` or a
category. For each size, seeded synthetic groups (trials log-uniform up to 3,000, a
predictor ``x ~ Normal(0, 1)`` with ``logit(mu) = 1 + 0.3 x`` and ``kappa = 20``) are fitted
by notebook 6's settings (nutpie, low-rank mass matrix, 1000 + 1000 draws in 4 chains,
target acceptance 0.95) in a process of their own. Reported: the wall time of the fit and of
the whole process, its peak memory (the process tree), the largest R-hat and the smallest
bulk ESS of ``a``, ``b`` and ``kappa``. Writes the ``numeric_predictors`` section of
RESULTS.md: ``make bench BENCH=numeric_predictors`` (about 10 minutes).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import measured, write_section

SEED = 20240129


def synthetic(n_groups: int) -> pd.DataFrame:
    """The groups, with their own numeric predictor ``x``."""
    rng = np.random.default_rng([SEED, n_groups])
    trials = np.floor(np.exp(rng.uniform(0, np.log(3000), n_groups))).astype(int)
    x = rng.normal(size=n_groups)
    mu = 1 / (1 + np.exp(-(1 + 0.3 * x)))
    successes = rng.binomial(trials, rng.beta(mu * 20, (1 - mu) * 20))
    return pd.DataFrame({"trials": trials, "successes": successes, "x": x})


def fit(n_groups: int, out: Path) -> None:
    """Fit one size here and write what it measured to ``out`` (JSON)."""
    import arviz as az

    from pooling import regression
    from pooling.folded_regression import FoldedRegression

    start = time.perf_counter()
    groups = synthetic(n_groups)
    design = pd.DataFrame({"x": (groups["x"] - groups["x"].mean()) / groups["x"].std(ddof=0)})
    rows, _ = regression.fold(groups, design)
    folded = FoldedRegression(rows, ["x"])
    fitted = time.perf_counter()
    idata = folded.sample(draws=1000, tune=1000, chains=4, target_accept=0.95, seed=SEED)
    summary = az.summary(idata, var_names=["a", "b", "kappa"], kind="diagnostics")
    result = {
        "rows": len(rows),
        "compile": fitted - start,
        "sample": time.perf_counter() - fitted,
        "r_hat": float(summary["r_hat"].max()),
        "ess_bulk": float(summary["ess_bulk"].min()),
    }
    out.write_text(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 30_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a size, in this process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        fit(args.one, args.out)
        return 0
    lines = []
    with tempfile.TemporaryDirectory(prefix="numeric-predictors-") as scratch:
        for n_groups in args.sizes:
            out = Path(scratch) / f"{n_groups}.json"
            command = [sys.executable, Path(__file__), "--one", n_groups, "--out", out]
            status, seconds, peak = measured(command)
            if status != 0:
                raise SystemExit(f"numeric_predictors: the fit of {n_groups} groups failed")
            r = json.loads(out.read_text())
            print(f"{n_groups} groups: {r}, {seconds:.0f} s, {peak / 2**30:.2f} GiB", flush=True)
            lines.append(
                f"| {n_groups:,} | {r['rows']:,} | {r['compile']:.0f} | {r['sample']:.0f} | "
                f"{seconds / 60:.1f} | {peak / 2**30:.2f} | {r['r_hat']:.3f} | "
                f"{r['ess_bulk']:.0f} |"
            )
    write_section(
        "numeric_predictors",
        "## A numeric predictor that does not fold (`make bench BENCH=numeric_predictors`)\n\n"
        "The regression model with one numeric predictor of its own per group "
        "(`benchmarks/numeric_predictors.py`): one likelihood row per group. Notebook 6's "
        "settings: nutpie, low-rank mass matrix, 1000 + 1000 draws in 4 chains, target "
        "acceptance 0.95. Seconds to build the model (fold, find the mode, anchor its Taylor "
        "series), seconds to sample, minutes for the "
        "whole process, its peak memory, and the largest R-hat and smallest bulk ESS of a, b "
        "and kappa.\n\n"
        "| groups | likelihood rows | build s | sample s | minutes | peak GiB | R-hat | ESS |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(lines),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

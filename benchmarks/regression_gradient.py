"""The regression model's folded log density and gradient: PyTensor, or one Numba function.

Times one evaluation of the log posterior and its gradient, as NUTS asks for it, of the
one-predictor regression (``log_trials``) on the real career batting table and on 10^5 and
10^6 synthetic groups (``groups.synthetic_csv``, seed 2), three ways:

- the model written in PyTensor with a log Gamma per folded row, compiled by PyTensor's
  Numba backend (what the estimates run sampled until this benchmark);
- :class:`pooling.folded_regression.FoldedRegression` with a log Gamma per folded row;
- the same anchored at the posterior mode, where near the mode each predictor row costs a
  few terms of a Taylor series instead.

All three must give the same gradient (to 1e-6 relative) and the same differences of log
density. NUTS reaches the compiled function through nutpie's ``from_pyfunc``, which calls
Python once per gradient: the cost of that call alone is measured on a two-dimensional
normal density. Writes the ``regression_gradient`` section of RESULTS.md
(``make bench BENCH=regression_gradient``, about three minutes).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import write_section
from groups import REAL, synthetic_csv

from pooling import predictors, regression
from pooling.folded_regression import FoldedRegression

#: Seconds each form is timed for.
SECONDS = 2.0


def pytensor_model(rows: pd.DataFrame):
    """The regression with theta integrated out, a log Gamma per folded row, in PyTensor."""
    import pymc as pm
    import pytensor.tensor as pt

    p = regression.PRIORS
    rows = rows[rows["trials"] > 0]
    count = rows["count"].to_numpy(float)
    y = rows["successes"].to_numpy(float)
    f = rows["trials"].to_numpy(float) - y
    xs, x_of = np.unique(rows[["log_trials"]].to_numpy(float), axis=0, return_inverse=True)
    x_of = x_of.ravel()
    ns, n_of = np.unique(rows["trials"].to_numpy(float), return_inverse=True)
    x_count, n_count = np.bincount(x_of, count, len(xs)), np.bincount(n_of.ravel(), count, len(ns))
    with pm.Model(coords={"predictor": ["log_trials"]}) as model:
        a = pm.Normal("a", 0.0, p["a_sd"])
        b = pm.Normal("b", 0.0, p["b_sd"], dims="predictor")
        kappa = pm.LogNormal("kappa", p["log_kappa_mean"], p["log_kappa_sd"])
        mu = pm.math.invlogit(a + pm.math.dot(xs, b))
        alpha, beta = mu * kappa, (1 - mu) * kappa
        by_row = pt.gammaln(alpha[x_of] + y) + pt.gammaln(beta[x_of] + f)
        by_x = pt.gammaln(alpha) + pt.gammaln(beta)
        pm.Potential("y", (count * by_row).sum() - (x_count * by_x).sum()
                     - (n_count * pt.gammaln(kappa + ns)).sum()
                     + count.sum() * pt.gammaln(kappa))  # fmt: skip
    return model


def pytensor_function(rows: pd.DataFrame):
    """``point -> (value, gradient)`` of :func:`pytensor_model`, compiled with Numba."""
    import pytensor

    model = pytensor_model(rows)
    values = model.value_vars  # a, b, kappa_log__
    logp = model.logp()
    compiled = pytensor.function(values, [logp, *pytensor.grad(logp, values)], mode="NUMBA")

    def evaluate(point):
        value, da, db, dk = compiled(point[0], point[1:2], point[2])
        return float(value), np.r_[da, db, dk]

    return evaluate


def per_call(function, point) -> float:
    """Microseconds per call."""
    function(point)
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < SECONDS:
        function(point)
        calls += 1
    return (time.perf_counter() - start) / calls * 1e6


def tables() -> dict[str, pd.DataFrame]:
    """The groups: ``trials``, ``successes``."""
    out = {"career batting": pd.read_csv(REAL).set_axis(["group", "trials", "successes"],
                                                        axis=1)}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="regression-gradient-") as scratch:
        for n_groups in (100_000, 1_000_000):
            path = Path(scratch) / "groups.csv"
            synthetic_csv(n_groups, 2, path)
            out[f"{n_groups:,} synthetic"] = pd.read_csv(path).set_axis(
                ["group", "trials", "successes"], axis=1
            )
    return out


def call_cost() -> float:
    """Microseconds of nutpie's time per gradient of a free density given as a function."""
    from pooling.function_fits import sample_function

    start = time.perf_counter()
    idata = sample_function(
        lambda x: (float(-0.5 * x @ x), -x), lambda x: {"x": np.array(x)}, {"x": (2,)},
        np.zeros(2), draws=5000, tune=5000, chains=4, target_accept=0.95, seed=1,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    # Draws and tuning steps take about as many leapfrog steps each.
    steps = 2 * float(idata.sample_stats["n_steps"].sum())
    return seconds / steps * 1e6


def main() -> int:
    lines = []
    for name, groups in tables().items():
        pairs = groups.groupby(["trials", "successes"]).size().rename("count").reset_index()
        design = predictors.design(pairs, ["log_trials"])
        rows, _ = regression.fold(pairs, design)
        direct = FoldedRegression(rows, ["log_trials"], expand=False)
        anchored = FoldedRegression(rows, ["log_trials"])
        plain = pytensor_function(rows)
        mode = anchored.anchor
        # A point some way off the mode too, where fewer rows take the Taylor series.
        away = mode + np.array([0.02, 0.02, 0.05])
        forms = {"PyTensor": plain, "log Gammas": direct.value_and_gradient,
                 "anchored": anchored.value_and_gradient}  # fmt: skip
        reference = [direct.value_and_gradient(p) for p in (mode, away)]
        for form, function in forms.items():
            got = [function(p) for p in (mode, away)]
            difference = got[1][0] - got[0][0]
            expected = reference[1][0] - reference[0][0]
            assert abs(difference - expected) <= 1e-6 * max(1.0, abs(expected)), form
            for (_, gradient), (_, wanted) in zip(got, reference, strict=True):
                np.testing.assert_allclose(gradient, wanted, rtol=1e-6, atol=1e-6)
        times = [per_call(function, mode) for function in forms.values()]
        times.append(per_call(anchored.value_and_gradient, away))
        print(name, len(rows), [round(t) for t in times], flush=True)
        lines.append(f"| {name} | {len(groups):,} | {len(rows):,} | {len(anchored.xs):,} | "
                     + " | ".join(f"{t:,.0f}" for t in times) + " |")  # fmt: skip
    overhead = call_cost()
    print(f"from_pyfunc: {overhead:.0f} microseconds per gradient of a trivial density")
    write_section(
        "regression_gradient",
        "## The regression's log density and gradient\n\n"
        "Microseconds per evaluation of the one-predictor regression's (`log_trials`) log "
        "posterior and gradient at its mode (`benchmarks/regression_gradient.py`): written "
        "in PyTensor with a log Gamma per folded row (Numba backend); "
        "`pooling.folded_regression` with a log Gamma per folded row; the same anchored at "
        "the mode (Taylor series per predictor row); and anchored, at a point 0.02, 0.02 "
        "and 0.05 from the mode in a, b and log kappa. All give the same gradient to 1e-6.\n\n"
        "| data | groups | folded rows | predictor rows | PyTensor | log Gammas | anchored "
        "| anchored, off the mode |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
        + "\n".join(lines)
        + "\n\nNUTS reaches the compiled function through nutpie's `from_pyfunc`, one Python "
        f"call per gradient: on a two-dimensional normal density that alone took {overhead:.0f} "
        "microseconds per leapfrog step (4 chains of 5000 + 5000 draws on this machine's "
        "cores), most of it the chains' threads queueing for the interpreter's lock: the "
        "population's fit, whose gradient costs a few microseconds, runs its chains on one "
        "core instead (the `folded_sampler` section).",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

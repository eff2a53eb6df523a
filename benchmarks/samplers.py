"""Compile time, sampling time and bulk ESS per second, nutpie against PyMC's NUTS.

The four models of the collection on the shipped data, with the reference analysis'
settings (5000 tuning steps and 5000 draws in each of 4 chains). Compilation and sampling
are timed apart. For nutpie, "compile" is ``nutpie.compile_pymc_model`` after one warm-up
compile in the same process (Numba types its own functions on a process's first compile;
that cost is reported on its own line). For PyMC, "compile" is building the NUTS step
(the C-compiled log density and gradient, from PyTensor's on-disk cache when warm) and
"sample" is ``pm.sample`` with that step on all cores. ESS per second is the smallest bulk
ESS over the model's parameters divided by the sampling time.

Usage: ``python benchmarks/samplers.py [--samplers nutpie pymc]``
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

import arviz as az
import numpy as np
import pymc as pm
from common import write_section
from pymc.distributions.transforms import log_exp_m1

from pooling.data import load_groups
from pooling.paths import DEFAULT_DATA

SETTINGS = {"draws": 5000, "tune": 5000, "chains": 4}


def models(n: np.ndarray, y: np.ndarray) -> dict[str, tuple[pm.Model, list[str], float]]:
    """The collection's models: name -> (model, parameters, target_accept)."""
    k = len(n)
    with pm.Model() as no_pooling:
        theta = pm.Beta("theta", 0.5, 0.5, shape=k)
        pm.Binomial("y", n=n, p=theta, observed=y)
    with pm.Model() as full_pooling:
        theta = pm.Beta("theta", 0.5, 0.5)
        pm.Binomial("y", n=n, p=theta, observed=y)
    with pm.Model() as as_written:
        alpha, beta = pm.HalfNormal("alpha", 10), pm.HalfNormal("beta", 10)
        theta = pm.Beta("theta", alpha, beta, shape=k)
        pm.Binomial("y", n=n, p=theta, observed=y)
    with pm.Model() as marginal:
        alpha = pm.HalfNormal("alpha", 10, default_transform=log_exp_m1)
        beta = pm.HalfNormal("beta", 10, default_transform=log_exp_m1)
        pm.BetaBinomial("y", alpha=alpha, beta=beta, n=n, observed=y)
    return {
        "no pooling": (no_pooling, ["theta"], 0.95),
        "full pooling": (full_pooling, ["theta"], 0.8),
        "hierarchical, as written": (as_written, ["alpha", "beta", "theta"], 0.98),
        "hierarchical, theta integrated out": (marginal, ["alpha", "beta"], 0.8),
    }


def min_bulk_ess(posterior, names: list[str]) -> float:
    ess = az.ess(posterior[names], method="bulk")
    return float(min(ess[name].min() for name in names))


def run_nutpie(model, names, target_accept, seed):
    import nutpie

    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    compiled_at = time.perf_counter()
    idata = nutpie.sample(
        compiled, seed=seed, target_accept=target_accept, progress_bar=False, **SETTINGS
    )
    done = time.perf_counter()
    return compiled_at - start, done - compiled_at, min_bulk_ess(idata.posterior, names)


def run_pymc(model, names, target_accept, seed):
    start = time.perf_counter()
    with model:
        step = pm.NUTS(target_accept=target_accept)
        compiled_at = time.perf_counter()
        idata = pm.sample(
            step=step, random_seed=seed, progressbar=False, cores=os.cpu_count(),
            compute_convergence_checks=False, **SETTINGS,
        )  # fmt: skip
    done = time.perf_counter()
    return compiled_at - start, done - compiled_at, min_bulk_ess(idata.posterior, names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samplers", nargs="+", default=["nutpie", "pymc"])
    parser.add_argument("--seed", type=int, default=20240129)
    args = parser.parse_args(argv)
    logging.getLogger("pymc").setLevel(logging.WARNING)  # no per-run chatter on stdout
    groups = load_groups(DEFAULT_DATA, group="vehicle", trials="launches", successes="successes")
    n, y = groups["trials"].to_numpy(), groups["successes"].to_numpy()
    runners = {"nutpie": run_nutpie, "pymc": run_pymc}
    rows = []
    if "nutpie" in args.samplers:
        import nutpie

        start = time.perf_counter()
        nutpie.compile_pymc_model(models(n, y)["full pooling"][0])
        warm = time.perf_counter() - start
        print(f"nutpie: first compile in the process (Numba warm-up): {warm:.1f} s")
    for name, (model, names, target_accept) in models(n, y).items():
        for sampler in args.samplers:
            compile_s, sample_s, ess = runners[sampler](model, names, target_accept, args.seed)
            rows.append((name, sampler, compile_s, sample_s, ess, ess / sample_s))
            print(f"{name:36s} {sampler:6s} compile {compile_s:5.1f} s  sample {sample_s:5.1f} s"
                  f"  min bulk ESS {ess:7.0f}  ESS/s {ess / sample_s:8.0f}")  # fmt: skip
    table = "\n".join(
        f"| {name} | {sampler} | {c:.1f} | {s:.1f} | {e:.0f} | {r:.0f} |"
        for name, sampler, c, s, e, r in rows
    )
    ratios = []
    for name in models(n, y):
        by = {row[1]: row for row in rows if row[0] == name}
        if {"nutpie", "pymc"} <= by.keys():
            ratios.append(
                f"| {name} | {by['pymc'][3] / by['nutpie'][3]:.1f}x "
                f"| {by['nutpie'][5] / by['pymc'][5]:.1f}x |"
            )
    body = (
        "## Samplers: nutpie against PyMC's NUTS\n\n"
        "5000 tuning steps + 5000 draws x 4 chains on the shipped data. Seconds; ESS is the "
        "smallest bulk ESS over the parameters.\n\n"
        "| model | sampler | compile s | sample s | min bulk ESS | ESS per s |\n"
        f"|---|---|---:|---:|---:|---:|\n{table}\n"
    )
    if "nutpie" in args.samplers:
        body += f"\nnutpie's first compile in a process (Numba's own warm-up): {warm:.1f} s.\n"
    if ratios:
        body += (
            "\n| model | sampling time, PyMC / nutpie | ESS per s, nutpie / PyMC |\n"
            "|---|---:|---:|\n" + "\n".join(ratios) + "\n"
        )
    write_section("samplers", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The hierarchical model on synthetic data with many groups: time and ESS per second.

Two forms of the model: theta integrated out (``BetaBinomial`` likelihood, two parameters
whatever the number of groups), and the model as written (one ``theta`` per group). Groups
with identical ``(trials, successes)`` contribute identical terms to the integrated-out
likelihood, so that form can fold them into one term per distinct pair, weighted by its
count; it is run both folded and unfolded, and each row says which. The unfolded and
as-written forms stop at 10,000 groups. The data: trials ``1 + Poisson(20)`` and rates from
``Beta(8, 2)``, with a fixed seed.

Usage: ``python benchmarks/scale.py [--sizes 10 1000 10000 100000] [--backend numba|jax]``
"""

from __future__ import annotations

import argparse
import sys
import time

import arviz as az
import numpy as np
import pymc as pm
from common import write_section
from pymc.distributions.transforms import log_exp_m1

SETTINGS = {"draws": 1000, "tune": 1000, "chains": 4}
# Largest sizes for the forms whose cost grows with the number of groups: beyond them a run
# takes many minutes and says nothing new.
AS_WRITTEN_MAX = UNFOLDED_MAX = 10_000


def synthetic(n_groups: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Trials and successes of ``n_groups`` synthetic groups."""
    rng = np.random.default_rng(seed)
    trials = 1 + rng.poisson(20, n_groups)
    return trials, rng.binomial(trials, rng.beta(8, 2, n_groups))


def integrated_out(trials, successes, fold: bool) -> tuple[pm.Model, int]:
    """The BetaBinomial form; returns the model and its number of likelihood terms."""
    weights = np.ones(len(trials))
    if fold:
        pairs, weights = np.unique(np.c_[trials, successes], axis=0, return_counts=True)
        trials, successes = pairs[:, 0], pairs[:, 1]
    with pm.Model() as model:
        alpha = pm.HalfNormal("alpha", 10, default_transform=log_exp_m1)
        beta = pm.HalfNormal("beta", 10, default_transform=log_exp_m1)
        terms = pm.logp(pm.BetaBinomial.dist(alpha=alpha, beta=beta, n=trials), successes)
        pm.Potential("y", (weights * terms).sum())
    return model, len(trials)


def as_written(trials, successes) -> tuple[pm.Model, int]:
    with pm.Model() as model:
        alpha, beta = pm.HalfNormal("alpha", 10), pm.HalfNormal("beta", 10)
        theta = pm.Beta("theta", alpha, beta, shape=len(trials))
        pm.Binomial("y", n=trials, p=theta, observed=successes)
    return model, len(trials)


def fit(model: pm.Model, backend: str, seed: int) -> dict[str, float]:
    import nutpie

    options = {"backend": backend, "gradient_backend": "jax" if backend == "jax" else "pytensor"}
    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model, **options)
    compiled_at = time.perf_counter()
    idata = nutpie.sample(compiled, seed=seed, progress_bar=False, **SETTINGS)
    done = time.perf_counter()
    ess = az.ess(idata.posterior[["alpha", "beta"]], method="bulk")
    ess = float(min(ess["alpha"], ess["beta"]))
    return {
        "compile": compiled_at - start,
        "sample": done - compiled_at,
        "ess": ess,
        "divergences": int(idata.sample_stats["diverging"].sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1_000, 10_000, 100_000])
    parser.add_argument("--backend", choices=["numba", "jax"], default="numba")
    parser.add_argument("--seed", type=int, default=20240129)
    args = parser.parse_args(argv)
    if args.backend == "jax":
        try:
            import jax  # noqa: F401
        except ImportError:
            print("scale: --backend jax needs JAX: pip install jax (jax[cuda12] on a GPU)")
            return 2
    import nutpie

    nutpie.compile_pymc_model(as_written(*synthetic(2, 0))[0], backend=args.backend)  # warm-up
    rows = []
    for size in args.sizes:
        trials, successes = synthetic(size, args.seed)
        forms = [("theta integrated out, folded", *integrated_out(trials, successes, fold=True))]
        if size <= UNFOLDED_MAX:
            forms.append(
                ("theta integrated out, not folded", *integrated_out(trials, successes, False))
            )
        if size <= AS_WRITTEN_MAX:
            forms.append(("as written (theta per group)", *as_written(trials, successes)))
        for form, model, terms in forms:
            start = time.perf_counter()
            result = fit(model, args.backend, args.seed)
            total = time.perf_counter() - start
            rows.append((size, form, terms, total, result))
            print(
                f"{size:>7} groups  {form:34s} terms {terms:>7}  total {total:6.1f} s  "
                f"compile {result['compile']:5.1f} s  sample {result['sample']:6.1f} s  "
                f"ESS/s {result['ess'] / result['sample']:8.0f}  "
                f"divergences {result['divergences']}",
                flush=True,
            )
    table = "\n".join(
        f"| {size:,} | {form} | {terms:,} | {total:.1f} | {r['compile']:.1f} | {r['sample']:.1f} "
        f"| {r['ess']:.0f} | {r['ess'] / r['sample']:.0f} | {r['divergences']} |"
        for size, form, terms, total, r in rows
    )
    write_section(
        f"scale-{args.backend}",
        f"## Scale: the hierarchical model with many groups ({args.backend} backend)\n\n"
        "nutpie, 1000 tuning steps + 1000 draws x 4 chains; seconds; ESS is the smaller bulk "
        "ESS of alpha and beta. Folded: one likelihood term per distinct (trials, successes) "
        "pair, weighted by its count.\n\n"
        "| groups | form | likelihood terms | total s | compile s | sample s | min bulk ESS "
        "| ESS per s | divergences |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|\n"
        f"{table}\n",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

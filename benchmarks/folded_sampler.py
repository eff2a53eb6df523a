"""The population's NUTS fit on folded counts: PyTensor compiled per table, or one Numba function.

``pooling.folded.fit_prior`` (``make estimates`` and notebook 6) fits ``(alpha, beta)`` on the
folded likelihood. Two ways, on the real career batting table and on 10^5 synthetic groups
(``groups.synthetic_csv``, seed 2), at notebook 3's settings (4 chains of 5000 tuning steps
and 5000 draws, target acceptance 0.95, the mass matrix of ``pooling.scale``):

- ``prior_model`` compiled by nutpie (PyTensor's Numba backend, the data compiled in as
  constants: a compile per table);
- ``FoldedPrior``: one Numba function, anchored at the posterior mode, reached through
  nutpie's ``from_pyfunc``, with its chains on one core and on every core.

Each gives the smallest bulk ESS of alpha and beta and the posterior means, which must agree
with the exact grid's within 4 Monte Carlo standard errors. Writes the ``folded_sampler``
section of RESULTS.md (``make bench BENCH=folded_sampler``, about two minutes).
"""

from __future__ import annotations

import math
import sys
import time

import arviz as az
import nutpie
import pandas as pd
from common import write_section
from groups import real_and_synthetic_pairs

from pooling import checks, exact, folded, scale
from pooling.fits import CompiledSampler, model_variables

SETTINGS = {"draws": 5000, "tune": 5000, "chains": 4, "target_accept": 0.95, "seed": 1}
SIGMA = 10.0


def compiled(pairs: pd.DataFrame, mass_matrix: str):
    """nutpie on ``prior_model``: (seconds to compile, seconds to sample, idata)."""
    model = folded.prior_model(pairs, SIGMA)
    start = time.perf_counter()
    sampler = CompiledSampler(model, "nutpie", mass_matrix)
    built = time.perf_counter()
    idata = sampler.sample(**SETTINGS)
    return built - start, time.perf_counter() - built, model_variables(idata, model)


def numba_function(pairs: pd.DataFrame, mass_matrix: str, cores: int):
    """nutpie on ``FoldedPrior`` on ``cores`` cores: (seconds to find the mode and expand,
    seconds to sample, idata)."""
    start = time.perf_counter()
    prior = folded.FoldedPrior(pairs, SIGMA)
    built = time.perf_counter()
    sample = nutpie.sample
    # The chains' cores, which FoldedPrior.sample fixes at one.
    nutpie.sample = lambda *args, **kwargs: sample(*args, **{**kwargs, "cores": cores})
    try:
        idata = prior.sample(mass_matrix=mass_matrix, **SETTINGS)
    finally:
        nutpie.sample = sample
    return built - start, time.perf_counter() - built, idata


def main() -> int:
    # Numba compiles (or loads) the folded functions once per process: not timed below.
    tables = real_and_synthetic_pairs()
    warm = next(iter(tables.values())).iloc[:50]
    folded.FoldedPrior(warm, SIGMA).value_and_gradient([0.0, 0.0])
    rows = []
    for name, pairs in tables.items():
        groups = int(pairs["count"].sum())
        mass_matrix = scale.mass_matrix(groups)
        reference = exact.HierarchicalPosterior(pairs, sigma=SIGMA).summary([])
        reference = reference.loc[["alpha", "beta", "mu"]]
        runs = {
            "PyTensor, compiled per table": lambda p=pairs, m=mass_matrix: compiled(p, m),
            "Numba function, 1 core": lambda p=pairs, m=mass_matrix: numba_function(p, m, 1),
            "Numba function, 2 cores": lambda p=pairs, m=mass_matrix: numba_function(p, m, 2),
        }
        for form, run in runs.items():
            setup, sampling, idata = run()
            agreement = checks.assert_matches_exact(idata, reference)
            ess = az.ess(idata, var_names=["alpha", "beta"], method="bulk")
            worst = min(float(ess[v]) for v in ("alpha", "beta"))
            steps = 2 * float(idata.sample_stats["n_steps"].sum())
            rows.append(
                f"| {name} | {groups:,} | {len(pairs):,} | {form} | {setup:.1f} | "
                f"{sampling:.1f} | {sampling / steps * 1e6:.0f} | {worst:.0f} | "
                f"{'yes' if agreement['ok'].all() else 'NO'} |"
            )
            print(rows[-1], flush=True)
            assert math.isfinite(worst)
    write_section(
        "folded_sampler",
        "## The population's fit on folded counts (`make bench BENCH=folded_sampler`)\n\n"
        "`pooling.folded.fit_prior`'s NUTS fit of `(alpha, beta)`, 4 chains of 5000 tuning "
        "steps and 5000 draws, target acceptance 0.95 (`benchmarks/folded_sampler.py`). "
        "Set-up: nutpie's compile of `prior_model` (the data compiled in; a process's first "
        "compile, that of the first table here and of every `make estimates`, also types "
        "PyTensor's Numba functions), or `FoldedPrior`'s mode and Taylor coefficients "
        "(Numba's functions loaded beforehand). Microseconds per step: sampling time "
        "over leapfrog steps (tuning counted as many as draws). Exact: every posterior mean "
        "and quantile within 4 MCSE of the grid's.\n\n"
        "| table | groups | distinct pairs | form | set-up s | sample s | us per step | "
        "min bulk ESS | exact |\n|---|---:|---:|---|---:|---:|---:|---:|---|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

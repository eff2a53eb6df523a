"""Which mass matrix NUTS should adapt for notebook 3's fits: diagonal or low rank.

Fits notebook 3's two hierarchical models (as written, with a theta per fitted group, and with
theta integrated out) as the notebook builds them (``pooling.scale.split``: past
``pooling.scale.MANY`` groups, the listed groups' rates and the others in closed form), at the
notebook's settings, with nutpie's diagonal mass matrix and with its low-rank update
(``pooling.fits.MASS_MATRICES``). Reports the wall time, the mean leapfrog steps per draw, the
smaller bulk ESS of alpha and beta and the divergences, on a classic table (rat tumours, 71
groups), the real career batting table (17,593 players) and 20,000 synthetic groups. Writes
the ``mass_matrix`` section of RESULTS.md (about 8 minutes): ``make bench BENCH=mass_matrix``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import arviz as az
import pymc as pm
from common import ROOT, write_section
from groups import REAL, SYNTHETIC_COLUMNS, synthetic_csv

from pooling import scale
from pooling.data import load_groups
from pooling.fits import MASS_MATRICES, CompiledSampler

DRAWS = TUNE = 5000  # notebook 3's settings
CHAINS = 4
#: Notebook 3's TARGET_ACCEPT and MARGINAL_TARGET_ACCEPT.
TARGET_ACCEPT = {"as written": 0.98, "theta integrated out": 0.95}


def models(groups) -> dict[str, pm.Model]:
    """Notebook 3's two models of ``groups`` (with scale.split's fitted groups and others)."""
    fitted, others = scale.split(groups, "hierarchical")
    n, y = fitted["trials"].to_numpy(), fitted["successes"].to_numpy()
    out = {}
    for name in TARGET_ACCEPT:
        with pm.Model() as model:
            alpha, beta = pm.HalfNormal("alpha", sigma=10.0), pm.HalfNormal("beta", sigma=10.0)
            if name == "as written":
                theta = pm.Beta("theta", alpha=alpha, beta=beta, shape=len(n))
                pm.Binomial("y", n=n, p=theta, observed=y)
            else:
                pm.BetaBinomial("y", alpha=alpha, beta=beta, n=n, observed=y)
            others.beta_binomial_likelihood(alpha, beta)
        out[name] = model
    return out


def fit(model: pm.Model, target_accept: float, mass_matrix: str) -> dict[str, float]:
    """Sample once; time, leapfrogs per draw, the smaller bulk ESS of alpha, beta, divergences."""
    sampler = CompiledSampler(model, "nutpie", mass_matrix)
    start = time.perf_counter()
    idata = sampler.sample(draws=DRAWS, tune=TUNE, chains=CHAINS, target_accept=target_accept,
                           seed=1)  # fmt: skip
    seconds = time.perf_counter() - start
    ess = az.ess(idata, var_names=["alpha", "beta"])
    stats = idata.sample_stats
    return {
        "seconds": seconds,
        "steps": float(stats["n_steps"].mean()),
        "ess": min(float(ess["alpha"]), float(ess["beta"])),
        "divergent": int(stats["diverging"].sum()),
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mass-matrix-") as scratch:
        synthetic = Path(scratch) / "synthetic.csv"
        synthetic_csv(20_000, 2, synthetic)
        tables = {
            "rat tumours": load_groups(ROOT / "data" / "rat_tumours.csv", group="experiment",
                                       trials="rats", successes="tumours"),
            "career batting": load_groups(REAL, group="player", trials="at_bats",
                                          successes="hits"),
            "20,000 synthetic": load_groups(synthetic, **dict(zip(
                ("group", "trials", "successes"), SYNTHETIC_COLUMNS, strict=True))),
        }  # fmt: skip
    rows = []
    for table, groups in tables.items():
        for name, model in models(groups).items():
            for mass_matrix in MASS_MATRICES:
                r = fit(model, TARGET_ACCEPT[name], mass_matrix)
                print(table, name, mass_matrix, r, flush=True)
                rows.append(
                    f"| {table} | {len(groups):,} | {name} | {mass_matrix} | {r['seconds']:.1f} "
                    f"| {r['steps']:.1f} | {r['ess']:.0f} | {r['ess'] / r['seconds']:.0f} "
                    f"| {r['divergent']} |"
                )
    write_section(
        "mass_matrix",
        "## The mass matrix of notebook 3's fits (`make bench BENCH=mass_matrix`)\n\n"
        f"Notebook 3's two models, {TUNE} tuning steps and {DRAWS} draws in each of {CHAINS} "
        f"chains, target_accept {TARGET_ACCEPT['as written']} as written and "
        f"{TARGET_ACCEPT['theta integrated out']} with theta integrated out; past "
        f"`pooling.scale.MANY` ({scale.MANY}) groups the listed groups' rates and the others "
        "in closed form, as the notebook fits them. Diagonal: nutpie's default; low rank: "
        "its low-rank update (`adaptation='low_rank'`). ESS: the smaller bulk ESS "
        "of alpha and beta.\n\n"
        "| data | groups | model | mass matrix | seconds | leapfrogs per draw | ESS "
        "| ESS per second | divergences |\n|---|---:|---|---|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

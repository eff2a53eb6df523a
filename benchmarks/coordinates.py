"""Sampling coordinates for the hierarchical fit with theta integrated out: divergences across data.

``make bench BENCH=coordinates`` (about 10 minutes). The model is notebook 03's,

    alpha, beta ~ HalfNormal(10),   y_i ~ BetaBinomial(N_i, alpha, beta),

sampled by nutpie in each candidate's coordinates. A transform changes only where NUTS moves,
never the posterior, so what separates the candidates is how often the sampler diverges and
how fast it runs. Each candidate is compiled once and refitted with ``with_data`` on

- the classic tables shipped in ``data/`` (SpaceX, rat tumours, Efron & Morris's baseball
  hits, Spiegelhalter's cardiac-surgery deaths), 3 seeds each at the notebook's settings
  (5000 + 5000 draws x 4 chains);
- data simulated from the prior with the shipped and the baseball trials (what the
  calibration notebook 05 fits), 1000 + 1000 draws x 4 chains;
- synthetic populations, tight to loose (kappa = alpha + beta from 1 to 1000) with means near
  0, at 0.5 and near 1, 20 groups with 5 to 200 trials, same settings.

The table written to ``RESULTS.md`` gives, per candidate and family, the fits with at least
one divergence, the divergent transitions in all and the median seconds per fit.

The shipped tables are also fitted under notebook 03's ten times wider hyperprior
(HalfNormal(100)), as its sensitivity section refits them.

The result chose notebook 03's coordinates and ``MARGINAL_TARGET_ACCEPT``. With nutpie 0.16.8
PyMC's log transform at 0.9 was the only candidate with no divergent transition; with nutpie
0.16.11 it diverged 6 times in 1.4 million transitions there, and two candidates never did: the
log transform at 0.95 and the joint ``(logit mu, log kappa)`` coordinates
(:class:`MeanConcentration`, the coordinates of BDA3 section 5.3) at 0.9. The notebook keeps
PyMC's own coordinates, which a reader can copy, at 0.95.
"""

from __future__ import annotations

import time

import numpy as np
import nutpie
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from common import shipped_groups, write_section
from pymc.distributions.transforms import log, log_exp_m1
from pymc.logprob.transforms import Transform

SEED = 20240129
#: The classic tables of data/ (file stems).
TABLES = ("spacex_launches", "rat_tumours", "baseball_hits", "surgical_mortality")
#: name: (coordinates, target_accept, nutpie options)
CANDIDATES = {
    "log, 0.8": ("log", 0.8, {}),
    "log, 0.9": ("log", 0.9, {}),
    "log, 0.95": ("log", 0.95, {}),
    "softplus, 0.8": ("softplus", 0.8, {}),
    "softplus, 0.9": ("softplus", 0.9, {}),
    "(logit mu, log kappa), 0.8": ("mean_concentration", 0.8, {}),
    "(logit mu, log kappa), 0.9": ("mean_concentration", 0.9, {}),
    "(logit mu, log kappa), 0.8, low-rank mass matrix": (
        "mean_concentration",
        0.8,
        {"adaptation": "low_rank"},
    ),
}
PRIOR_DATA = 100  # prior-simulated data sets per trials vector
PRIOR_SCALE, WIDE_PRIOR_SCALE = 10.0, 100.0  # notebook 03's hyperprior, and its sensitivity refit
MUS, KAPPAS = (0.03, 0.5, 0.97), (1.0, 10.0, 100.0, 1000.0)


class MeanConcentration(Transform):
    """Map a pair ``(alpha, beta) > 0`` to ``(logit mu, log kappa)`` (PyMC ``Transform``).

    For a variable whose last axis holds ``(alpha, beta)``, e.g.
    ``pm.HalfNormal("alpha_beta", sigma=10, shape=2, default_transform=MeanConcentration())``.
    The prior stays the one declared; PyMC adds the log Jacobian of the inverse map,

        log |d(alpha, beta) / d(logit mu, log kappa)| = 2 log kappa + log mu + log(1 - mu).
    """

    name = "mean_concentration"
    ndim_supp = 1

    def forward(self, value, *inputs):
        """``(alpha, beta)`` -> ``(logit mu, log kappa)``."""
        alpha, beta = value[..., 0], value[..., 1]
        return pt.stack([pt.log(alpha) - pt.log(beta), pt.log(alpha + beta)], axis=-1)

    def backward(self, value, *inputs):
        """``(logit mu, log kappa)`` -> ``(alpha, beta)``."""
        logit_mu, kappa = value[..., 0], pt.exp(value[..., 1])
        return pt.stack([kappa * pt.sigmoid(logit_mu), kappa * pt.sigmoid(-logit_mu)], axis=-1)

    def log_jac_det(self, value, *inputs):
        """Log absolute Jacobian determinant of :meth:`backward`, one per pair."""
        logit_mu, log_kappa = value[..., 0], value[..., 1]
        # log mu + log(1 - mu), written with softplus so that it stays finite for any logit
        return 2 * log_kappa - pt.softplus(-logit_mu) - pt.softplus(logit_mu)


def marginal_model(trials, successes, coordinates: str) -> pm.Model:
    """Notebook 03's model with theta integrated out, in the given sampling coordinates (the
    hyperprior's scale a container, as in the notebook)."""
    with pm.Model() as model:
        n = pm.Data("trials", np.asarray(trials))
        y = pm.Data("successes", np.asarray(successes))
        sigma = pm.Data("prior_scale", PRIOR_SCALE)
        if coordinates == "mean_concentration":
            pair = pm.HalfNormal("alpha_beta", sigma=sigma, shape=2,
                                 default_transform=MeanConcentration())  # fmt: skip
            alpha, beta = pair[0], pair[1]
        else:
            transform = {"log": log, "softplus": log_exp_m1}[coordinates]
            alpha = pm.HalfNormal("alpha", sigma=sigma, default_transform=transform)
            beta = pm.HalfNormal("beta", sigma=sigma, default_transform=transform)
        pm.BetaBinomial("y", alpha=alpha, beta=beta, n=n, observed=y)
    return model


def data_sets() -> list[tuple[str, np.ndarray, np.ndarray, int, int, float]]:
    """(family, trials, successes, draws, seeds, prior scale) for every data set, in a fixed
    order."""
    rng = np.random.default_rng(SEED)
    out = []
    tables = {}
    for name in TABLES:
        groups = shipped_groups(name)
        tables[name] = groups["trials"].to_numpy()
        for scale, label in ((PRIOR_SCALE, ""), (WIDE_PRIOR_SCALE, ", HalfNormal(100)")):
            out.append((f"table: {name}{label}", tables[name], groups["successes"].to_numpy(),
                        5000, 3, scale))  # fmt: skip
    for name in ("spacex_launches", "baseball_hits"):
        n = tables[name]
        for _ in range(PRIOR_DATA):
            alpha, beta = np.abs(rng.normal(0, 10, size=2))
            theta = rng.beta(alpha, beta, size=n.size)
            out.append((f"prior, trials of {name}", n, rng.binomial(n, theta), 1000, 1,
                        PRIOR_SCALE))  # fmt: skip
    n = np.unique(np.geomspace(5, 200, 20).round().astype(int))
    n = np.resize(n, 20)
    for mu in MUS:
        for kappa in KAPPAS:
            theta = rng.beta(mu * kappa, (1 - mu) * kappa, size=n.size)
            family = f"population mu={mu}, kappa={kappa:g}"
            out.append((family, n, rng.binomial(n, theta), 1000, 2, PRIOR_SCALE))
    return out


def run() -> pd.DataFrame:
    rows = []
    sets = data_sets()
    for name, (coordinates, target_accept, options) in CANDIDATES.items():
        compiled = nutpie.compile_pymc_model(marginal_model(*sets[0][1:3], coordinates))
        for family, trials, successes, draws, seeds, scale in sets:
            fit = compiled.with_data(trials=trials, successes=successes, prior_scale=scale)
            for seed in range(seeds):
                start = time.perf_counter()
                idata = nutpie.sample(
                    fit, draws=draws, tune=draws, chains=4, target_accept=target_accept,
                    seed=SEED + seed, progress_bar=False, **options,
                )  # fmt: skip
                rows.append({
                    "candidate": name, "family": family,
                    "divergent": int(idata.sample_stats["diverging"].sum()),
                    "transitions": int(idata.sample_stats["diverging"].size),
                    "seconds": time.perf_counter() - start,
                })  # fmt: skip
        print(name, "done", flush=True)
    return pd.DataFrame(rows)


def family_group(family: str) -> str:
    """Coarser families for the table: mu near 0 / 0.5 / near 1 and tight / loose."""
    if not family.startswith("population"):
        return family
    mu, kappa = (float(part.split("=")[1]) for part in family.split(" ", 1)[1].split(", "))
    where = "mean near 0" if mu < 0.1 else "mean near 1" if mu > 0.9 else "mean 0.5"
    return f"population, {where}, {'loose' if kappa <= 10 else 'tight'}"


def table(results: pd.DataFrame) -> str:
    results = results.assign(family=results["family"].map(family_group))
    grouped = results.groupby(["family", "candidate"], sort=False)
    summary = grouped.agg(
        fits=("divergent", "size"),
        fits_diverging=("divergent", lambda d: int((d > 0).sum())),
        divergent=("divergent", "sum"),
        transitions=("transitions", "sum"),
        seconds=("seconds", "median"),
    ).reset_index()
    totals = (
        results.groupby("candidate", sort=False)
        .agg(
            fits=("divergent", "size"),
            fits_diverging=("divergent", lambda d: int((d > 0).sum())),
            divergent=("divergent", "sum"),
            transitions=("transitions", "sum"),
            seconds=("seconds", "median"),
        )
        .reset_index()
        .assign(family="**all**")
    )
    lines = [
        "| data | coordinates, target_accept | fits with divergences | divergent transitions "
        "| median s per fit |",
        "|---|---|---|---|---|",
    ]
    for row in pd.concat([summary, totals]).itertuples():
        lines.append(
            f"| {row.family} | {row.candidate} | {row.fits_diverging} of {row.fits} "
            f"| {row.divergent} of {row.transitions:,} | {row.seconds:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    start = time.perf_counter()
    results = run()
    minutes = (time.perf_counter() - start) / 60
    totals = results.groupby("candidate", sort=False)["divergent"].sum()
    clean = ", ".join(f"`{name}`" for name in totals.index[totals == 0]) or "none"
    body = f"""## Coordinates of the hierarchical fit (`make bench BENCH=coordinates`)

Notebook 03's model with theta integrated out, `alpha, beta ~ HalfNormal(10)`, sampled by
nutpie in each candidate's coordinates (same posterior, other coordinates): divergences on the
classic tables in `data/` under it and under the notebook's wider HalfNormal(100) (3 seeds,
5000 + 5000 draws x 4 chains, the notebook's settings),
on {PRIOR_DATA} data sets simulated from the prior for each of two trials vectors, and on
synthetic populations of 20 groups (5-200 trials; mu 0.03 / 0.5 / 0.97, kappa 1 and 10 loose,
100 and 1000 tight; 2 seeds; 1000 + 1000 draws x 4 chains). Whole benchmark: {minutes:.1f} min.

{table(results)}

Candidates with no divergent transition at all: {clean}.
"""
    write_section("coordinates", body)
    print(body)

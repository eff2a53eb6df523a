"""How often the estimates runs' exact checks fail a correct fit that averages few draws.

Past ``MIXTURE_BUDGET / MIN_DRAWS`` distinct pairs (40,000), every pair's mixture averages
only ``MIN_DRAWS`` (50) draws of the population, and the checks against the exact grid
measure each error in the Monte Carlo error of those draws. On synthetic tables of 10^5 and
10^6 groups (``groups.synthetic_csv``, seed 2), fitted as ``make estimates`` fits them
(three seeds), every evenly spaced set of the check's size, shifted by 0 to 79 draws, is one
replicate of the estimates a run could have written. For each: the listed pairs' check (36
means and quantiles) and, at 10^5 with ``log_trials``, the regression's check of every
row's mean, with the MCSE from the kept draws' own ESS and the normal's tolerance (as
before), and as the checks take it now (``checks.kept_draws_ess``, Student's t). Both are
meant to fail a correct fit at most ``FAMILY_FALSE_ALARM`` of the time. Writes the
``mixture_check`` section of RESULTS.md (``make bench BENCH=mixture_check``, about 2 minutes).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from common import write_section
from groups import synthetic_pairs
from scipy import special, stats

from pooling import checks, estimates, folded, scale, selection
from pooling.mcse import mcse_and_ess_of_means
from pooling.pipeline.run import _RegressionFit, defaults
from pooling.pipeline.side import exchangeable

#: Shifts of the evenly spaced draws: each gives one replicate.
SHIFTS = 80
#: Fits of each table (seeds from the run's default on).
FITS = 3


def shifted(n_draws: int, kept: int) -> list[np.ndarray]:
    """Evenly spaced sets of ``kept`` draws, each shifted by one more draw."""
    base = np.linspace(0, n_draws - SHIFTS, kept).round().astype(int)
    return [base + shift for shift in range(SHIFTS)]


def listed_check(pairs: pd.DataFrame, settings: dict, seed: int) -> pd.DataFrame:
    """The listed pairs' check at every shift: the largest error over its tolerance, both
    ways (:func:`_worst`)."""
    idata = folded.fit_prior(
        pairs, sigma=settings["PRIOR_SCALE"], seed=seed, draws=settings["DRAWS"],
        tune=settings["TUNE"], chains=settings["CHAINS"],
        target_accept=settings["MARGINAL_TARGET_ACCEPT"],
        mass_matrix=scale.mass_matrix(int(pairs["count"].sum())),
    )  # fmt: skip
    listed = pairs.index[selection.select_groups(pairs)]
    summary = exchangeable(pairs, settings["PRIOR_SCALE"], listed)
    alpha = idata.posterior["alpha"].to_numpy().ravel()
    beta = idata.posterior["beta"].to_numpy().ravel()
    kept = estimates.mixture_draws(alpha.size, len(pairs)).size
    ess = checks.kept_draws_ess(idata, kept)
    y = pairs.loc[listed, "successes"].to_numpy(float)
    f = pairs.loc[listed, "trials"].to_numpy(float) - y
    rows = []
    for used in shifted(alpha.size, kept):
        table = estimates.hierarchical(pairs.loc[listed], alpha[used], beta[used])
        a, b = alpha[used, None] + y, beta[used, None] + f
        # Each estimate is the mean over the draws of these (the quantiles' over the density).
        values = {"mean": a / (a + b)} | {
            column: special.betainc(a, b, table[column].to_numpy())
            / stats.beta(a, b).pdf(table[column].to_numpy()).mean(axis=0)
            for column in ("q03", "q97")
        }  # fmt: skip
        error = np.concatenate(
            [
                np.abs(
                    table[column].to_numpy()
                    - summary.loc[[f"theta[{name}]" for name in listed], column].to_numpy()
                )
                for column in values
            ]
        )
        rows.append(_worst(error, np.concatenate(list(values.values()), axis=1), ess))
    return pd.DataFrame(rows)


def means_check(pairs: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """The regression's check of every row's mean (``log_trials``) at every shift."""
    fit = _RegressionFit(pairs, ["log_trials"], settings)
    y, n = fit.rows["successes"].to_numpy(), fit.rows["trials"].to_numpy()
    kept = estimates.mixture_draws(fit.a.size, len(fit.rows)).size
    ess = checks.kept_draws_ess(fit.idata, kept)
    rows = []
    for used in shifted(fit.a.size, kept):
        alpha, beta = fit.population(used)
        alpha, beta = alpha[:, fit.x_of_row], beta[:, fit.x_of_row]
        conditional = (alpha + y) / (alpha + beta + n)
        rows.append(_worst(np.abs(conditional.mean(axis=0) - fit.exact_means), conditional, ess))
    return pd.DataFrame(rows)


def _worst(error: np.ndarray, values: np.ndarray, ess: float) -> dict:
    """The largest error over its tolerance: with the MCSE and ESS of the kept draws
    themselves and the normal's tolerance (as before), and as the checks take them now
    (every draw's ESS, Student's t)."""
    before_se, before_ess = mcse_and_ess_of_means(values[None])
    now_se = values.std(axis=0, ddof=1) / np.sqrt(ess)
    return {"before": float((error / before_se / checks.mcse_tolerance(error.size)).max()),
            "now": float((error / now_se / checks.mcse_tolerance(error.size, ess)).max()),
            "largest_z": float((error / now_se).max()),
            "ess_range": (float(np.nanmin(before_ess)), float(np.nanmax(before_ess)))}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    settings = defaults()
    lines = ["| table | check | replicates | draws | ESS of the kept draws themselves | "
             "fail as before | largest error now (MCSEs) | fail now |",
             "|---|---|---:|---:|---|---:|---:|---:|"]  # fmt: skip
    for size in args.sizes:
        pairs = synthetic_pairs(size)
        kept = estimates.mixture_draws(settings["DRAWS"] * settings["CHAINS"], len(pairs)).size
        runs = {
            "listed pairs (exchangeable)": pd.concat(
                [listed_check(pairs, settings, settings["SEED"] + k) for k in range(FITS)]
            )
        }
        if size == 100_000:
            runs["every row's mean (log_trials)"] = means_check(pairs, settings)
        for check, found in runs.items():
            low, high = np.array(found["ess_range"].tolist()).T
            lines.append(f"| {size:,} groups, {len(pairs):,} pairs | {check} | {len(found)} | "
                         f"{kept} | {low.min():.0f} to {high.max():.0f} | "
                         f"{(found['before'] > 1).sum()} | {found['largest_z'].max():.2f} | "
                         f"{(found['now'] > 1).sum()} |")  # fmt: skip
            print(lines[-1], flush=True)
    write_section(
        "mixture_check",
        "## The exact checks of mixtures over few draws\n\n"
        f"Each replicate is one set of the draws a run averages over ({SHIFTS} shifts of "
        f"them per fit); a correct fit should fail at most {checks.FAMILY_FALSE_ALARM:.1%} "
        "of the time. *As before*: each MCSE from the kept draws' own ESS, the normal's "
        "tolerance. *Now* (`checks.kept_draws_ess`): the kept draws count as independent up "
        "to the smallest ESS of every draw, and the tolerance is Student's t.\n\n"
        + "\n".join(lines),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

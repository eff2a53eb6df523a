"""The folded beta-binomial likelihood: a log Gamma per distinct count, or a log per step.

``log Gamma(x + k) - log Gamma(x)`` summed over groups can be written with one log Gamma per
distinct ``k`` (``pooling.folded.RisingTerms``) or as ``sum_j w_j log(x + j)`` with one log
per ``j`` up to the largest ``k``, ``w_j`` counting the groups with ``k > j``
(``pooling.folded.segments`` mixes the two). Times a leapfrog step of each form under nutpie,
on the real career batting table and on 20,000 synthetic groups, and checks that every form
gives the same log density. Writes the ``folded_terms`` section of RESULTS.md
(``make bench BENCH=folded_terms``, about two minutes).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from common import write_section
from groups import REAL, synthetic_csv

from pooling.folded import LOG_RUN, rising_terms
from pooling.scale import Others

DRAWS = 2000
#: Runs of at most this many terms as logs (pooling.folded.segments); None: log Gamma only.
FORMS = {"log Gamma per distinct count": None, "runs of 1": 1, f"runs of {LOG_RUN}": LOG_RUN,
         "runs of 10": 10, "runs of 30": 30, "runs of 100": 100, "logs only": 10**9}  # fmt: skip


def models(groups: pd.DataFrame) -> dict[str, pm.Model]:
    """The prior and the folded likelihood in each form."""
    out = {}
    for form, longest in FORMS.items():
        with pm.Model() as model:
            alpha, beta = pm.HalfNormal("alpha", 10), pm.HalfNormal("beta", 10)
            if longest is None:
                terms = rising_terms(groups)
                pm.Potential("others", terms.log_likelihood(alpha, beta, pt.gammaln))
            else:
                Others(groups).beta_binomial_likelihood(alpha, beta, longest)
        out[form] = model
    return out


def per_step(model: pm.Model, point: dict) -> tuple[float, float]:
    """Log density at ``point`` and microseconds per leapfrog step of nutpie's NUTS."""
    import nutpie

    compiled = nutpie.compile_pymc_model(model)
    start = time.perf_counter()
    idata = nutpie.sample(compiled, draws=DRAWS, tune=DRAWS // 2, chains=1, seed=1,
                          progress_bar=False)  # fmt: skip
    seconds = time.perf_counter() - start
    steps = int(idata.sample_stats["n_steps"].sum())
    return float(model.compile_logp()(point)), seconds / steps * 1e6


def main() -> int:
    tables = {"career batting": pd.read_csv(REAL).set_axis(["group", "trials", "successes"],
                                                            axis=1)}  # fmt: skip
    synthetic = Path("folded_terms_synthetic.csv")
    synthetic_csv(20_000, 2, synthetic)
    tables["20,000 synthetic"] = pd.read_csv(synthetic).set_axis(
        ["group", "trials", "successes"], axis=1)  # fmt: skip
    synthetic.unlink()
    rows = []
    point = {"alpha_log__": np.log(8.0), "beta_log__": np.log(2.0)}
    for name, groups in tables.items():
        results = {form: per_step(m, point) for form, m in models(groups).items()}
        reference = results["log Gamma per distinct count"][0]
        for form, (value, _) in results.items():
            assert abs(value - reference) <= 1e-9 * abs(reference), (form, value, reference)
        print(name, {form: round(t) for form, (_, t) in results.items()}, flush=True)
        rows.append(f"| {name} | {len(groups):,} | "
                    + " | ".join(f"{t:.0f}" for _, t in results.values()) + " |")  # fmt: skip
    write_section(
        "folded_terms",
        "## The folded likelihood: log Gammas, logs, or both\n\n"
        "Microseconds per leapfrog step of nutpie's NUTS (one chain, "
        f"{DRAWS} draws after {DRAWS // 2} tuning steps) on the prior and the folded "
        "beta-binomial likelihood (`benchmarks/folded_terms.py`): a log "
        "Gamma per distinct count, or runs of up to L terms between distinct counts as logs "
        "and longer ones as two log Gammas (`pooling.folded.segments`). Every form gives the "
        "same log density to 1e-9.\n\n"
        "| data | groups | " + " | ".join(FORMS) + " |\n"
        "|---|---:|" + "---:|" * len(FORMS) + "\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

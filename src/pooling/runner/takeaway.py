"""``python -m pooling estimates``: the table of estimates alone, for a groups table of any size.

Fold, fit small, expand: the groups are folded to their distinct counts, the population
``Beta(alpha, beta)`` is fitted by NUTS on the folded likelihood (:mod:`pooling.folded`), and
every group's estimates follow from its counts (:mod:`pooling.estimates`). No notebook runs,
and nothing is drawn per group except the joint draws that the ranks need, so the cost is
that of the distinct counts plus a pass over the groups.

The checks are those of the notebooks: R-hat, ESS and divergences of the fit, its
hyperparameters against the exact grid posterior, and the estimates of the listed groups
(:func:`pooling.selection.select_groups`) against the grid. The settings (seed, draws,
tuning, chains, target acceptance, hyperprior scale, threshold) default to those of the
notebooks' ``parameters`` cells, so that both ways give the same fit. The output is built
beside ``out`` and moved into place only when every check has passed.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
import time
from pathlib import Path

from pooling.paths import NOTEBOOKS_DIR
from pooling.runner.own_data import ParameterError, publish, sigterm_as_interrupt

__all__ = ["SETTINGS", "defaults", "run_estimates"]

#: The settings of an estimates run, and the notebook whose parameters cell gives each default.
SETTINGS = {
    "SEED": "03_hierarchical",
    "DRAWS": "03_hierarchical",
    "TUNE": "03_hierarchical",
    "CHAINS": "03_hierarchical",
    "MARGINAL_TARGET_ACCEPT": "03_hierarchical",
    "PRIOR_SCALE": "03_hierarchical",
    "THRESHOLD": "04_model_comparison",
}


def defaults() -> dict:
    """The default of every setting in :data:`SETTINGS`, read from the notebooks' sources."""
    import jupytext
    import papermill

    values = {}
    for stem in sorted(set(SETTINGS.values())):
        declared = papermill.inspect_notebook(jupytext.read(NOTEBOOKS_DIR / f"{stem}.py"))
        for name, stem_of in SETTINGS.items():
            if stem_of == stem:
                values[name] = ast.literal_eval(declared[name]["default"])
    return values


def _say(start: float, text: str) -> None:
    print(f"estimates: {text} ({time.perf_counter() - start:.0f} s)", flush=True)


def run_estimates(data: Path, out: Path, labels: dict[str, str], parameters: dict | None = None):
    """Estimate every group's rate under the three models, writing the tables into ``out``.

    Parameters
    ----------
    data : pathlib.Path
        The groups CSV.
    out : pathlib.Path
        Receives ``estimates.csv`` (one row per group per model) and ``hyperparameters.csv``
        (the population's posterior, its diagnostics and the exact values).
    labels : dict
        Column names: keys ``group``, ``trials``, ``successes``.
    parameters : dict, optional
        Settings of :data:`SETTINGS` to override.

    Returns
    -------
    pathlib.Path
        ``out / "estimates.csv"``.

    Raises
    ------
    pooling.data.DataError
        When the CSV is invalid; nothing has been fitted or written then.
    ParameterError
        When ``parameters`` names a setting this run does not have.
    pooling.checks.CheckFailed
        When a check fails; ``out`` is untouched then.
    """
    import numpy as np

    from pooling import checks, estimates, exact, folded, scale, selection
    from pooling.data import load_groups
    from pooling.results import save_csv

    start = time.perf_counter()
    unknown = sorted(set(parameters or {}) - set(SETTINGS))
    if unknown:
        raise ParameterError(
            f"unknown setting {', '.join(unknown)}; the estimates' settings are "
            f"{', '.join(SETTINGS)}"
        )
    settings = {**defaults(), **(parameters or {})}
    data, out = Path(data).resolve(), Path(out).resolve()
    groups = load_groups(data, **labels)
    pairs, _ = estimates.fold(groups)
    _say(start, f"{len(groups):,} groups, {len(pairs):,} distinct (trials, successes)")
    with sigterm_as_interrupt():
        idata = folded.fit_prior(
            groups, sigma=settings["PRIOR_SCALE"], seed=settings["SEED"],
            draws=settings["DRAWS"], tune=settings["TUNE"], chains=settings["CHAINS"],
            target_accept=settings["MARGINAL_TARGET_ACCEPT"], mass_matrix=scale.mass_matrix(groups),
        )  # fmt: skip
        _say(start, "population fitted")
        convergence = checks.assert_converged(idata, ["alpha", "beta", "mu"])
        divergent = checks.assert_no_divergences(idata)
        listed = groups.index[selection.select_groups(groups)]
        grid = exact.HierarchicalPosterior(groups, sigma=settings["PRIOR_SCALE"])
        exact_summary = grid.summary(listed)
        agreement = checks.assert_matches_exact(idata, exact_summary.loc[["alpha", "beta", "mu"]])
        _say(start, "fit checked against the exact posterior")
        post = idata.posterior
        tables = estimates.every_model(
            groups, post["alpha"], post["beta"], np.random.default_rng(settings["SEED"]),
            settings["THRESHOLD"],
        )  # fmt: skip
        checks.assert_estimates_match_exact(
            tables["hierarchical"].loc[listed], idata, exact_summary, groups
        )
        _say(start, f"estimates of every group; the {len(listed)} listed ones checked")
        hyper = convergence.drop(columns="ok").join(
            agreement[["mean", "exact_mean", "mcse", "q03", "exact_q03", "q97", "exact_q97"]]
        )
        hyper["divergences"] = divergent
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        try:
            save_csv(estimates.estimates_table(tables), "estimates", staging)
            save_csv(hyper.rename_axis("quantity").reset_index(), "hyperparameters", staging)
            publish(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    _say(start, f"written to {out}")
    return out / "estimates.csv"

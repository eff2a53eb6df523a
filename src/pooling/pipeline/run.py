"""``python -m pooling estimates``: the table of estimates alone, for a groups table of any size.

Fold, fit small, expand: the groups are folded to their distinct counts, the population
``Beta(alpha, beta)`` is fitted by NUTS on the folded likelihood (:mod:`pooling.folded`), and
every group's estimates follow from its counts (:mod:`pooling.estimates`). No notebook runs.

The table may come in parts (CSV or Parquet files, a directory or a glob:
:mod:`pooling.pipeline.parts`), read through ``dask.dataframe``. Everything done per group runs
as Dask tasks (:mod:`pooling.pipeline.part_tasks`), on this process's threads or on an existing
cluster (:mod:`pooling.pipeline.cluster`); only what is small comes back here: the folded
counts, the hyperparameters' draws and the listed pairs' estimates. The ranks of the
hierarchical models come from each pair's own rate (:class:`pooling.estimates.RankFunction`):
one task draws the rates of every pair, and tasks of :data:`RANK_CHUNK` pairs search them.

The checks are those of the notebooks: R-hat, ESS and divergences of the fit, its
hyperparameters against the exact grid posterior, and the estimates of the listed pairs
(:func:`pooling.selection.select_groups` of the distinct pairs) against the grid. The
settings (seed, draws, tuning, chains, target acceptance, hyperprior scale, threshold)
default to those of the notebooks' ``parameters`` cells, so that both ways give the same
fit. The output (``estimates.parquet/``, one file per model and part, and
``hyperparameters.csv``) is built beside ``out`` and moved into place only when every check
has passed and every part is written.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from pooling.paths import NOTEBOOKS_DIR
from pooling.runner.own_data import ParameterError, claimed, publish, sigterm_as_interrupt
from pooling.runner.staleness import parameter_defaults

__all__ = ["PAIR_CHUNK", "RANK_CHUNK", "SETTINGS", "defaults", "run_estimates"]

#: Most distinct pairs that one task of the hierarchical model's estimates takes.
PAIR_CHUNK = 100_000
#: Distinct pairs per task of the rank quantiles: a few tasks per worker at 10^5 groups.
RANK_CHUNK = 5_000

#: The settings of an estimates run, and the notebook whose parameters cell gives each default.
SETTINGS = {
    "SEED": "03_hierarchical",
    "DRAWS": "03_hierarchical",
    "TUNE": "03_hierarchical",
    "CHAINS": "03_hierarchical",
    "MARGINAL_TARGET_ACCEPT": "03_hierarchical",
    "PRIOR_SCALE": "03_hierarchical",
    "THRESHOLD": "04_model_comparison",
    "PREDICTORS": None,
    "REGRESSION_DRAWS": ("06_group_predictors", "DRAWS"),
    "REGRESSION_TUNE": ("06_group_predictors", "TUNE"),
}
#: Settings that no notebook's parameters give (notebook 6 always has predictors).
OWN_DEFAULTS = {"PREDICTORS": ""}
#: Replicated data sets behind the check of rates against trials.
CHECK_DRAWS = 1000


def defaults() -> dict:
    """The default of every setting in :data:`SETTINGS`, read from the notebooks' sources."""
    # Each setting's notebook, and its name there when it differs.
    where = {name: (source, name) if isinstance(source, str) else source
             for name, source in SETTINGS.items() if source}  # fmt: skip
    declared = {stem: parameter_defaults(NOTEBOOKS_DIR / f"{stem}.py")
                for stem, _ in where.values()}  # fmt: skip
    return {name: declared[where[name][0]][where[name][1]] if name in where
            else OWN_DEFAULTS[name] for name in SETTINGS}  # fmt: skip


def _say(start: float, text: str) -> None:
    print(f"estimates: {text} ({time.perf_counter() - start:.0f} s)", flush=True)


def _settings(parameters: dict | None) -> dict:
    unknown = sorted(set(parameters or {}) - set(SETTINGS))
    if unknown:
        raise ParameterError(
            f"unknown setting {', '.join(unknown)}; the estimates' settings are "
            f"{', '.join(SETTINGS)}"
        )
    return {**defaults(), **(parameters or {})}


def run_estimates(
    data: Path,
    out: Path,
    labels: dict[str, str],
    parameters: dict | None = None,
    scheduler: str | None = None,
) -> Path:
    """Estimate every group's rate under the three models, writing the tables into ``out``.

    Parameters
    ----------
    data : pathlib.Path or str
        The groups table: a CSV or Parquet file, a directory of them, or a glob.
    out : pathlib.Path
        Receives ``estimates.parquet/`` (the columns of
        :func:`pooling.estimates.estimates_table`, one file per model and part, named so
        that they sort in the table's order: models, then groups in data order) and
        ``hyperparameters.csv`` (the population's posterior, its diagnostics and the exact
        values). With a cluster, every worker must see ``out``'s directory.
    labels : dict
        Column names: keys ``group``, ``trials``, ``successes``.
    parameters : dict, optional
        Settings of :data:`SETTINGS` to override.
    scheduler : str, optional
        A Dask scheduler's address; default this process's threads.

    Returns
    -------
    pathlib.Path
        ``out / "estimates.parquet"``.

    Raises
    ------
    pooling.data.DataError
        When the table is invalid; nothing has been fitted or written then.
    ParameterError
        When ``parameters`` names a setting this run does not have.
    pooling.checks.CheckFailed
        When a check fails; ``out`` is untouched then.
    pooling.pipeline.cluster.ClusterError
        When no scheduler answers at ``scheduler``.
    """
    from pooling import predictors
    from pooling.data import DataError, Labels
    from pooling.pipeline import cluster
    from pooling.pipeline.parts import find_parts
    from pooling.pipeline.side import SideProcess

    start = time.perf_counter()
    settings = _settings(parameters)
    # Checked before anything is read or fitted: the folded counts carry no other columns.
    for name in predictors.parse_names(settings["PREDICTORS"]):
        if name not in predictors.BUILT_IN:
            raise DataError(f"PREDICTORS: predictor {name!r} is not one of the built-in "
                            f"predictors ({', '.join(predictors.BUILT_IN)}), which are all that "
                            "make estimates takes; fix: use those, or run the notebooks "
                            f"(make DATA=... OUT=... PREDICTORS={name}) for a column of the "
                            "table")  # fmt: skip
    out = Path(out).resolve()
    labels = Labels(**{key: value.strip() for key, value in labels.items()})
    parts = find_parts(data)
    with claimed(out), sigterm_as_interrupt(), cluster.connect(scheduler), SideProcess() as side:
        if predictors.parse_names(settings["PREDICTORS"]):  # imported there while it waits
            side.preload("nutpie", "pooling.folded_regression", "pooling.exact.regression",
                         "pooling.checks")  # fmt: skip
        frames, pairs = _read(parts, labels)
        n_groups = _check_size(data, pairs)
        _say(start, f"{n_groups:,} groups in {len(parts)} parts, {len(pairs):,} distinct "
                    "(trials, successes)")  # fmt: skip
        fit = _Fit(pairs, n_groups, settings, side)
        _say(start, "population fitted and checked against the exact posterior")
        if fit.regression is not None:
            _say(start, f"population on {', '.join(fit.regression.design.columns)} fitted and "
                        f"checked{fit.regression.checked}")  # fmt: skip
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        try:
            _write(frames, fit, settings, labels, staging)
            _say(start, f"every group's estimates written; the {len(fit.listed)} listed pairs' "
                        "checked")  # fmt: skip
            publish(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    _say(start, f"written to {out}")
    return out / "estimates.parquet"


def _read(parts, labels):
    """The parts as persisted ``dask.dataframe`` partitions, and their folded counts.

    Raises
    ------
    pooling.data.DataError
        For the earliest part with a problem, or a name that two parts share.
    """
    import dask
    import dask.dataframe as dd
    import pandas as pd

    from pooling.data import DataError
    from pooling.pipeline import part_tasks
    from pooling.pipeline.parts import read_part

    meta = pd.DataFrame({labels.group: pd.Series(dtype=str), "trials": pd.Series(dtype="int64"),
                         "successes": pd.Series(dtype="int64")})  # fmt: skip
    table = dd.from_map(read_part, parts, labels=labels, meta=meta, enforce_metadata=False)
    try:
        table = table.persist()
        frames = table.to_delayed()
        hashes = [dask.delayed(part_tasks.name_hashes)(f, labels.group) for f in frames]
        counts = table.groupby(["trials", "successes"]).size().compute()
        (repeated,) = dask.compute(dask.delayed(part_tasks.repeated)(*hashes))
    except DataError:
        raise _first_problem(parts, labels) from None
    error = _repeated_name(parts, labels, frames, repeated) if len(repeated) else None
    if error:
        raise error
    pairs = counts.rename("count").reset_index().sort_values(["trials", "successes"])
    return frames, pairs.reset_index(drop=True)


def _first_problem(parts, labels):
    """The problem of the earliest part that has one (tasks fail in any order)."""
    import dask

    from pooling.data import DataError
    from pooling.pipeline.part_tasks import problem

    found = dask.compute(*[dask.delayed(problem)(part, labels) for part in parts])
    # None only if the part that failed reads cleanly now (it changed meanwhile).
    first = next((line for line in found if line), None)
    return DataError(first or f"{parts[0].path}: a part changed while it was read; fix: run again")


def _repeated_name(parts, labels, frames, hashes):
    """The first row whose name an earlier row, in another part, already has."""
    import dask

    from pooling.data import DataError
    from pooling.pipeline import part_tasks

    rows = dask.compute(*[dask.delayed(part_tasks.located)(f, labels.group, hashes)
                          for f in frames])  # fmt: skip
    seen = {}
    for part, found in zip(parts, rows, strict=True):
        for row, name in zip(found["row"], found["name"], strict=True):
            where = f"{part.path}: {part.locate(row)}"
            if name in seen:
                return DataError(
                    f"{where}: {labels.group} {name!r} appears more than once (also at "
                    f"{seen[name]}); fix: give every group a distinct name or merge the rows"
                )
            seen[name] = where
    # Equal hashes of different names (a 64-bit collision): nothing repeats.
    return None


def _check_size(data, pairs) -> int:
    """The number of groups, when there are enough of them and every count fits."""
    from pooling.data import MIN_GROUPS, DataError

    n_groups = int(pairs["count"].sum())
    if n_groups < MIN_GROUPS:
        raise DataError(
            f"{data}: {n_groups} group{'s' * (n_groups != 1)} found, at least {MIN_GROUPS} "
            "needed; fix: add a row per group below the header"
        )
    if pairs["trials"].max() >= 2**31:
        raise DataError(f"{data}: a count of 2**31 or more; fix: counts must be below 2**31")
    return n_groups


class _Fit:
    """The population's fit on the folded counts, checked, and what the estimates need of it.

    Attributes
    ----------
    pairs : pandas.DataFrame
        The distinct pairs (``trials``, ``successes``, ``count``), indexed ``"N/y"``.
    idata : xarray.DataTree
    hyper : pandas.DataFrame
        The hyperparameters' summary, diagnostics and exact values.
    exact_summary : pandas.DataFrame
        The grid's summary, with the listed pairs' rates.
    listed : numpy.ndarray
        Positions of the pairs whose estimates are checked against the grid.
    alpha, beta : numpy.ndarray
        The flattened draws.
    """

    def __init__(self, pairs, n_groups: int, settings: dict, side):
        import pandas as pd

        from pooling import checks, folded, predictors, scale, selection
        from pooling.pipeline.side import exchangeable

        labels = pairs["trials"].astype(str) + "/" + pairs["successes"].astype(str)
        self.pairs = pairs.set_index(labels.rename("pair"))
        self.n_groups = n_groups
        self.seed = settings["SEED"]
        names = predictors.parse_names(settings["PREDICTORS"])
        self.listed = selection.select_groups(self.pairs)
        grid = (self.pairs, settings["PRIOR_SCALE"], self.pairs.index[self.listed])
        # The side process (pooling.pipeline.side) takes what would otherwise wait for this
        # one: the regression's fit and grid, or else this model's grid.
        if names:
            regression = side.submit(_RegressionFit, self.pairs, names, settings)
        else:
            exact_summary = side.submit(exchangeable, *grid)
        self.idata = folded.fit_prior(
            self.pairs, sigma=settings["PRIOR_SCALE"], seed=settings["SEED"],
            draws=settings["DRAWS"], tune=settings["TUNE"], chains=settings["CHAINS"],
            target_accept=settings["MARGINAL_TARGET_ACCEPT"],
            mass_matrix=scale.mass_matrix(n_groups),
        )  # fmt: skip
        convergence = checks.assert_converged(self.idata, ["alpha", "beta", "mu"])
        divergent = checks.assert_no_divergences(self.idata)
        self.exact_summary = exchangeable(*grid) if names else exact_summary.get()
        hyper = self.exact_summary.loc[["alpha", "beta", "mu"]]
        agreement = checks.assert_matches_exact(self.idata, hyper)
        self.hyper = convergence.drop(columns="ok").join(
            agreement[["mean", "exact_mean", "mcse", "q03", "exact_q03", "q97", "exact_q97"]]
        )
        self.hyper["divergences"] = divergent
        self.alpha = self.idata.posterior["alpha"].to_numpy().ravel()
        self.beta = self.idata.posterior["beta"].to_numpy().ravel()
        self.regression = regression.get() if names else None
        if self.regression is not None:
            self.hyper = pd.concat([self.hyper, self.regression.hyper])

    def check(self, listed_rows) -> None:
        """The listed pairs' hierarchical estimates against the grid (raises CheckFailed)."""
        from pooling import checks

        rows = listed_rows.set_index(self.pairs.index[self.listed])
        checks.assert_estimates_match_exact(rows, self.idata, self.exact_summary, self.pairs)


class _RegressionFit:
    """The regression model's fit on the folded counts (built-in predictors), checked.

    Built in the side process (:mod:`pooling.pipeline.side`) and sent back whole: what it
    keeps pickles, and its exact grid stays there (only the summary and means come back).

    Attributes
    ----------
    design : pandas.DataFrame
        The pairs' predictors, standardised over the groups.
    a, b, kappa : numpy.ndarray
        The flattened draws (``b``: ``(draws, predictors)``).
    hyper : pandas.DataFrame
        Diagnostics and, with one predictor, the exact values of ``a``, ``b`` and ``kappa``.
    checked : str
        What the exact checks covered, for the progress line.
    """

    def __init__(self, pairs, names: list[str], settings: dict):
        import numpy as np

        from pooling import checks, predictors, regression, selection
        from pooling.exact.regression import RegressionPosterior
        from pooling.folded_regression import FoldedRegression

        self.pairs = pairs
        self.design = predictors.design(pairs, names, "PREDICTORS")
        rows, self.row_of = regression.fold(pairs, self.design)
        self.rows = rows
        folded = FoldedRegression(rows, list(self.design.columns))
        # Notebook 6's settings: a low-rank mass matrix follows the correlation of a and b.
        self.idata = folded.sample(
            draws=settings["REGRESSION_DRAWS"], tune=settings["REGRESSION_TUNE"],
            chains=settings["CHAINS"], target_accept=settings["MARGINAL_TARGET_ACCEPT"],
            seed=settings["SEED"], mass_matrix="low rank",
        )  # fmt: skip
        convergence = checks.assert_converged(self.idata, ["a", "b", "kappa"])
        divergent = checks.assert_no_divergences(self.idata)
        post = self.idata.posterior
        self.a = post["a"].to_numpy().ravel()
        self.b = post["b"].transpose("chain", "draw", ...).to_numpy().reshape(self.a.size, -1)
        self.kappa = post["kappa"].to_numpy().ravel()
        self.hyper = convergence.drop(columns="ok")
        self.hyper["divergences"] = divergent
        #: With one predictor, every folded row's exact mean rate (else None).
        self.exact_means = None
        self.checked = " (more than one predictor: no exact grid to check against)"
        if self.design.shape[1] == 1:
            grid = RegressionPosterior(pairs, self.design, folded=folded)
            self.listed = selection.select_groups(pairs)
            self.exact_summary = grid.summary(pairs.index[self.listed])
            self.exact_means = grid.means(rows)
            agreement = checks.assert_matches_exact(self.idata, self.exact_summary.iloc[:3])
            self.hyper = self.hyper.join(agreement[["mean", "exact_mean", "mcse", "q03",
                                                    "exact_q03", "q97", "exact_q97"]])  # fmt: skip
            self.checked = " against the exact posterior"
        self.hyper.index = [f"{name} (hierarchical_regression)" for name in self.hyper.index]
        # The population differs between predictor rows only: a few thousand with
        # log_trials, however many pairs.
        xs, x_of_row = np.unique(rows[self.design.columns].to_numpy(float), axis=0,
                                 return_inverse=True)  # fmt: skip
        self.x_of_row = x_of_row.ravel()
        #: Each pair's column of :meth:`population`'s arrays.
        self.columns = self.x_of_row[self.row_of]
        self._xs = xs

    def check(self, table) -> None:
        """With one predictor, the listed pairs' estimates and every pair's mean against the
        grid (raises CheckFailed)."""
        from pooling import checks

        if self.exact_means is None:
            return
        from pooling.estimates import mixture_draws

        table = table.set_axis(self.pairs.index)
        listed = table.iloc[self.listed]
        checks.assert_estimates_match_exact(listed, self.idata, self.exact_summary, self.pairs,
                                            self.design)  # fmt: skip
        y, n = self.rows["successes"].to_numpy(), self.rows["trials"].to_numpy()
        # Only the draws that the estimates average over (as the check takes them).
        used = mixture_draws(self.a.size, len(self.rows))
        alpha, beta = self.population(used)
        alpha, beta = alpha[:, self.x_of_row], beta[:, self.x_of_row]
        conditional = (alpha + y) / (alpha + beta + n)
        estimated = table["mean"].groupby(self.row_of).first().to_numpy()
        checks.assert_means_match_exact(estimated, self.exact_means, conditional, self.idata,
                                        used)  # fmt: skip

    def population(self, kept):
        """The population's Beta at the draws ``kept``: ``alpha, beta``, ``(draws, predictor
        rows)``; a pair's is the column :attr:`columns` gives."""
        from pooling import regression

        # Only at the draws asked for: at every draw and row it would cost a second at 10^5.
        mu = regression.means(self._xs, self.a[kept], self.b[kept])
        kappa = self.kappa[kept, None]
        return mu * kappa, (1 - mu) * kappa


def _thinned(n_draws: int, most: int = CHECK_DRAWS):
    """At most ``most`` evenly spaced draws (as :func:`pooling.estimates.rank_function`
    keeps them)."""
    import numpy as np

    return np.linspace(0, n_draws - 1, min(most, n_draws)).round().astype(int)


def _model_checks(fit: _Fit, settings: dict):
    """The check of rates against trials for every model with a population, and a line for
    each that fails."""
    import numpy as np
    import pandas as pd

    from pooling import trials_check
    from pooling.exact import JEFFREYS

    rng = np.random.default_rng([settings["SEED"], 6])
    pairs = fit.pairs.reset_index(drop=True)
    y = pairs["successes"].to_numpy(float)
    f = pairs["trials"].to_numpy(float) - y
    counts = pairs["count"].to_numpy(float)
    rate = rng.beta(JEFFREYS[0] + y @ counts, JEFFREYS[1] + f @ counts, CHECK_DRAWS)
    kept = _thinned(fit.alpha.size)
    tables = {
        "full_pooling": trials_check.check_pairs(pairs, rng, rate=rate),
        "hierarchical": trials_check.check_pairs(pairs, rng, a=fit.alpha[kept, None],
                                                 b=fit.beta[kept, None]),
    }  # fmt: skip
    if fit.regression is not None:
        a, b = fit.regression.population(_thinned(fit.regression.a.size))
        tables["hierarchical_regression"] = trials_check.check_pairs(
            pairs, rng, a=a, b=b, columns=fit.regression.columns
        )
    advice = ("try PREDICTORS=log_trials_cubic" if fit.regression is not None else
              "try PREDICTORS=log_trials")  # fmt: skip
    for model, table in tables.items():
        if table["fails"].any():
            what = advice if model != "full_pooling" else "the hierarchical models pool less"
            print(
                f"estimates: {model} fails the check of rates against trials: it "
                f"{trials_check.verdict(table)}; {what}",
                flush=True,
            )
    combined = pd.concat(tables, names=["model"]).reset_index()
    return combined.assign(verdict=[trials_check.verdict(tables[m]) for m in combined["model"]])


def _pair_tables(fit: _Fit, threshold):
    """Every model's estimates per distinct pair, with the ranks of the hierarchical models,
    as persisted Dask results, and the stated errors of those ranks (Dask results to come)."""
    import dask
    import numpy as np
    import pandas as pd

    from pooling import estimates
    from pooling.pipeline import cluster, part_tasks
    from pooling.pipeline.part_tasks import pair_table, with_q_values

    delayed, pairs = dask.delayed, fit.pairs.reset_index(drop=True)
    counts = pairs["count"].to_numpy()
    used = estimates.mixture_draws(fit.alpha.size, len(pairs))
    alpha, beta = fit.alpha[used], fit.beta[used]
    # Small enough chunks that each averages over every one of those draws.
    chunk = max(min(PAIR_CHUNK, estimates.MIXTURE_BUDGET // len(used)), 1)
    totals = pd.DataFrame({"trials": [int((pairs["trials"] * counts).sum())],
                           "successes": [int((pairs["successes"] * counts).sum())]})  # fmt: skip
    # The pairs are sent once; each task takes its slice of them.
    shared = cluster.shared(pairs[["trials", "successes"]])
    pieces = {
        "no_pooling": ([pair_table, "no_pooling", shared],),
        "full_pooling": ([pair_table, "full_pooling", totals],),
        "hierarchical": tuple([pair_table, "hierarchical", shared, alpha, beta, slice(k, k + chunk)]
                              for k in range(0, len(pairs), chunk)),
    }  # fmt: skip
    reg = fit.regression
    if reg is not None:
        # The draws that its check of every mean takes (mixture_draws of all its rows).
        used = estimates.mixture_draws(reg.a.size, len(reg.rows))
        step = max(min(PAIR_CHUNK, estimates.MIXTURE_BUDGET // len(used)), 1)
        design = cluster.shared(reg.design)
        pieces["hierarchical_regression"] = tuple(
            [part_tasks.regression_table, shared, design, reg.a[used], reg.b[used],
             reg.kappa[used], slice(k, k + step)] for k in range(0, len(pairs), step)
        )  # fmt: skip
    weights = {"full_pooling": np.array([fit.n_groups])}
    tables = {
        model: delayed(with_q_values)(
            weights.get(model, counts),
            *[delayed(task)(*args, threshold=threshold) for task, *args in calls],
        )
        for model, calls in pieces.items()
    }
    kept = _thinned(fit.alpha.size, estimates.RANK_DRAWS)
    populations = {"hierarchical": (fit.alpha[kept], fit.beta[kept], None)}
    if reg is not None:
        # Its own draws: the regression has 06's number of them, not 03's.
        populations["hierarchical_regression"] = (
            *reg.population(_thinned(reg.a.size, estimates.RANK_DRAWS)),
            reg.columns,
        )
    errors = {}
    for model, (a, b, columns) in populations.items():
        function = delayed(part_tasks.rank_function)(shared, counts, a, b, fit.seed, model,
                                                     columns)  # fmt: skip
        ranks = [delayed(part_tasks.rank_chunk)(function, slice(k, k + RANK_CHUNK))
                 for k in range(0, len(pairs), RANK_CHUNK)]  # fmt: skip
        tables[model] = delayed(part_tasks.with_ranks)(tables[model], *ranks)
        errors[model] = delayed(part_tasks.rank_errors)(function)
    return dask.persist(tables, errors)  # together: the rank functions are drawn once


def _write(frames, fit: _Fit, settings: dict, labels, staging: Path) -> None:
    """The pair tables, the ranks and every part's files, as Dask tasks; the checks here."""
    import dask

    from pooling.pipeline import cluster, part_tasks
    from pooling.pipeline.parts import row_keys
    from pooling.results import save_csv

    delayed = dask.delayed
    tables, errors = _pair_tables(fit, settings["THRESHOLD"])
    listed, errors = dask.compute(delayed(part_tasks.rows_at)(tables["hierarchical"], fit.listed),
                                  errors)  # fmt: skip
    fit.check(listed)
    for model, line in errors.items():
        print(f"estimates: {model} ranks {line}", flush=True)
    if fit.regression is not None:
        (table,) = dask.compute(tables["hierarchical_regression"])
        fit.regression.check(table)

    directory = staging / "estimates.parquet"
    directory.mkdir()
    keys = cluster.shared(row_keys(fit.pairs))  # sent once, not once per part
    dask.compute(*[
        delayed(part_tasks.write_part)(frame, i, labels.group, keys, tables, str(directory))
        for i, frame in enumerate(frames)
    ])  # fmt: skip
    for stray in directory.glob(".*"):  # the temporary file of a task whose worker was lost
        stray.unlink()
    save_csv(fit.hyper.rename_axis("quantity").reset_index(), "hyperparameters", staging)
    save_csv(_model_checks(fit, settings), "model_checks", staging)

"""Which notebooks are out of date, and what each one reads: decided by content, not dates.

Every executed notebook records the digest of its inputs (:func:`input_digest`), and so do the
results it writes (``results/<stem>.inputs``). A fresh clone, where every file carries the
same date and ``results/`` holds only what the repository keeps, is therefore up to date, and
``make`` runs nothing there. The rules live here, not in the Makefile, so that every stale
notebook runs in one process (and one warm kernel helper).
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from pooling.paths import DEFAULT_DATA, NOTEBOOKS_DIR, PACKAGE_DIR, ROOT, results_dir

__all__ = ["KEPT", "NEEDS", "ON_DEMAND", "OPTIONAL", "PARAMETERS_MARKER", "changed", "code_files",
           "declared_parameters", "input_digest", "parameter_defaults", "recorded_digest",
           "recorded_results", "results_record", "sources"]  # fmt: skip


def code_files() -> list[Path]:
    """The code an executed notebook depends on: the analysis library and the executor.

    The rest of the runner (scheduling, kernels, caches) changes how fast a notebook
    runs, never what it shows, and no notebook imports the estimates pipeline.
    """
    runner, pipeline = PACKAGE_DIR / "runner", PACKAGE_DIR / "pipeline"
    analysis = [p for p in PACKAGE_DIR.rglob("*.py")
                if runner not in p.parents and pipeline not in p.parents]  # fmt: skip
    return sorted(analysis) + [runner / "execute.py"]


#: Notebooks run only on demand (``make calibration``), never by ``make`` or an own-data run.
ON_DEMAND = ("05_calibration",)
#: Notebooks that an own-data run executes only when it is given their parameter.
OPTIONAL = {"06_group_predictors": "PREDICTORS"}


def sources() -> list[Path]:
    """The collection's notebook sources, in reading (and execution) order.

    The notebooks of :data:`ON_DEMAND` are left out: they take minutes and do not feed the
    others.
    """
    every = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))
    return [source for source in every if source.stem not in ON_DEMAND]


#: The line that opens a jupytext percent source's ``parameters`` cell.
PARAMETERS_MARKER = '# %% tags=["parameters"]'


def parameter_defaults(source: Path) -> dict:
    """The values assigned in a notebook source's ``parameters`` cell, by name.

    Read from the percent source's text with :mod:`ast`, as papermill reads the cell (a test
    compares the two), without importing jupytext and papermill: they bring in nbformat's
    schema validation, seconds of start-up for a command that runs no notebook
    (``python -m pooling estimates``) or stops at a bad parameter.

    Parameters
    ----------
    source : pathlib.Path
        A notebook's jupytext percent source.

    Returns
    -------
    dict
        Each parameter's default, a Python literal.
    """
    lines = source.read_text(encoding="utf-8").splitlines()
    start = lines.index(PARAMETERS_MARKER) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("# %%")), len(lines))
    tree = ast.parse("\n".join(lines[start:end]))
    return {
        target.id: ast.literal_eval(statement.value)
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
    }


def declared_parameters(source: Path) -> set[str]:
    """Names assigned in a notebook source's ``parameters`` cell."""
    return set(parameter_defaults(source))


#: Notebooks that read other notebooks' results; the rest depend on nothing but the data.
NEEDS = {"04_model_comparison": ("01_no_pooling", "02_full_pooling", "03_hierarchical")}

#: Results that a notebook writes and the repository keeps (the rest of ``results/`` is
#: git-ignored): missing, they make the notebook out of date (``make clean && make``).
KEPT = {"04_model_comparison": ("estimates.csv",)}


def input_digest(source: Path, parameters: dict | None = None) -> str:
    """SHA-256 of what an executed notebook depends on: its source, the shipped tables, the
    :func:`code_files`, the locked environment, and any overridden parameters.

    Recorded in the executed notebook's metadata and beside its results, it tells whether
    they are out of date by content, where modification times say nothing (a fresh clone).
    """
    import json

    digest = hashlib.sha256()
    lock = ROOT / "requirements.lock"
    # Every shipped table: notebook 6 reads career batting, the others SpaceX.
    for path in [source, *sorted(DEFAULT_DATA.parent.glob("*.csv")), lock, *code_files()]:
        if path.exists():
            name = path.relative_to(PACKAGE_DIR) if PACKAGE_DIR in path.parents else path.name
            digest.update(str(name).encode() + b"\0" + path.read_bytes())
    if parameters:
        digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def results_record(stem: str, results: Path | None = None) -> Path:
    """The file beside a notebook's results that holds their :func:`input_digest`."""
    return (results or results_dir()) / f"{stem}.inputs"


def recorded_results(stem: str) -> str | None:
    """The :func:`input_digest` a notebook's results were made from, if they record one."""
    try:
        return results_record(stem).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def recorded_digest(notebook: Path) -> str | None:
    """The :func:`input_digest` an executed notebook was made from, if it records one."""
    import json

    try:
        metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return None
    return metadata.get("pooling", {}).get("inputs")


def changed(candidates: list[Path]) -> list[Path]:
    """The sources among ``candidates`` to execute, in the order given.

    Pass every source: a notebook is only found out of date through one it reads if both
    are among ``candidates``.

    A notebook is out of date when its ``.ipynb`` does not record the current
    :func:`input_digest`, when results of it exist but were made from other inputs, when a
    result the repository keeps (:data:`KEPT`) is missing, or when a notebook it reads
    (:data:`NEEDS`) is out of date. A notebook that is up to date still runs when one that is
    not reads its results and they are missing (git ignores them, so a fresh clone has none).
    """
    current = {source.stem: input_digest(source) for source in candidates}
    by_stem = {source.stem: source for source in candidates}

    def results_state(stem: str) -> str:
        recorded = recorded_results(stem)
        return "missing" if recorded is None else "current" if recorded == current[stem] else "old"

    stale: set[str] = set()
    for stem in sorted(by_stem):  # readers (04) after what they read (01-03)
        source = by_stem[stem]
        kept = [results_dir() / name for name in KEPT.get(stem, ())]
        if (
            recorded_digest(source.with_suffix(".ipynb")) != current[stem]
            or results_state(stem) == "old"
            or not all(path.exists() for path in kept)
            or stale.intersection(NEEDS.get(stem, ()))
        ):
            stale.add(stem)
    for stem in sorted(stale):
        stale.update(
            need
            for need in NEEDS.get(stem, ())
            if need in by_stem and results_state(need) != "current"
        )
    return [source for source in candidates if source.stem in stale]

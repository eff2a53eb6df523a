"""Which notebooks are out of date, and what each one reads.

The rules are the ones ``make`` would apply with file times, kept here so that every stale
notebook runs in one process (and one warm kernel helper); on-demand notebooks are judged by
the digest of their inputs instead, which also holds in a fresh clone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pooling.paths import DEFAULT_DATA, NOTEBOOKS_DIR, PACKAGE_DIR, ROOT, results_dir

__all__ = ["NEEDS", "ON_DEMAND", "changed", "code_files", "declared_parameters",
           "input_digest", "recorded_digest", "sources"]  # fmt: skip


def code_files() -> list[Path]:
    """The code an executed notebook depends on: the analysis library and the executor.

    The rest of the runner (scheduling, kernels, caches) changes how fast a notebook
    runs, never what it shows.
    """
    runner = PACKAGE_DIR / "runner"
    analysis = [p for p in PACKAGE_DIR.rglob("*.py") if runner not in p.parents]
    return sorted(analysis) + [runner / "execute.py"]


#: Notebooks run only on demand (``make calibration``), never by ``make`` or an own-data run.
ON_DEMAND = ("05_calibration",)


def sources() -> list[Path]:
    """The collection's notebook sources, in reading (and execution) order.

    The notebooks of :data:`ON_DEMAND` are left out: they take minutes and do not feed the
    others.
    """
    every = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))
    return [source for source in every if source.stem not in ON_DEMAND]


def declared_parameters(source: Path) -> set[str]:
    """Names assigned in a notebook source's ``parameters`` cell."""
    import jupytext
    import papermill

    return set(papermill.inspect_notebook(jupytext.read(source)))


#: Notebooks that read other notebooks' results; the rest depend on nothing but the data.
NEEDS = {"04_model_comparison": ("01_no_pooling", "02_full_pooling", "03_hierarchical")}


def input_digest(source: Path) -> str:
    """SHA-256 of what an executed notebook depends on: its source, the shipped data, the
    :func:`code_files` and the locked environment.

    Recorded in the executed notebook's metadata, it tells whether an on-demand notebook is
    out of date by content, where modification times say nothing (a fresh clone).
    """
    digest = hashlib.sha256()
    lock = ROOT / "requirements.lock"
    for path in [source, DEFAULT_DATA, lock, *code_files()]:
        if path.exists():
            name = path.relative_to(PACKAGE_DIR) if PACKAGE_DIR in path.parents else path.name
            digest.update(str(name).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def recorded_digest(notebook: Path) -> str | None:
    """The :func:`input_digest` an executed notebook was made from, if it records one."""
    import json

    try:
        metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return None
    return metadata.get("pooling", {}).get("inputs")


def changed(candidates: list[Path]) -> list[Path]:
    """The sources among ``candidates`` whose executed notebook or results are out of date.

    Pass every source: a notebook is only found out of date through one it reads if both
    are among ``candidates``.

    A notebook is out of date when its ``.ipynb`` or ``results/<stem>.nc`` is missing or
    older than its source, the shipped data, the :func:`code_files`, the installed environment
    or the results it reads, or when a notebook it reads is itself out of date (the rules
    ``make`` would apply; the Makefile leaves them to this function so that all stale notebooks
    run in one warm :class:`~pooling.runner.kernels.KernelServer`). A notebook of
    :data:`ON_DEMAND` is out of date when the :func:`input_digest` its ``.ipynb`` records is
    not the current one.
    """
    stale_on_demand = [
        source for source in candidates if source.stem in ON_DEMAND
        and recorded_digest(source.with_suffix(".ipynb")) != input_digest(source)
    ]  # fmt: skip
    candidates = [source for source in candidates if source.stem not in ON_DEMAND]
    common = [DEFAULT_DATA, *code_files(), ROOT / ".venv" / ".installed"]
    newest_common = max((f.stat().st_mtime for f in common if f.exists()), default=0.0)
    stale: set[str] = set()
    for source in sorted(candidates, key=lambda path: path.name):  # readers after what they read
        outputs = [source.with_suffix(".ipynb"), results_dir() / f"{source.stem}.nc"]
        needs = NEEDS.get(source.stem, ())
        inputs = [source, *(results_dir() / f"{stem}.nc" for stem in needs)]
        newest = max([newest_common, *(f.stat().st_mtime for f in inputs if f.exists())])
        outdated = any(not f.exists() or f.stat().st_mtime < newest for f in outputs)
        if outdated or stale.intersection(needs):
            stale.add(source.stem)
    return [source for source in candidates if source.stem in stale] + stale_on_demand

"""Where the collection's files live.

Every path is derived from the location of this package (``src/pooling``), never from the
working directory, so notebooks, tests and the Makefile agree wherever they are started from.
Figures and results can be redirected with environment variables so that tests write into a
temporary directory instead of the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DATA_DIR",
    "DEFAULT_DATA",
    "FIGURES_ENV",
    "NOTEBOOKS_DIR",
    "PACKAGE_DIR",
    "RESULTS_ENV",
    "ROOT",
    "figures_dir",
    "results_dir",
]

#: Repository root (the package is installed editable from ``src/pooling``).
ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
NOTEBOOKS_DIR = ROOT / "notebooks"
#: The shipped data set.
DEFAULT_DATA = DATA_DIR / "spacex_launches.csv"

#: Environment variables that redirect the output directories.
FIGURES_ENV = "POOLING_FIGURES_DIR"
RESULTS_ENV = "POOLING_RESULTS_DIR"


def figures_dir() -> Path:
    """Directory that figures are written to.

    Returns
    -------
    pathlib.Path
        ``$POOLING_FIGURES_DIR`` when set, otherwise ``<repo>/figures``.
    """
    return Path(os.environ.get(FIGURES_ENV) or ROOT / "figures")


def results_dir() -> Path:
    """Directory that the fits (DataTrees) and result tables are written to.

    Returns
    -------
    pathlib.Path
        ``$POOLING_RESULTS_DIR`` when set, otherwise ``<repo>/results``.
    """
    return Path(os.environ.get(RESULTS_ENV) or ROOT / "results")

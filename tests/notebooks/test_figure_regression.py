"""Committed figures against freshly generated ones.

nbval (collected first, see ``testpaths``) re-executes every notebook, writing its figures into
the session's scratch directory. Each committed PNG must be byte for byte the same as its
regenerated twin, so a figure left stale after a change fails. When this file runs on its own,
the notebooks are executed here first.

The same holds for the committed table of estimates, which notebook 04 computes from every
hierarchical draw of notebook 03 and from the notebook's seeded generator: nbval's freshly
started kernels must give the same bytes as the forked kernels of the ``make`` that committed
it, so a random call left unseeded, which would draw from the operating system in each
kernel, fails here.

The same seed gives the same draws on any x86-64 machine with the locked environment
(:mod:`pooling.portable`), so this holds on a machine other than the one that committed them.
"""

from __future__ import annotations

import pytest

from pooling.paths import ROOT, figures_dir, results_dir
from pooling.runner.execute import execute
from pooling.runner.staleness import ON_DEMAND, sources

# The calibration notebook's figures come from 1000 replicates, which the tests do not rerun
# (tests/notebooks/test_jupyterlab.py runs a reduced version).
COMMITTED = sorted(p for p in (ROOT / "figures").glob("*.png") if not p.name.startswith(ON_DEMAND))


@pytest.fixture(scope="module")
def regenerated():
    fresh = figures_dir()
    for source in sources():
        if not any(fresh.glob(f"{source.stem}_*.png")):  # nbval has not run this notebook
            execute(source, fresh.parent / "executed" / f"{source.stem}.ipynb")
    return fresh


def test_committed_figures_exist():
    assert len(COMMITTED) >= 12


@pytest.mark.parametrize("committed", COMMITTED, ids=lambda p: p.stem)
def test_figure_is_current(committed, regenerated):
    fresh = regenerated / committed.name
    assert fresh.is_file(), f"{committed.name} is no longer produced by any notebook"
    assert fresh.read_bytes() == committed.read_bytes(), f"{committed.name} is stale (run make)"


def test_no_uncommitted_figure_kinds(regenerated):
    produced = {p.name for p in regenerated.glob("*.png") if not p.name.startswith(ON_DEMAND)}
    assert produced <= {p.name for p in COMMITTED}, produced - {p.name for p in COMMITTED}


@pytest.mark.parametrize("stem", ["estimates", "model_checks"])
def test_committed_tables_are_current(regenerated, stem):
    committed = ROOT / "results" / f"{stem}.csv"
    fresh = results_dir() / f"{stem}.csv"
    assert fresh.is_file(), f"notebook 04 no longer writes results/{stem}.csv"
    assert fresh.read_bytes() == committed.read_bytes(), f"results/{stem}.csv is stale (run make)"

"""Committed figures against freshly generated ones.

nbval (collected first, see ``testpaths``) re-executes every notebook, writing its figures into
the session's scratch directory. Each committed PNG must match its regenerated twin within an
RMS difference of 1.0 (on the 0-255 scale), so a figure left stale after a change fails. When
this file runs on its own, the notebooks are executed here first.

The same seed gives the same draws on the same machine; on a different CPU the compiled model
may round differently and the draw-based figures change, and then `make` refreshes them.
"""

from __future__ import annotations

import pytest
from matplotlib.testing.compare import compare_images

from pooling.paths import ROOT, figures_dir
from pooling.run import ON_DEMAND, execute, sources

RMS_TOLERANCE = 1.0
# The calibration notebook's figures come from 1000 replicates, which the tests do not rerun
# (tests/test_calibration.py runs a reduced version).
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
    diff = compare_images(str(committed), str(fresh), tol=RMS_TOLERANCE)
    assert diff is None, f"{committed.name} is stale (run make): {diff}"


def test_no_uncommitted_figure_kinds(regenerated):
    produced = {p.name for p in regenerated.glob("*.png") if not p.name.startswith(ON_DEMAND)}
    assert produced <= {p.name for p in COMMITTED}, produced - {p.name for p in COMMITTED}

"""Test-session set-up shared by the package tests and nbval.

Notebooks under test must never write into the repository: before any kernel starts, the
figure and result directories are redirected into a temporary directory (kernels inherit
this process's environment). At the end the session fails if any tracked output changed.

Kernels started for the tests compile their models through the runner's disk cache, as
``make``'s do: those of ``.venv``'s kernel spec by its start line, nbval's (ipykernel's own
spec) by an IPython start-up file in a scratch IPython directory. The plain way is tested on
its own (tests/runner/test_schedule.py), and the JupyterLab test starts its kernels without
the start-up file, as a reader's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pooling import portable
from pooling.paths import FIGURES_ENV, RESULTS_ENV, ROOT
from pooling.runner.speedups import IPYTHON_STARTUP

_GUARDED = ("figures", "results", "notebooks", "data")
# nbval would re-run the calibration notebook's 1000 replicates per model; the tests run a
# reduced, seeded version in JupyterLab instead (tests/notebooks/test_jupyterlab.py).
collect_ignore = ["notebooks/05_calibration.ipynb"]

# `make test` spreads the tests over processes (pytest-xdist, ``--dist loadgroup``) in units
# of one file each, so that a module's fixtures are built once. nbval's notebooks and the
# figure comparison that reads their figures form one unit, in that order.
_WITH_THE_NOTEBOOKS = ("tests/notebooks/test_figure_regression.py",)
# Files whose tests share nothing: each test is a unit of its own.
_EACH_TEST_ALONE = (
    "tests/runner/test_own_data.py",
    "tests/runner/test_cli.py",
    "tests/runner/test_compile_cache.py",
    "tests/runner/test_schedule.py",
)
# The longest units first (benchmarks/RESULTS.md, `make bench BENCH=test_suite`): with
# ``--no-loadscope-reorder`` the units are handed out in this order, and no process is left
# with a long one at the end.
_LONGEST_FIRST = (
    "tests/notebooks/test_jupyterlab.py",
    "tests/pipeline/test_cluster.py",
    "tests/notebooks/test_execution.py",
    "notebooks",
    "tests/runner/test_own_data.py",
)


def _snapshot() -> dict[str, str]:
    """Content hash of every file in the directories that tests must not touch."""
    files = {}
    for top in _GUARDED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                files[str(path.relative_to(ROOT))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def pytest_configure(config):
    scratch = Path(tempfile.mkdtemp(prefix="pooling-tests-"))
    config._pooling_scratch = scratch
    config._pooling_snapshot = _snapshot()
    os.environ[FIGURES_ENV] = str(scratch / "figures")
    os.environ[RESULTS_ENV] = str(scratch / "results")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["PYTHONHASHSEED"] = "0"  # kernels draw the model graphs in a fixed order
    os.environ.update(portable.ENV)  # kernels compute the committed, portable numbers
    startup = scratch / "ipython" / "profile_default" / "startup" / "00-pooling-speedups.py"
    startup.parent.mkdir(parents=True)
    startup.write_text(IPYTHON_STARTUP, encoding="utf-8")
    os.environ["IPYTHONDIR"] = str(scratch / "ipython")


def _unit(item) -> str:
    """The unit of work that ``item`` belongs to: its file, or the test alone."""
    path = item.path.relative_to(ROOT).as_posix()
    if path.startswith("notebooks/") or path in _WITH_THE_NOTEBOOKS:
        return "notebooks"
    if path in _EACH_TEST_ALONE:
        return item.nodeid
    return path


def _rank(unit: str) -> int:
    for rank, prefix in enumerate(_LONGEST_FIRST):
        if unit == prefix or unit.startswith(prefix + "::"):
            return rank
    return len(_LONGEST_FIRST)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            item.add_marker(pytest.mark.xdist_group(_unit(item)))
    items.sort(key=lambda item: _rank(_unit(item)))  # stable: each unit keeps its order


def pytest_collection_finish(session):
    """In a pytest-xdist worker under ``--dist loadgroup``: stop if the units were lost."""
    if getattr(session.config.option, "loadgroup", False):
        lost = [item.nodeid for item in session.items if "@" not in item.nodeid]
        if lost:
            raise pytest.UsageError(
                f"pytest-xdist dropped the units of work ({lost[0]} has none): this pytest "
                "and pytest-xdist do not work together (see pyproject.toml)"
            )


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    before = getattr(config, "_pooling_snapshot", None)
    if before is not None:
        after = _snapshot()
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        if changed:
            session.exitstatus = 1
            print(f"\nERROR: the tests wrote into the repository: {', '.join(changed)}")
    shutil.rmtree(getattr(config, "_pooling_scratch", ""), ignore_errors=True)

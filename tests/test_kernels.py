"""Warm forked kernels and the runner's scheduling: same bytes, clean ends, only what changed."""

from __future__ import annotations

import json
import os
import time

import pytest

from pooling.build.execute import execute
from pooling.build.kernels import KernelServer
from pooling.build.schedule import run_all
from pooling.build.staleness import NEEDS, ON_DEMAND, changed, input_digest
from pooling.build.staleness import sources as collection_sources
from pooling.paths import NOTEBOOKS_DIR

# Small runs of the full-pooling notebook: the cheapest one that samples and plots.
SOURCE = NOTEBOOKS_DIR / "02_full_pooling.py"
SMALL = {"DRAWS": 1000, "TUNE": 500, "REFIT_DRAWS": 200, "REFIT_TUNE": 200}


def outputs(directory):
    return {
        "output": directory / f"{SOURCE.stem}.ipynb",
        "figures": directory / "figures",
        "results": directory / "results",
    }


def test_forked_kernel_gives_the_same_bytes_as_a_fresh_kernel(tmp_path):
    execute(SOURCE, parameters=SMALL, **outputs(tmp_path / "fresh"))
    run_all([SOURCE], lambda source: outputs(tmp_path / "warm"), SMALL)
    fresh, warm = tmp_path / "fresh", tmp_path / "warm"
    assert (warm / f"{SOURCE.stem}.ipynb").read_bytes() == (
        fresh / f"{SOURCE.stem}.ipynb"
    ).read_bytes()
    figures = sorted(p.name for p in (fresh / "figures").iterdir())
    assert figures == sorted(p.name for p in (warm / "figures").iterdir())
    for name in figures:
        assert (warm / "figures" / name).read_bytes() == (fresh / "figures" / name).read_bytes()


def test_closing_the_server_ends_its_kernels(tmp_path):
    from jupyter_client.connect import write_connection_file

    connection, _ = write_connection_file(str(tmp_path / "kernel.json"))
    server = KernelServer(warm=False)
    kernel = server.fork(connection, str(tmp_path), {})
    assert kernel.poll() is None
    server.close()
    kernel.wait(timeout=20)
    with pytest.raises(ProcessLookupError):
        os.kill(kernel.pid, 0)


def test_a_failing_notebook_stops_the_run(tmp_path):
    with pytest.raises(Exception, match="not found: run `make` first"):  # 04 without results
        run_all(
            [NOTEBOOKS_DIR / "04_model_comparison.py"],
            lambda source: {"output": tmp_path / "04.ipynb", "figures": tmp_path / "f",
                            "results": tmp_path / "empty"},
        )  # fmt: skip
    assert not (tmp_path / "04.ipynb").exists()


@pytest.fixture
def collection(tmp_path, monkeypatch):
    """Copies of the notebook sources with up-to-date outputs, results in tmp_path."""
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setenv("POOLING_RESULTS_DIR", str(results))
    later = time.time() + 1000  # newer than the data, the package and the environment
    sources = []
    for original in collection_sources():  # the on-demand notebooks are tested below
        source = tmp_path / original.name
        source.write_text(original.read_text())
        for path in (source, source.with_suffix(".ipynb"), results / f"{source.stem}.nc"):
            path.touch()
            os.utime(path, (later, later))
        sources.append(source)
    return sources, results, later


def test_nothing_changed_nothing_to_run(collection):
    sources, _, _ = collection
    assert changed(sources) == []


def test_a_changed_source_runs_with_the_notebooks_that_read_it(collection):
    sources, _, later = collection
    first = sources[0]
    os.utime(first, (later + 10, later + 10))
    readers = [s.stem for s in sources if first.stem in NEEDS.get(s.stem, ())]
    assert readers, "the comparison notebook reads the first notebook's results"
    assert [s.stem for s in changed(sources)] == [first.stem, *readers]


def test_missing_results_make_a_notebook_stale(collection):
    sources, results, _ = collection
    (results / f"{sources[1].stem}.nc").unlink()
    assert sources[1] in changed(sources)
    assert sources[0] not in changed(sources)


def test_on_demand_notebook_is_stale_by_content_not_by_date(tmp_path):
    (stem,) = ON_DEMAND
    source = tmp_path / f"{stem}.py"
    source.write_text((NOTEBOOKS_DIR / f"{stem}.py").read_text())
    notebook = source.with_suffix(".ipynb")
    metadata = {"metadata": {"pooling": {"inputs": input_digest(source)}}}
    notebook.write_text(json.dumps(metadata))
    os.utime(notebook, (0, 0))  # older than everything: dates do not count
    assert changed([source]) == []
    source.write_text(source.read_text() + "\n# an edit\n")
    assert changed([source]) == [source]
    assert source not in collection_sources()  # never run by `make`


def test_report_stale_says_so_in_one_line_and_runs_nothing(tmp_path, capsys):
    from pooling.build.cli import main

    (stem,) = ON_DEMAND
    source = tmp_path / f"{stem}.py"
    source.write_text((NOTEBOOKS_DIR / f"{stem}.py").read_text())
    assert main(["stale", str(source)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{stem}.ipynb is out of date") and "make calibration" in line
    assert not source.with_suffix(".ipynb").exists()

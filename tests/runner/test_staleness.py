"""What is out of date: only what changed, with the notebooks that read it."""

from __future__ import annotations

import json
import os
import time

import pytest

from pooling.paths import NOTEBOOKS_DIR
from pooling.runner.staleness import NEEDS, ON_DEMAND, changed, input_digest
from pooling.runner.staleness import sources as collection_sources

SOURCE = NOTEBOOKS_DIR / "02_full_pooling.py"


def outputs(directory):
    return {
        "output": directory / f"{SOURCE.stem}.ipynb",
        "figures": directory / "figures",
        "results": directory / "results",
    }


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

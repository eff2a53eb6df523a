"""What is out of date, by content: only what changed, with the notebooks that read it."""

from __future__ import annotations

import ast
import json
import os

import pytest

from pooling.paths import NOTEBOOKS_DIR
from pooling.runner.staleness import (
    KEPT,
    NEEDS,
    ON_DEMAND,
    changed,
    input_digest,
    parameter_defaults,
    results_record,
)
from pooling.runner.staleness import sources as collection_sources


def record(source, digest=None):
    """An executed notebook of ``source`` that records ``digest`` (default: the current one)."""
    metadata = {"metadata": {"pooling": {"inputs": digest or input_digest(source)}}}
    source.with_suffix(".ipynb").write_text(json.dumps(metadata))


@pytest.fixture
def collection(tmp_path, monkeypatch):
    """Copies of the sources, executed notebooks recording their digests, as in a fresh
    clone: every file dated the epoch, and of the results only those the repository keeps."""
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setenv("POOLING_RESULTS_DIR", str(results))
    sources = []
    for original in collection_sources():  # the on-demand notebooks are tested below
        source = tmp_path / original.name
        source.write_text(original.read_text())
        record(source)
        for name in KEPT.get(source.stem, ()):
            (results / name).write_text("kept\n")
        for path in (source, source.with_suffix(".ipynb")):
            os.utime(path, (0, 0))  # dates say nothing
        sources.append(source)
    return sources, results


def with_results(sources):
    """Record current results of every notebook, as after a run of ``make``."""
    for source in sources:
        results_record(source.stem).write_text(input_digest(source) + "\n")


def readers_of(sources, stem):
    return [s.stem for s in sources if stem in NEEDS.get(s.stem, ())]


def test_a_fresh_clone_has_nothing_to_run(collection):
    sources, _ = collection
    assert changed(sources) == []


def test_an_edited_source_runs_with_its_readers_and_what_they_need(collection):
    sources, results = collection
    first = sources[0]
    first.write_text(first.read_text() + "\n# an edit\n")
    readers = readers_of(sources, first.stem)
    assert readers, "the comparison notebook reads the first notebook's results"
    # The readers need every notebook they read; with no results there, those run too.
    needed = {need for reader in readers for need in NEEDS[reader]}
    assert {s.stem for s in changed(sources)} == {first.stem, *readers, *needed}
    # With the others' results present and current, only the edited one and its readers run.
    with_results(sources)
    assert [s.stem for s in changed(sources)] == [first.stem, *readers]


def test_a_notebook_recording_other_inputs_is_out_of_date(collection):
    sources, _ = collection
    with_results(sources)
    record(sources[1], digest="0" * 64)
    assert [s.stem for s in changed(sources)] == [
        sources[1].stem,
        *readers_of(sources, sources[1].stem),
    ]


def test_results_from_other_inputs_are_remade(collection):
    sources, _ = collection
    with_results(sources)
    results_record(sources[1].stem).write_text("0" * 64 + "\n")
    assert [s.stem for s in changed(sources)] == [
        sources[1].stem,
        *readers_of(sources, sources[1].stem),
    ]


def test_a_missing_kept_result_reruns_its_notebook_and_what_it_reads(collection):
    sources, results = collection
    ((stem, (name, *_)),) = KEPT.items()
    (results / name).unlink()  # as after `make clean`
    assert {s.stem for s in changed(sources)} == {stem, *NEEDS.get(stem, ())}


def test_overridden_parameters_change_the_digest():
    source = NOTEBOOKS_DIR / "02_full_pooling.py"
    assert input_digest(source, {"DRAWS": 100}) != input_digest(source)
    assert input_digest(source, {}) == input_digest(source)


def test_on_demand_notebook_is_stale_by_content_not_by_date(tmp_path):
    (stem,) = ON_DEMAND
    source = tmp_path / f"{stem}.py"
    source.write_text((NOTEBOOKS_DIR / f"{stem}.py").read_text())
    record(source)
    os.utime(source.with_suffix(".ipynb"), (0, 0))  # older than everything: dates do not count
    assert changed([source]) == []
    source.write_text(source.read_text() + "\n# an edit\n")
    assert changed([source]) == [source]
    assert source not in collection_sources()  # never run by `make`


@pytest.mark.parametrize(
    "source", sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py")), ids=lambda p: p.stem
)
def test_parameter_defaults_are_those_papermill_reads(source):
    import jupytext
    import papermill

    declared = papermill.inspect_notebook(jupytext.read(source))
    expected = {name: ast.literal_eval(p["default"]) for name, p in declared.items()}
    assert parameter_defaults(source) == expected and expected

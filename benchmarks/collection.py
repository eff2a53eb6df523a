"""Regenerating the whole collection against the reference notebooks run the reference way.

A: every notebook of the collection executed from scratch, with all its checks, exact
overlays and the comparison notebook, into a scratch directory (``python -m pooling run``:
what ``make clean && make`` does, without touching the repository).
B: the reference analysis' three notebooks (``benchmarks/reference``, the post's code as
written: PyMC's built-in NUTS, 5000 + 5000 draws x 4 chains) executed with
``jupyter nbconvert --execute``, one fresh kernel each.

Both sides run with warm compile caches, as the comparison is defined: one untimed run of
each comes first (PyTensor's C cache for B; PyTensor's Numba cache and the compiled nutpie
models of :mod:`pooling.runner.compile_cache` for A). A and B then alternate, so that drift in the
machine's speed affects both alike; the medians and their ratio are printed and written to
RESULTS.md. Also timed, once each: the collection with an empty nutpie model cache (a first
run on a machine), the collection the plain way (``POOLING_PLAIN=1``: what ``make`` falls back
to when the speed machinery of :mod:`pooling.runner.speedups` cannot install itself), and
``make`` with nothing changed.

Usage: ``python benchmarks/collection.py [--repeats 3] [--jobs N]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
from common import ROOT, median, timed, write_section

REFERENCE = sorted((ROOT / "benchmarks" / "reference").glob("ref_*.py"))
TARGET = 0.40


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="A/B pairs (default 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="collection's -j")
    args = parser.parse_args(argv)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-collection-") as scratch:
        scratch = Path(scratch)
        for source in REFERENCE:  # converting is not part of running
            jupytext.write(jupytext.read(source), scratch / f"{source.stem}.ipynb")
        reference = [str(scratch / f"{source.stem}.ipynb") for source in REFERENCE]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}

        def run_collection(name, **env):
            return timed(
                [python, "-m", "pooling", "run", "--out", str(scratch / name),
                 "--jobs", str(args.jobs)],
                cwd=ROOT, env={**os.environ, **env}, **quiet,
            )  # fmt: skip

        def run_reference(name):
            return timed(
                [python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                 "--ExecutePreprocessor.timeout=1200", "--output-dir", str(scratch / name),
                 *reference],
                cwd=scratch, **quiet,
            )  # fmt: skip

        run_collection("warm-up"), run_reference("warm-up")  # fill the compile caches
        collection, baseline = [], []
        for i in range(args.repeats):
            collection.append(run_collection(f"collection-{i}"))
            baseline.append(run_reference(f"ref-{i}"))
            print(f"run {i + 1}: collection {collection[-1]:.1f} s, reference {baseline[-1]:.1f} s")
        cold = run_collection("cold", POOLING_CACHE_DIR=str(scratch / "empty-cache"))
        print(f"collection with an empty nutpie model cache: {cold:.1f} s")
        plain = run_collection("plain", POOLING_PLAIN="1")
        print(f"collection the plain way (fresh kernels, nutpie's own compile): {plain:.1f} s")
    unchanged = [timed(["make", "--no-print-directory", "-s"], cwd=ROOT) for _ in range(3)]
    ratio = median(collection) / median(baseline)
    verdict = "meets" if ratio <= TARGET else "misses"
    print(f"collection (all 4 notebooks, -j{args.jobs}): median {median(collection):.1f} s")
    print(f"reference way (3 notebooks): median {median(baseline):.1f} s")
    print(f"ratio: {ratio:.2f} ({verdict} the {TARGET:.2f} target)")
    print(f"make with nothing changed: median {median(unchanged):.2f} s")
    rows = [
        (f"collection from scratch (4 notebooks with checks and comparison; -j{args.jobs})",
         collection, 1),
        ("reference notebooks, reference way (3 notebooks, PyMC NUTS, 5000 + 5000 x 4)",
         baseline, 1),
        ("collection, empty nutpie model cache (first run on a machine; once)", [cold], 1),
        ("collection the plain way, `POOLING_PLAIN=1` (the fallback; once)", [plain], 1),
        ("`make` with nothing changed", unchanged, 2),
    ]  # fmt: skip
    table = "\n".join(
        f"| {label} | {median(times):.{d}f} s | {', '.join(f'{t:.{d}f}' for t in times)} |"
        for label, times, d in rows
    )
    write_section(
        "collection",
        "## Collection against the reference way\n\n"
        "| | median wall time | runs |\n|---|---:|---|\n"
        f"{table}\n\n"
        f"**Ratio collection / reference: {ratio:.2f}** (target at most {TARGET:.2f}: "
        f"{verdict} it). Both with warm compile caches (one untimed run of each first), then A "
        f"and B alternated, {args.repeats} pairs.",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The runner: what ``make`` runs and no notebook imports.

It executes the notebooks, decides what is out of date, and makes the collection fast. The
speed machinery leans on other libraries' internals, so it is switched on in one place,
:mod:`~pooling.runner.speedups`, and the plain way takes over when it no longer fits.

Modules
-------
cli
    ``python -m pooling``: the one command line (the Makefile calls it).
execute
    Execute one notebook source into its ``.ipynb`` (papermill), atomically.
staleness
    Which notebooks are out of date, and which read others' results.
schedule
    Run notebooks in parallel as their inputs become ready.
own_data
    The whole collection on another groups CSV, into a directory of its own.
speedups
    The switch for the machinery below, with the plain way as the fallback.
kernels
    Kernels forked from one warm process.
compile_cache
    A disk cache of nutpie's compiled models.
kernelspec
    The ``.venv`` Jupyter kernel: the portable settings and the compile cache.
lint
    Checks on the committed notebooks.
"""

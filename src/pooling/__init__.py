"""The pooling notebook collection: the analysis library that the notebooks import.

No-pooling, full-pooling and hierarchical models of success counts in groups, each fit
checked against its exact posterior. The runner that executes the notebooks lives apart,
in :mod:`pooling.runner`, and no module here imports it.

Modules
-------
paths
    Where data, figures and results live (resolved from the package location).
data
    Load and validate a groups CSV (group name, trials, successes).
selection
    Which groups get a panel, a row or a refit of their own.
exact
    Exact posteriors of the three models (conjugate, grid, rates, held-out predictions).
fits
    NUTS with nutpie on a model compiled once; log-likelihood and predictive draws.
digamma
    The digamma that PyTensor's Numba backend uses for these models.
refits
    Leave-one-group-out refits and their table.
checks
    Convergence diagnostics and agreement with the exact posterior, as assertions.
summaries
    Sampled summaries that need more than ArviZ (the density of mu given the draws).
calibration
    Simulation-based calibration: ranks of the truth, uniformity against simultaneous bands.
sensitivity
    Power-scaling prior sensitivity, with a verdict in words.
plots
    Plots shared by more than one notebook.
figures, results, files
    Figure writers, results I/O between notebooks, and atomic writes under both.
session
    The notebooks' plotting style and quiet logs.
portable
    The process settings that give the same draws on every x86-64 machine.
"""

__version__ = "0.1.0"

__all__ = [
    "calibration",
    "checks",
    "data",
    "digamma",
    "exact",
    "figures",
    "files",
    "fits",
    "paths",
    "plots",
    "portable",
    "refits",
    "results",
    "selection",
    "sensitivity",
    "session",
    "summaries",
]

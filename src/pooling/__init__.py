"""Plumbing and exact math for the pooling notebook collection.

Modules
-------
paths
    Where data, figures and results live (resolved from the package location).
data
    Load and validate a groups CSV (group name, trials, successes).
exact
    Exact posteriors of the no-pooling, full-pooling and hierarchical models.
checks
    Convergence diagnostics and agreement with the exact posterior, as assertions.
figures
    Atomic, reproducible figure and InferenceData writers.
plots
    Plots shared by more than one notebook.
calibration
    Simulation-based calibration: ranks of the truth, uniformity against simultaneous bands.
sensitivity
    Power-scaling prior sensitivity, with a verdict in words.
portable
    The process settings that give the same draws on every x86-64 machine.
"""

__version__ = "0.1.0"

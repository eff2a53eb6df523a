"""The table of estimates at any size, without the notebooks (``make estimates``).

Fold, fit small, expand: the groups are folded to their distinct ``(trials, successes)`` pairs,
the population is fitted on the folded data, and every group's estimates are computed from its
pair. This is analysis that an analyst runs, on one machine or a Dask cluster:

- :mod:`~pooling.pipeline.run`: the run from a data path to ``OUT`` (``run_estimates``);
- :mod:`~pooling.pipeline.parts`: finding and reading the input's CSV and Parquet parts;
- :mod:`~pooling.pipeline.part_tasks`: the work on one part or chunk of pairs (estimates,
  ranks, q-values);
- :mod:`~pooling.pipeline.cluster`: running the part tasks on ``dask.distributed``.

No notebook imports it; the runner's command line starts it (``python -m pooling estimates``).
"""

"""Progress of long work inside a notebook, for the runner to show, never in the notebook.

A cell that loops for minutes (the calibration's replicates) calls :func:`report` as it goes.
When the notebook runs under ``make``, the runner names a file in the environment variable
:data:`PROGRESS_ENV` and shows what is written there beside the notebook's cell count
(``pooling.runner.board``); in JupyterLab, or in any kernel without the variable, a report
does nothing. Nothing is printed, so nothing reaches the notebook's outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROGRESS_ENV", "report"]

#: The environment variable naming the file that :func:`report` writes.
PROGRESS_ENV = "POOLING_PROGRESS"


def report(done: int, total: int, what: str) -> None:
    """Say how far a long loop has come: ``what: done of total``.

    Parameters
    ----------
    done, total : int
        Items finished, and items in all.
    what : str
        What the items are, e.g. ``"hierarchical: replicates"``.
    """
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"{what} {done}/{total}", encoding="utf-8")
    os.replace(tmp, path)  # the runner reads either the old line or the new one, never half

"""Write figures, model graphs and InferenceData atomically and reproducibly.

Every file the collection writes goes through :func:`atomic_path`: it is written to a
temporary file beside its destination and renamed into place only once complete, so a crash
or Ctrl-C never leaves a half-written figure or result. Figures are named
``<notebook stem>_<kind>.png`` and saved at a fixed dpi with no timestamp or software tag in
their metadata, so the same figure gives the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pooling.paths import figures_dir, results_dir

#: Resolution of every saved figure.
DPI = 100


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or pathlib.Path
        Final destination. Its directory is created if needed.

    Yields
    ------
    pathlib.Path
        A fresh temporary file in the same directory (so the rename is atomic). It is
        removed if the block raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp makes the file private; give it the permissions of any new file.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def figure_path(stem: str, kind: str, suffix: str = ".png") -> Path:
    """Destination of a figure: ``<figures dir>/<stem>_<kind><suffix>``.

    Parameters
    ----------
    stem : str
        Notebook stem, e.g. ``"01_no_pooling"``.
    kind : str
        What the figure shows, e.g. ``"trace"``.
    suffix : str, optional
        File extension.

    Returns
    -------
    pathlib.Path
    """
    return figures_dir() / f"{stem}_{kind}{suffix}"


def save_figure(fig, stem: str, kind: str) -> Path:
    """Save a matplotlib figure as ``<stem>_<kind>.png``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (its size is set where it is made).
    stem, kind : str
        See :func:`figure_path`.

    Returns
    -------
    pathlib.Path
        Where the figure was written.
    """
    path = figure_path(stem, kind)
    with atomic_path(path) as tmp:
        # No "Software" entry: the bytes must not change with the matplotlib version.
        fig.savefig(tmp, dpi=DPI, format="png", metadata={"Software": None})
    return path


def show_figure(fig, stem: str, kind: str) -> None:
    """Save a figure (:func:`save_figure`) and show the saved PNG in the notebook.

    The notebook then displays exactly the file in ``figures/``, and the figure is drawn
    once instead of twice (once for the file and again by the inline backend): drawing is
    most of a plotting cell's time.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it is closed afterwards.
    stem, kind : str
        See :func:`figure_path`.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    path = save_figure(fig, stem, kind)
    plt.close(fig)  # otherwise the inline backend draws and shows it again
    display(Image(data=path.read_bytes(), format="png"))


def save_graph(graph, stem: str, kind: str = "model") -> Path:
    """Save a graphviz graph (e.g. from ``pm.model_to_graphviz``) as ``<stem>_<kind>.svg``.

    Parameters
    ----------
    graph : graphviz.Digraph
        The graph to render with the ``dot`` program.
    stem, kind : str
        See :func:`figure_path`.

    Returns
    -------
    pathlib.Path
        Where the SVG was written.
    """
    path = figure_path(stem, kind, ".svg")
    svg = graph.pipe(format="svg")
    with atomic_path(path) as tmp:
        tmp.write_bytes(svg)
    return path


def result_path(stem: str) -> Path:
    """Where the result of notebook ``stem`` lives: ``<results dir>/<stem>.nc``.

    Parameters
    ----------
    stem : str
        File stem, usually the notebook stem.

    Returns
    -------
    pathlib.Path
    """
    return results_dir() / f"{stem}.nc"


def load_idata(stem: str):
    """Load the InferenceData that another notebook saved.

    Parameters
    ----------
    stem : str
        The saving notebook's stem, e.g. ``"01_no_pooling"``.

    Returns
    -------
    arviz.InferenceData

    Raises
    ------
    FileNotFoundError
        One line naming the missing file and saying to run ``make``.
    """
    import arviz as az

    return az.from_netcdf(_existing_result(stem))


def load_table(stem: str):
    """Load a table (an ``xarray.Dataset``) that another notebook saved with :func:`save_idata`.

    Parameters
    ----------
    stem : str
        File stem, e.g. ``"01_no_pooling_refits"``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    FileNotFoundError
        One line naming the missing file and saying to run ``make``.
    """
    import xarray as xr

    return xr.load_dataset(_existing_result(stem)).to_dataframe()


def _existing_result(stem: str) -> Path:
    path = result_path(stem)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make` first to fit the models")
    return path


def save_idata(idata, stem: str) -> Path:
    """Save an InferenceData as ``<results dir>/<stem>.nc``.

    Parameters
    ----------
    idata : arviz.InferenceData or xarray.Dataset
        The fit (or table of results) to save.
    stem : str
        File stem, usually the notebook stem.

    Returns
    -------
    pathlib.Path
        Where the file was written.
    """
    path = result_path(stem)
    with atomic_path(path) as tmp:
        idata.to_netcdf(tmp)
    return path

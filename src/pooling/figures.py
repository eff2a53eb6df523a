"""Write figures and model graphs atomically and reproducibly.

Figures are named ``<notebook stem>_<kind>.png`` and saved at a fixed dpi with no timestamp
or software tag in their metadata, so the same figure gives the same bytes; every file goes
through :func:`pooling.files.atomic_path`.
"""

from __future__ import annotations

from pathlib import Path

from pooling.files import atomic_path
from pooling.paths import figures_dir

__all__ = ["DPI", "figure_path", "save_figure", "save_graph", "show_figure"]

#: Resolution of every saved figure.
DPI = 100


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

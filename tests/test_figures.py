"""Figures: named by notebook and kind, the same bytes every time."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pooling import figures, paths  # noqa: E402


def test_save_figure_names_and_reproduces(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.FIGURES_ENV, str(tmp_path / "figs"))
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    first = figures.save_figure(fig, "99_demo", "trace").read_bytes()
    path = figures.save_figure(fig, "99_demo", "trace")
    plt.close(fig)
    assert path == tmp_path / "figs" / "99_demo_trace.png"
    assert path.read_bytes() == first  # no timestamps: same figure, same bytes
    assert b"Software" not in first
    assert list(path.parent.iterdir()) == [path]  # no temporary files left

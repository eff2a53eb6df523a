"""Shared plots: labels of groups at the same point."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_groups_at_the_same_point_share_one_label_and_stacked_labels_do_not_collide():
    import numpy as np

    from pooling import plots

    x = np.array([1.0, 1.0, 3.0, 4.0, 1.0])
    y = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    fig, ax = plt.subplots()
    plots.label_points(ax, x, y, ["a", "b", "c", "d", "e"], [0, 1, 2, 3, 4], stack=True)
    labels = {text.get_text(): text for text in ax.texts}
    assert sorted(labels) == ["a, b", "c", "d", "e"]
    assert labels["a, b"].xyann[1] > 0  # low points: labels above
    offsets = [labels[name].xyann[1] for name in ("e", "c", "d")]  # high points, by x
    assert offsets == sorted(offsets, reverse=True) and len(set(offsets)) == 3
    plt.close(fig)


def test_calibration_summary_names_every_quantity_in_each_panel():
    import numpy as np
    import pandas as pd

    from pooling import plots

    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 51)
    fits = {"a": pd.DataFrame(rng.random((200, 2)), columns=["theta", "log_lik"]),
            "b": pd.DataFrame(rng.random((200, 3)), columns=["alpha", "beta", "mu"])}  # fmt: skip
    fig = plots.calibration_summary(fits, {name: (x - 0.1, x + 0.1) for name in fits}, x)
    panels = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert [[t.get_text() for t in ax.get_legend().get_texts()] for ax in panels] == [
        ["theta", "log_lik"], ["alpha", "beta", "mu"]]  # fmt: skip
    plt.close(fig)

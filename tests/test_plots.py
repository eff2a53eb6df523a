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

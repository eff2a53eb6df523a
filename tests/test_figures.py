"""Atomic, reproducible writers, redirected away from the repository under test."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from pooling import figures, paths  # noqa: E402


def test_outputs_are_redirected_under_test():
    assert paths.ROOT not in paths.figures_dir().parents
    assert paths.ROOT not in paths.results_dir().parents


def test_paths_do_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert paths.DEFAULT_DATA.is_file()
    assert (paths.ROOT / "pyproject.toml").is_file()


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


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.nc"
    target.write_text("previous")
    with pytest.raises(RuntimeError):
        with figures.atomic_path(target) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("interrupted")
    assert target.read_text() == "previous"
    assert list(tmp_path.iterdir()) == [target]


def test_written_files_are_readable_by_others(tmp_path):
    target = tmp_path / "x.txt"
    with figures.atomic_path(target) as tmp:
        tmp.write_text("x")
    assert target.stat().st_mode & 0o044 == 0o044


def _groups(trials, successes):
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {"trials": np.asarray(trials), "successes": np.asarray(successes)},
        index=pd.Index([f"g{i}" for i in range(len(trials))], name="site"),
    )
    frame.attrs["labels"] = type("Labels", (), {"group": "site"})()
    return frame


def test_every_group_is_listed_up_to_the_limit():
    from pooling import plots

    groups = _groups([5, 0, 9], [2, 0, 9])
    assert plots.select_groups(groups).tolist() == [0, 1, 2]
    assert plots.selection_note(groups, plots.select_groups(groups)) == ""


def test_many_groups_list_the_extremes_among_groups_with_trials():
    from pooling import plots

    # rates 0.0, 0.1, ..., 0.9 and 1.0 twice; group 3 has no trials and no rate
    trials = [10] * 14
    successes = [0, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 3, 10, 5]
    trials[3] = 0
    groups = _groups(trials, successes)
    shown = plots.select_groups(groups, limit=4)
    assert shown.tolist() == [0, 1, 10, 12]  # two lowest, two highest (ties: data order)
    note = plots.selection_note(groups, shown)
    assert note == "\n(the 2 lowest and 2 highest observed rates of 14 site groups)"


def test_few_groups_with_trials_come_first():
    from pooling import plots

    groups = _groups([0, 3, 0, 4, 0], [0, 1, 0, 4, 0])
    shown = plots.select_groups(groups, limit=4)
    assert shown.tolist()[:2] == [1, 3]
    assert "those with trials first" in plots.selection_note(groups, shown)


def test_refit_limit_of_zero_selects_no_group():
    from pooling import plots

    assert plots.select_groups(_groups([5, 0, 9], [2, 0, 9]), limit=0).tolist() == []


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

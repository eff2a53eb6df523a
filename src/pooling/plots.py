"""Plots shared by more than one notebook.

Plots that list groups show every group up to :data:`pooling.selection.LISTED` groups; past
that, the groups with the lowest and the highest observed rates, and their title says so
(:mod:`pooling.selection`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from pooling.selection import LISTED, select_groups, selection_note
from pooling.trials_check import verdict

__all__ = [
    "DRAWS",
    "EXACT",
    "OBSERVED",
    "calibration_ecdf",
    "calibration_summary",
    "forest",
    "label_points",
    "overlay_exact",
    "ppc_counts",
    "trace",
    "trials_check",
]

#: Colours: sampled draws, exact answer, observed data.
DRAWS, EXACT, OBSERVED = "C0", "black", "C3"


def label_points(ax, x, y, names, positions, stack: bool = False) -> None:
    """Write group names beside their points; points at the same place share one label.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x, y : numpy.ndarray
        Every group's coordinates.
    names : sequence of str
        Every group's name.
    positions : array_like of int
        The groups to name.
    stack : bool, optional
        Keep labels of nearby points apart: labels of points below 0.5 (rates near 0) are
        stacked upwards and the others downwards, a line apart, in order of ``x``.
    """
    at = {}
    for i in positions:
        at.setdefault((x[i], y[i]), []).append(names[i])
    low, high = 0, 0
    for (xi, yi), here in sorted(at.items(), key=lambda item: (item[0][0], item[0][1])):
        dy = -14
        if stack and yi < 0.5:
            dy, low = 4 + 11 * low, low + 1
        elif stack:
            dy, high = -14 - 11 * high, high + 1
        ax.annotate(", ".join(here), (xi, yi), textcoords="offset points", xytext=(8, dy),
                    fontsize=9)  # fmt: skip


def _subset(idata, groups, var_names):
    """``idata`` with the group dimension cut to :func:`select_groups`, and the title note."""
    if groups is None:
        return idata, ""
    shown = select_groups(groups)
    dim = groups.attrs["labels"].group
    if len(shown) == len(groups) or dim not in idata["posterior"].dims:
        return idata, selection_note(groups, np.arange(len(groups)))
    posterior = idata["posterior"].to_dataset()[var_names].isel({dim: shown})
    return xr.DataTree.from_dict({"posterior": posterior}), selection_note(groups, shown)


def _figure(plot_collection):
    """The matplotlib figure that an ArviZ plot drew into."""
    return plot_collection.viz["figure"].item()


def trace(idata, var_names: list[str], title: str, groups=None):
    """ArviZ trace plot (``plot_trace_dist``) with one row per scalar and one line per chain.

    Parameters
    ----------
    idata : xarray.DataTree
    var_names : list of str
        Variables to plot.
    title : str
        Figure title.
    groups : pandas.DataFrame, optional
        The data; when given, variables over the group dimension are cut to
        :func:`select_groups` (and the title says so).

    Returns
    -------
    matplotlib.figure.Figure
    """
    idata, note = _subset(idata, groups, var_names)
    n_rows = sum(int(np.prod(idata["posterior"][v].shape[2:])) for v in var_names)
    size = {"figsize": (11, 1.8 * n_rows + 0.6)}
    fig = _figure(az.plot_trace_dist(idata, var_names=var_names, compact=False, figure_kwargs=size))
    fig.suptitle(title + note)
    return fig


def forest(idata, var_names: list[str], title: str, xlabel: str, groups=None):
    """ArviZ forest plot: posterior mean, 50% and 94% HDI per scalar, chains combined.

    The 94% of the collection's other intervals, where ArviZ 1's default is an 89% equal-tailed
    interval.

    Parameters
    ----------
    idata : xarray.DataTree
    var_names : list of str
        Variables to plot.
    title, xlabel : str
        Title and x-axis label.
    groups : pandas.DataFrame, optional
        As for :func:`trace`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    idata, note = _subset(idata, groups, var_names)
    n_rows = sum(int(np.prod(idata["posterior"][v].shape[2:])) for v in var_names)
    fig = _figure(az.plot_forest(idata, var_names=var_names, combined=True, ci_kind="hdi",
                                 ci_probs=(0.5, 0.94),
                                 figure_kwargs={"figsize": (7, 1.2 + 0.5 * n_rows)}))  # fmt: skip
    fig.suptitle(title + note)
    *label_axes, intervals = fig.axes  # the labels' columns, then the intervals'
    for ax in label_axes:
        ax.grid(False)
    intervals.set_xlabel(xlabel)
    fig.set_layout_engine("constrained")  # room for the axis label below
    return fig


def _grid(n: int, ncols: int = 4, size: tuple[float, float] = (3.2, 2.6)):
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size[0] * ncols, size[1] * nrows),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat[:n]


def overlay_exact(
    draws: dict[str, np.ndarray], pdfs: dict[str, Callable[[np.ndarray], np.ndarray]], title: str
):
    """Histogram of sampled draws with the exact density on top, one panel per quantity.

    Parameters
    ----------
    draws : dict of str to numpy.ndarray
        Sampled values per quantity (any shape; flattened).
    pdfs : dict of str to callable
        Exact density per quantity, evaluated on a grid spanning the draws.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = _grid(len(draws))
    for ax, (name, values) in zip(axes, draws.items(), strict=True):
        values = np.ravel(values)
        lo, hi = np.quantile(values, [0.0005, 0.9995])
        x = np.linspace(lo, hi, 300)
        heights, _, _ = ax.hist(
            values,
            bins=60,
            range=(lo, hi),
            density=True,
            color=DRAWS,
            alpha=0.5,
            label="NUTS draws",
        )
        ax.plot(x, pdfs[name](x), color=EXACT, lw=1.5, label="exact")
        # A rate with no observed failures has an integrable spike at 1: keep the bars in view.
        ax.set_ylim(0, 1.3 * heights.max())
        ax.set_title(name, fontsize=10)
        ax.set_yticks([])
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=2, fontsize=9)
    fig.suptitle(title)
    return fig


def ppc_counts(idata, groups, observed: str = "y", title: str = "Posterior predictive check"):
    """Replicated against observed success counts, per group.

    Parameters
    ----------
    idata : xarray.DataTree
        With ``posterior_predictive[observed]`` over ``(chain, draw, <group dim>)``.
    groups : pandas.DataFrame
        The validated groups frame (for names, trials and labels).
    observed : str, optional
        Name of the observed variable.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One histogram of replicated counts per group with the observed count marked; past
        LISTED groups, one plot of 94% intervals of the replicated success rate with the
        observed rate, for the groups with the lowest and highest observed rates.
    """
    labels = groups.attrs["labels"]
    rep = idata["posterior_predictive"][observed]
    dim = [d for d in rep.dims if d not in ("chain", "draw")][0]
    rep = rep.stack(sample=("chain", "draw")).transpose(dim, "sample").to_numpy()
    trials, successes = groups["trials"].to_numpy(), groups["successes"].to_numpy()
    if len(groups) <= LISTED:
        fig, axes = _grid(len(groups))
        for ax, name, row, n, y in zip(axes, groups.index, rep, trials, successes, strict=True):
            lo, hi = np.quantile(row, [0.001, 0.999]).astype(int)
            bins = np.arange(lo, hi + 2) - 0.5
            ax.hist(row, bins=bins, density=True, color=DRAWS, alpha=0.6, label="replicated")
            ax.axvline(y, color=OBSERVED, lw=2, label="observed")
            ax.set_title(f"{name} (n={n})", fontsize=10)
            ax.set_xlabel(labels.successes)
            ax.set_yticks([])
        axes[0].legend(fontsize=8, loc="upper left")
        fig.suptitle(title + selection_note(groups, np.arange(len(groups))))
        return fig
    rate = successes / np.maximum(trials, 1)
    shown = select_groups(groups, 2 * LISTED)  # a line per group: room for more than panels
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(shown) + 1.8), layout="constrained")
    rep_rate = rep[shown] / np.maximum(trials[shown], 1)[:, None]
    lo, hi = np.quantile(rep_rate, [0.03, 0.97], axis=1)
    pos = np.arange(len(shown))
    ax.hlines(pos, lo, hi, color=DRAWS, lw=3, label="replicated (94% interval)")
    ax.plot(rate[shown], pos, "o", color=OBSERVED, label="observed")
    ax.set_yticks(pos, [str(groups.index[i]) for i in shown])
    ax.set_xlabel(f"{labels.successes} / {labels.trials}")
    ax.legend(fontsize=8)
    ax.set_title(title + selection_note(groups, shown))
    return fig


def calibration_ecdf(values, title: str, eval_points: np.ndarray, ci_prob: float, ncols: int = 4):
    """ECDF minus uniform CDF of each quantity's calibration values, with its band.

    Parameters
    ----------
    values : pandas.DataFrame
        Uniform values (randomised ranks, :func:`pooling.calibration.pit`), one column per
        quantity.
    title : str
        Figure title.
    eval_points : numpy.ndarray
        Where the ECDF is evaluated (fixed in advance, so that the simultaneous band is
        calibrated).
    ci_prob : float
        Probability of each panel's simultaneous band.
    ncols : int, optional
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from pooling.calibration import band

    fig, axes = _grid(values.shape[1], ncols=ncols)
    shaded = band(len(values), ci_prob)
    for ax, (name, column) in zip(axes, values.items(), strict=True):
        _ecdf_difference(ax, column.to_numpy(), eval_points, shaded, color=DRAWS)
        ax.set_title(name, fontsize=10)
    fig.suptitle(title)
    fig.supxlabel(f"fractional rank of the true value (simultaneous {ci_prob:.1%} band shaded)")
    return fig


def _ecdf_difference(ax, sample, eval_points, shaded=None, **line) -> None:
    """ECDF of ``sample`` minus the uniform CDF at ``eval_points``, over the band ``shaded``."""
    if shaded is not None:
        lower, upper = shaded
        ax.fill_between(eval_points, lower - eval_points, upper - eval_points, color="0.85",
                        step="post")  # fmt: skip
        ax.axhline(0, color=EXACT, lw=0.6)
    ecdf = np.searchsorted(np.sort(sample), eval_points, side="right") / sample.size
    ax.step(eval_points, ecdf - eval_points, where="post", **line)


def calibration_summary(fits: dict, bands: dict, eval_points: np.ndarray):
    """Every quantity's ECDF difference, one panel per fit, with the fit's band.

    Parameters
    ----------
    fits : dict of str to pandas.DataFrame
        Uniform values (one column per quantity) of each fit, all with the same number of
        replicates.
    bands : dict of str to tuple of numpy.ndarray
        Each fit's simultaneous band (lower, upper) of the ECDF at ``eval_points``.
    eval_points : numpy.ndarray
        Where the ECDFs are evaluated.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = _grid(len(fits), ncols=3, size=(4.4, 3.0))
    for ax, (name, values) in zip(axes, fits.items(), strict=True):
        for i, column in enumerate(values.columns):
            shaded = bands[name] if i == 0 else None  # the band once, under every line
            _ecdf_difference(ax, values[column].to_numpy(), eval_points, shaded, lw=0.9,
                             alpha=0.8, label=column)  # fmt: skip
        ax.set_title(f"{name}\n{values.shape[1]} quantities", fontsize=10)
        # Below the panel, so that no line is hidden: which line is which quantity.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3, fontsize=7,
                  frameon=False, handlelength=1.2, columnspacing=1.0)  # fmt: skip
    fig.suptitle("Simulation-based calibration: ECDF minus uniform CDF of every quantity, "
                 "with its family-wise 95% band")  # fmt: skip
    fig.supxlabel("fractional rank of the true value")
    return fig


def trials_check(tables: dict, colours: dict):
    """The check of rates against trials: each bin's observed pooled rate and its replicates.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        :func:`pooling.trials_check.check`'s table for each model.
    colours : dict of str to str
        Each model's colour.

    Returns
    -------
    matplotlib.figure.Figure
    """
    first = next(iter(tables.values()))
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    x = np.arange(len(first))
    width = 0.8 / len(tables)
    for i, (name, table) in enumerate(tables.items()):
        at = x - 0.4 + width * (i + 0.5)
        ax.vlines(at, table["replicated_q03"], table["replicated_q97"], color=colours[name],
                  lw=6, alpha=0.6, label=f"{name}: replicated (94%)")  # fmt: skip
        ax.plot(at, table["replicated"], "_", color=colours[name], ms=14, mew=2)
        ax.scatter(at, table["observed"], marker="x", color="black", s=60, zorder=3,
                   label="observed" if i == 0 else None)  # fmt: skip
    ticks = [f"{row.trials_from:,}-{row.trials_to:,}\n({row.groups:,} groups)"
             for row in first.itertuples()]  # fmt: skip
    ax.set_xticks(x, ticks)
    ax.set(xlim=(-0.5, len(first) - 0.5), xlabel="trials of the groups in the bin",
           ylabel="pooled success rate")  # fmt: skip
    fig.legend(loc="outside lower center", ncols=len(tables) + 1, fontsize=8, frameon=False)
    lines = [textwrap.fill(f"{name}: {verdict(table)}", 110, subsequent_indent="    ")
             for name, table in tables.items()]  # fmt: skip
    ax.set_title("Pooled rate of the groups binned by trials\n" + "\n".join(lines), fontsize=9)
    return fig

"""Simulation-based calibration: does a fitting procedure recover what the prior simulated?

Draw parameters from the prior, data from the model given those parameters, and fit the data.
If the fit is right, the true value is just another draw from the posterior, so its rank among
``L`` posterior draws is uniform on ``0, ..., L`` for every parameter and every test quantity
(Talts et al. 2018). The ranks are turned into uniform values on (0, 1) with a random offset
within each rank (a randomised PIT), and their empirical CDF is compared with the uniform CDF
inside a simultaneous confidence band (Saeilynoja et al. 2022): the band that
``az.plot_ecdf_pit(..., method="envelope")`` draws, computed by ArviZ's own simulation with a
fixed seed, so that the same ranks always get the same verdict.

References
----------
.. [1] Talts, S., Betancourt, M., Simpson, D., Vehtari, A. and Gelman, A. (2018). Validating
   Bayesian inference algorithms with simulation-based calibration. arXiv:1804.06788.
.. [2] Saeilynoja, T., Buerkner, P.-C. and Vehtari, A. (2022). Graphical test for discrete
   uniformity and its applications in goodness-of-fit evaluation and multiple sample
   comparison. *Statistics and Computing* 32, 32.
.. [3] Modrak, M., Moon, A. H., Kim, S., Buerkner, P.-C., Huurre, N., Faltejskova, K.,
   Gelman, A. and Vehtari, A. (2023). Simulation-based calibration checking for Bayesian
   computation: the choice of test quantities shapes sensitivity. *Bayesian Analysis*.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from arviz_stats.ecdf_utils import get_pointwise_confidence_band, simulate_confidence_bands

from pooling.checks import fail_unless
from pooling.progress import report

__all__ = [
    "BAND_SEED",
    "BAND_SIMULATIONS",
    "EVAL_POINTS",
    "FAMILY_LEVEL",
    "assert_calibrated",
    "band",
    "band_prob",
    "pit",
    "rank",
    "replicate_ranks",
    "simulate_ranks",
    "thin",
    "uniformity",
]

#: Chance that a calibrated procedure fails :func:`assert_calibrated` somewhere among all the
#: quantities it checks at once: each quantity's simultaneous band has probability
#: ``1 - FAMILY_LEVEL / n_quantities`` (Bonferroni), and the figures draw that same band.
FAMILY_LEVEL = 0.05
#: Where the ECDFs are compared with the uniform CDF (and plotted).
EVAL_POINTS = np.linspace(0.0, 1.0, 101)[1:-1]
#: Uniform samples simulated to find a band's pointwise level: the band of a family-wise
#: level of 0.05 over 20 quantities is the 0.9975 quantile of their worst pointwise level, and
#: 10,000 samples put 25 beyond it (about 2 s for 1000 values).
BAND_SIMULATIONS = 10_000
#: Seed of those simulations: the same ranks always get the same band and verdict.
BAND_SEED = 20221

#: A fit: data and a seed in, ``{quantity: draws}`` and the number of divergent transitions out.
Fit = Callable[[Mapping[str, np.ndarray], int], tuple[Mapping[str, np.ndarray], int]]
#: A simulation: a generator in, ``({quantity: true value}, data)`` out.
Simulate = Callable[[np.random.Generator], tuple[Mapping[str, float], Mapping[str, np.ndarray]]]


def thin(draws: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws spread evenly over a chain-major sequence of draws.

    Parameters
    ----------
    draws : numpy.ndarray
        Posterior draws, any shape; flattened chain by chain.
    n : int
        How many to keep (at most ``draws.size``).

    Returns
    -------
    numpy.ndarray
        1-d, the ``n`` thinned draws.
    """
    flat = np.asarray(draws).ravel()
    return flat[np.linspace(0, flat.size - 1, n).round().astype(int)]


def rank(draws: np.ndarray, truth: float, rng: np.random.Generator) -> int:
    """Rank of ``truth`` among ``draws``: how many draws are below it, ties split at random.

    Returns
    -------
    int
        In ``0, ..., len(draws)``; uniform over them when ``truth`` is a draw from the same
        distribution.
    """
    below = int(np.sum(draws < truth))
    ties = int(np.sum(draws == truth))
    return below + int(rng.integers(0, ties + 1))


def replicate_ranks(
    simulate: Simulate, fit: Fit, replicate: int, n_draws: int, seed: int
) -> dict[str, int]:
    """One replicate: simulate from the prior, fit, and rank each true value.

    Everything random in it comes from its own generator,
    ``numpy.random.default_rng([seed, replicate])`` (the simulation, the fit's seed and the
    tie-breaking of the ranks), so a replicate gives the same ranks wherever and in whatever
    order it runs.

    Parameters
    ----------
    simulate, fit, n_draws, seed
        As for :func:`simulate_ranks`.
    replicate : int
        Its number.

    Returns
    -------
    dict
        The rank of each quantity, and ``divergences``.
    """
    rng = np.random.default_rng([seed, replicate])
    fit_seed = int(rng.integers(0, 2**31))
    truth, data = simulate(rng)
    draws, divergences = fit(data, fit_seed)
    row = {q: rank(thin(draws[q], n_draws), value, rng) for q, value in truth.items()}
    row["divergences"] = int(divergences)
    return row


def simulate_ranks(
    simulate: Simulate,
    fit: Fit,
    replicates: int,
    n_draws: int,
    seed: int,
    label: str = "",
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Simulate from the prior, fit, and rank the truth, ``replicates`` times.

    Every replicate is kept, whatever its fit reports: dropping the awkward ones would bias
    the check towards passing. The replicates are independent (:func:`replicate_ranks`), so
    they can run on the workers of a Dask cluster, with the same ranks as here.

    Parameters
    ----------
    simulate : callable
        ``simulate(rng) -> (truth, data)``: true values of every quantity and the data set.
    fit : callable
        ``fit(data, seed) -> (draws, divergences)``: posterior draws of every quantity in
        ``truth`` (thinned here to ``n_draws``) and the fit's divergent transitions.
    replicates : int
        Number of simulated data sets.
    n_draws : int
        Posterior draws each truth is ranked among.
    seed : int
        Seed of the whole run: of the simulations, of each fit and of the tie-breaking.
    label : str, optional
        What the replicates are of, for the progress that ``make`` shows
        (:func:`pooling.progress.report`).
    scheduler : str, optional
        A Dask scheduler's address: the replicates run on its workers (``simulate`` and
        ``fit`` travel there by ``cloudpickle``; a :class:`pooling.fits.CompiledSampler`
        compiles once per worker). Default: here, one after another.

    Returns
    -------
    pandas.DataFrame
        One row per replicate: the rank of each quantity (columns in the order of ``truth``)
        and ``divergences``. ``attrs["n_draws"]`` is ``n_draws``.
    """
    what = f"{label}: replicates" if label else "replicates"
    args = (simulate, fit, n_draws, seed)
    if scheduler:
        rows = _on_cluster(scheduler, args, replicates, what)
    else:
        rows = []
        for replicate in range(replicates):
            rows.append(replicate_ranks(simulate, fit, replicate, n_draws, seed))
            report(replicate + 1, replicates, what)
    table = pd.DataFrame(rows).rename_axis("replicate")
    table.attrs["n_draws"] = n_draws
    return table


def _on_cluster(scheduler: str, args: tuple, replicates: int, what: str) -> list[dict]:
    """:func:`replicate_ranks` of every replicate on the cluster, in replicate order."""
    from distributed import Client, as_completed

    simulate, fit, n_draws, seed = args
    with Client(scheduler, set_as_default=False) as client:
        # Scattered once, not sent again with each of the replicates.
        simulate, fit = client.scatter([simulate, fit], broadcast=True, hash=False)
        futures = [client.submit(replicate_ranks, simulate, fit, r, n_draws, seed, pure=False)
                   for r in range(replicates)]  # fmt: skip
        for done, _ in enumerate(as_completed(futures, loop=client.loop), start=1):
            report(done, replicates, what)
        return client.gather(futures)


def pit(ranks: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Ranks as uniform values on (0, 1): ``(rank + U) / (L + 1)`` with ``U ~ Uniform(0, 1)``.

    Parameters
    ----------
    ranks : pandas.DataFrame
        From :func:`simulate_ranks` (the ``divergences`` column is dropped).
    seed : int
        Seed of the offsets.

    Returns
    -------
    pandas.DataFrame
        Same shape as the rank columns; each column uniform when the fit is calibrated.
    """
    values = ranks.drop(columns="divergences", errors="ignore")
    offset = np.random.default_rng(seed).uniform(size=values.shape)
    return (values + offset) / (ranks.attrs["n_draws"] + 1)


def band_prob(n_quantities: int, family_level: float = FAMILY_LEVEL) -> float:
    """Probability of each quantity's band when ``n_quantities`` are checked together."""
    return 1 - family_level / n_quantities


@functools.cache
def band(n: int, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous band of the ECDF of ``n`` uniform values at :data:`EVAL_POINTS`.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper limits of the ECDF; all of a uniform sample's ECDF stays inside with
        probability ``prob`` (up to the error of :data:`BAND_SIMULATIONS` simulations).
    """
    rng = np.random.default_rng(BAND_SEED)
    pointwise = simulate_confidence_bands(n, 1, EVAL_POINTS, prob, BAND_SIMULATIONS, rng)
    return get_pointwise_confidence_band(pointwise, n, EVAL_POINTS)


def uniformity(values: pd.DataFrame, family_level: float = FAMILY_LEVEL) -> pd.DataFrame:
    """Whether each column's ECDF stays inside its simultaneous band.

    Parameters
    ----------
    values : pandas.DataFrame
        Uniform values (from :func:`pit`), one column per quantity.
    family_level : float, optional
        Chance that some column of a calibrated fit leaves its band (:func:`band_prob`).

    Returns
    -------
    pandas.DataFrame
        Per quantity: the largest distance between ECDF and uniform CDF (``max_gap``), the
        band's half-width there (``allowed``) and ``ok`` (the ECDF inside the band everywhere).
    """
    n = len(values)
    lower, upper = band(n, band_prob(values.shape[1], family_level))
    rows = {}
    for quantity, column in values.items():
        ecdf = np.searchsorted(np.sort(column.to_numpy()), EVAL_POINTS, side="right") / n
        gap = ecdf - EVAL_POINTS
        worst = int(np.argmax(np.abs(gap)))
        rows[quantity] = {
            "max_gap": float(gap[worst]),
            "allowed": float((upper - lower)[worst] / 2),
            "ok": bool(np.all((ecdf >= lower) & (ecdf <= upper))),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("quantity")


def assert_calibrated(values: pd.DataFrame, family_level: float = FAMILY_LEVEL) -> pd.DataFrame:
    """Check that every quantity's ranks are uniform, at family-wise level ``family_level``.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`uniformity`.

    Raises
    ------
    CheckFailed
        Naming the quantities whose ECDF left the family-wise band.
    """
    what = f"Calibration check (family-wise level {family_level:g})"
    return fail_unless(uniformity(values, family_level), what)

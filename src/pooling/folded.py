"""The hierarchical model's likelihood folded over counts: a cost that does not grow with groups.

With each ``theta_i`` integrated out, group ``i`` contributes
``log B(alpha + y_i, beta + N_i - y_i) - log B(alpha, beta)`` (plus a constant), which is a
sum of three log rising factorials, ``log Gamma(x + k) - log Gamma(x)`` for ``x = alpha``
(``k = y_i``), ``beta`` (``k = N_i - y_i``) and ``alpha + beta`` (``k = N_i``, with a minus
sign). Summed over the groups, each distinct ``k`` of each series enters once, weighted by
how often it occurs, so a likelihood evaluation costs at most three times the largest number
of trials, whatever the number of groups: 100,000 groups cost what 3,000 do. The exact grid
(:mod:`pooling.exact.grid`) sums the same terms.

NUTS takes the same sums as three :class:`pooling.log_gamma_sums.GammaSeries` anchored at the
posterior mode (:class:`FoldedPrior`): a gradient then costs a few Taylor terms, 5
microseconds at 10^5 synthetic groups, and nothing is compiled per table.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pandas as pd

from pooling.log_gamma_sums import GammaSeries, series_sum

__all__ = ["LOG_RUN", "FoldedPrior", "RisingTerms", "fit_prior", "log_posterior",
           "prior_model", "rising_terms", "segments"]  # fmt: skip

#: Longest run of terms between distinct counts that :func:`segments` keeps as logs: on
#: the career batting table, 124 microseconds per NUTS step against 384 with a log Gamma per
#: distinct count and 225 with logs only (``benchmarks/folded_terms.py``).
LOG_RUN = 10

#: Most values in one array of terms that :meth:`RisingTerms.evaluate` builds at a time.
CHUNK_VALUES = 4_000_000
#: From this many distinct values of a series' variable, :meth:`RisingTerms.evaluate` tries a
#: Chebyshev interpolant of the series, of at most :data:`CHEBYSHEV_DEGREES` ...
INTERPOLATE_FROM = 4_000
CHEBYSHEV_DEGREES = (16, 32, 64)
#: ... and keeps it only where it matches the exact sums within this many times their
#: largest magnitude (about their own rounding) at :data:`CHEBYSHEV_CHECKS` of the values.
CHEBYSHEV_TOLERANCE = 1e-13
CHEBYSHEV_CHECKS = 65


class RisingTerms:
    """The distinct counts of each series and how often each occurs (``k = 0`` adds nothing).

    Parameters
    ----------
    trials, successes : numpy.ndarray
        Each group's counts, or each distinct pair's (a folded table).
    weights : numpy.ndarray, optional
        How many groups each row stands for (a folded table's ``count``); default one each.

    Attributes
    ----------
    successes, failures, trials : tuple of numpy.ndarray
        ``(distinct k, count)`` for ``y``, ``N - y`` and ``N``.
    """

    def __init__(
        self, trials: np.ndarray, successes: np.ndarray, weights: np.ndarray | None = None
    ):
        trials, successes = np.asarray(trials), np.asarray(successes)
        weights = np.ones(trials.shape) if weights is None else np.asarray(weights, float)
        self.successes = _tally(successes, weights)
        self.failures = _tally(trials - successes, weights)
        self.trials = _tally(trials, weights)
        self._segments: dict[int | None, list] = {}

    def series(self):
        """``(x index, sign, (k, count))`` for ``x = (alpha, beta, alpha + beta)``."""
        return zip((0, 1, 2), (1, 1, -1), (self.successes, self.failures, self.trials), strict=True)

    def log_likelihood(self, alpha, beta, gammaln):
        """The folded beta-binomial log likelihood, up to a constant.

        Parameters
        ----------
        alpha, beta : array_like or tensor
            Hyperparameters (broadcast with a trailing axis over the distinct counts).
        gammaln : callable
            ``log Gamma`` of the array library at hand: ``scipy.special.gammaln`` for NumPy,
            ``pytensor.tensor.gammaln`` for a PyMC model.
        """
        xs = (alpha, beta, alpha + beta)
        total = 0.0
        for which, sign, (steps, counts) in self.series():
            x = xs[which]
            if len(steps):
                terms = gammaln(x + steps) - gammaln(x)
                total = total + sign * (counts * terms).sum()
        return total

    def segmented(self, longest: int | None = None) -> list:
        """``(x index, sign, segments)`` of each non-empty series, as :func:`segments` writes
        them (computed once per ``longest``)."""
        if longest not in self._segments:
            self._segments[longest] = [
                (which, sign, segments(steps, counts, longest))
                for which, sign, (steps, counts) in self.series() if len(steps)
            ]  # fmt: skip
        return self._segments[longest]

    def tensor(self, alpha, beta, longest: int | None = None):
        """The folded log likelihood as a PyTensor expression in ``alpha`` and ``beta``.

        Each series as :func:`segments` writes it: the form that costs the least per
        gradient (``benchmarks/folded_terms.py``). Up to a constant.
        """
        import pytensor.tensor as pt

        xs = (alpha, beta, alpha + beta)
        total = pt.as_tensor_variable(0.0)
        for which, sign, ((log_at, log_weight), (gamma_at, gamma_weight)) in self.segmented(
            longest
        ):
            x = xs[which]
            if log_at.size:
                total = total + sign * (log_weight * pt.log(x + log_at)).sum()
            total = total + sign * (gamma_weight * pt.gammaln(x + gamma_at)).sum()
        return total

    def evaluate(self, alpha, beta) -> np.ndarray:
        """The folded log likelihood at every point of ``alpha`` and ``beta`` (NumPy).

        Each series as :func:`segments` writes it, once per distinct value of its ``x``
        (a grid's axis repeats them), at most :data:`CHUNK_VALUES` terms at a time: a log
        costs a tenth of a log Gamma in NumPy. Where a series is asked for at many values in
        a short range, a Chebyshev interpolant of it, checked against those sums, gives the
        same to rounding (:func:`_interpolated`). Up to a constant.

        Parameters
        ----------
        alpha, beta : array_like
            Points (broadcast together).

        Returns
        -------
        numpy.ndarray
            The shape of the broadcast points.
        """
        alpha, beta = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(beta, float))
        xs = (alpha, beta, alpha + beta)
        out = np.zeros(alpha.shape)
        for which, sign, terms in self.segmented():
            distinct, where = np.unique(xs[which], return_inverse=True)
            values = _interpolated(distinct, terms)
            if values is None:
                values = _sums(distinct, terms)
            out += sign * values[where].reshape(alpha.shape)
        return out


def _sums(x: np.ndarray, terms) -> np.ndarray:
    """One series (:func:`segments`' form) at each of ``x``, at most :data:`CHUNK_VALUES`
    terms at a time."""
    from scipy import special

    (log_at, log_weight), (gamma_at, gamma_weight) = terms
    values = np.empty(x.size)
    step = max(CHUNK_VALUES // (log_at.size + gamma_at.size), 1)
    for start in range(0, x.size, step):
        part = x[start : start + step, None]
        values[start : start + step] = (np.log(part + log_at) * log_weight).sum(axis=1) + (
            special.gammaln(part + gamma_at) * gamma_weight
        ).sum(axis=1)
    return values


def _interpolated(x: np.ndarray, terms) -> np.ndarray | None:
    """One series at each of ``x`` (sorted) from a Chebyshev interpolant over their range, or
    None when there are few of them or no interpolant matches the exact sums.

    A grid around a narrow posterior asks for the series at tens of thousands of values in a
    short range, far from its singularities at ``x <= 0``: there the series is analytic, and
    an interpolant of a few dozen exact sums matches it to rounding (checked, at every
    :data:`CHEBYSHEV_CHECKS`-th value, before it is used).
    """
    # The nearest singularity (0) at least a half-width beyond the range: the error of a
    # degree-d interpolant falls as 3.7^-d or faster.
    if x.size < INTERPOLATE_FROM or x[-1] > 3 * x[0]:
        return None
    checked = x[np.linspace(0, x.size - 1, CHEBYSHEV_CHECKS).round().astype(int)]
    exact = _sums(checked, terms)
    tolerance = CHEBYSHEV_TOLERANCE * max(np.abs(exact).max(), 1.0)
    for degree in CHEBYSHEV_DEGREES:
        series = np.polynomial.Chebyshev.interpolate(_sums, degree, domain=[x[0], x[-1]],
                                                      args=(terms,))  # fmt: skip
        if np.abs(series(checked) - exact).max() <= tolerance:
            return series(x)
    return None


def _tally(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kept = values != 0
    distinct, where = np.unique(values[kept], return_inverse=True)
    return distinct.astype(float), np.bincount(where, weights[kept], distinct.size)


def segments(steps: np.ndarray, counts: np.ndarray, longest: int | None = None):
    """One folded series as logs where its distinct counts are dense, log Gammas where sparse.

    ``sum_m c_m (log Gamma(x + k_m) - log Gamma(x))`` equals ``sum_j w_j log(x + j)`` over
    ``j < max k``, where ``w_j`` counts the groups with ``k > j``. ``w_j`` is constant between
    consecutive distinct counts, and a run of ``L`` such terms is also
    ``w (log Gamma(x + k_m) - log Gamma(x + k_{m-1}))``: runs of at most ``longest`` terms
    are kept as logs, longer ones become two log Gammas (shared between neighbours). Both
    give the same value; the mix costs the least per gradient (``benchmarks/folded_terms.py``).

    Parameters
    ----------
    steps, counts : numpy.ndarray
        Distinct counts ``k_m`` (ascending, positive) and how often each occurs.
    longest : int, optional
        Longest run kept as logs; default :data:`LOG_RUN`.

    Returns
    -------
    (log_at, log_weight), (gamma_at, gamma_weight) : tuple of numpy.ndarray pairs
        The series is ``sum(log_weight * log(x + log_at)) +
        sum(gamma_weight * log Gamma(x + gamma_at))``.
    """
    longest = LOG_RUN if longest is None else longest
    ends = np.asarray(steps, float)
    starts = np.concatenate([[0.0], ends[:-1]])
    weights = np.asarray(counts, float)[::-1].cumsum()[::-1]  # groups with k >= k_m
    short = ends - starts <= longest
    log_at = np.concatenate([np.arange(a, b) for a, b in zip(starts[short], ends[short],
                                                             strict=True)] or [[]])  # fmt: skip
    log_weight = np.repeat(weights[short], (ends - starts)[short].astype(int))
    points = np.concatenate([ends[~short], starts[~short]])
    values = np.concatenate([weights[~short], -weights[~short]])
    gamma_at, where = np.unique(np.concatenate([points, [0.0]]), return_inverse=True)
    gamma_weight = np.bincount(where, np.concatenate([values, [0.0]]), gamma_at.size)
    return (log_at, log_weight), (gamma_at, gamma_weight)


def rising_terms(groups: pd.DataFrame) -> RisingTerms:
    """The folded terms of a groups table.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``, and for a folded table
        (:func:`pooling.estimates.fold`) ``count``, the groups each row stands for.

    Returns
    -------
    RisingTerms
    """
    weights = groups["count"].to_numpy() if "count" in groups else None
    return RisingTerms(groups["trials"].to_numpy(), groups["successes"].to_numpy(), weights)


def prior_model(groups: pd.DataFrame, sigma: float):
    """The hierarchical model with theta integrated out and its likelihood folded.

    The same posterior of ``(alpha, beta)`` as notebook 3's beta-binomial model, at a cost
    that depends on the distinct counts only.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``.
    sigma : float
        Scale of the ``HalfNormal`` priors on ``alpha`` and ``beta``.

    Returns
    -------
    pymc.Model
        Free ``alpha`` and ``beta`` (PyMC's default log coordinates), deterministic ``mu``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    terms = rising_terms(groups)
    with pm.Model() as model:
        alpha = pm.HalfNormal("alpha", sigma=sigma)
        beta = pm.HalfNormal("beta", sigma=sigma)
        pm.Deterministic("mu", alpha / (alpha + beta))
        # Logs where the distinct counts are dense, log Gammas where sparse: 7.5 times faster
        # per draw than a log Gamma per distinct count at 10^5 synthetic groups. A table with
        # no trials at all has no terms: the likelihood is the constant 0.
        pm.Potential("y", pt.as_tensor_variable(terms.tensor(alpha, beta)))
    return model


@numba.njit(cache=True, nogil=True)
def log_posterior(point, sigma, successes, failures, trials, gradient):
    """The log posterior density of ``(log alpha, log beta)`` and its gradient.

    Parameters
    ----------
    point : numpy.ndarray
        ``[log alpha, log beta]``.
    sigma : float
        Scale of the ``HalfNormal`` priors on ``alpha`` and ``beta``.
    successes, failures, trials : tuple
        The first seven of :attr:`pooling.log_gamma_sums.GammaSeries.arrays` of the series
        in ``alpha``, ``beta`` and ``alpha + beta`` (one block each).
    gradient : numpy.ndarray
        Receives the gradient (two values).

    Returns
    -------
    float
        Up to a constant: the priors, the Jacobian of the logs and the folded likelihood.
    """
    alpha, beta = math.exp(point[0]), math.exp(point[1])
    # Unpacked here so that Numba inlines series_sum.
    s0, s1, s2, s3, s4, s5, s6 = successes
    f0, f1, f2, f3, f4, f5, f6 = failures
    n0, n1, n2, n3, n4, n5, n6 = trials
    value_a, d_alpha = series_sum(0, alpha, s0, s1, s2, s3, s4, s5, s6)
    value_b, d_beta = series_sum(0, beta, f0, f1, f2, f3, f4, f5, f6)
    value_n, d_total = series_sum(0, alpha + beta, n0, n1, n2, n3, n4, n5, n6)
    scale = 1.0 / (sigma * sigma)
    gradient[0] = alpha * (d_alpha - d_total) - alpha * alpha * scale + 1.0
    gradient[1] = beta * (d_beta - d_total) - beta * beta * scale + 1.0
    prior = -0.5 * (alpha * alpha + beta * beta) * scale + point[0] + point[1]
    return value_a + value_b - value_n + prior


class FoldedPrior:
    """The hierarchical model's log posterior in ``(log alpha, log beta)``, for NUTS.

    :func:`log_posterior` on the folded terms of :func:`rising_terms`, each series held as
    ``sum_m c_m (log Gamma(x + k_m) - log Gamma(x))`` and anchored at the posterior mode: the
    same density as :func:`prior_model` (tested), without a compile per table.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes`` (and ``count`` for a folded table).
    sigma : float
        Scale of the ``HalfNormal`` priors.
    """

    def __init__(self, groups: pd.DataFrame, sigma: float):
        self.sigma = float(sigma)
        self._series = tuple(_rising_series(k, count) for _, _, (k, count)
                             in rising_terms(groups).series())  # fmt: skip
        #: Where the chains start from (before their jitter): alpha = beta = sigma.
        self.centre = np.full(2, math.log(self.sigma))
        self.anchor = self.mode()
        alpha, beta = np.exp(self.anchor)
        for series, x in zip(self._series, (alpha, beta, alpha + beta), strict=True):
            series.expand_at(np.array([x]))

    def value_and_gradient(self, point) -> tuple[float, np.ndarray]:
        """The log posterior density at ``[log alpha, log beta]`` and its gradient."""
        gradient = np.empty(2)
        arrays = [series.arrays[:7] for series in self._series]
        value = log_posterior(np.asarray(point, float), self.sigma, *arrays, gradient)
        return float(value), gradient

    def mode(self) -> np.ndarray:
        """The posterior mode of ``[log alpha, log beta]`` (BFGS from :attr:`centre`)."""
        from pooling.function_fits import posterior_mode

        return posterior_mode(self.value_and_gradient, self.centre)

    def sample(self, *, draws: int, tune: int, chains: int, target_accept: float, seed: int,
               mass_matrix: str = "diagonal"):  # fmt: skip
        """NUTS (nutpie) on one core: posterior of ``alpha``, ``beta`` and ``mu``.

        A gradient costs a few microseconds, less than nutpie's call into Python, which holds
        the interpreter's lock: chains on two cores take twice as long as on one (measured
        at 10^5 synthetic groups, ``benchmarks/folded_sampler.py``).
        """
        from pooling.function_fits import sample_function

        def expand(point):
            alpha, beta = math.exp(point[0]), math.exp(point[1])
            return {"alpha": np.array(alpha), "beta": np.array(beta),
                    "mu": np.array(alpha / (alpha + beta))}  # fmt: skip

        return sample_function(
            self.value_and_gradient, expand, {"alpha": (), "beta": (), "mu": ()}, self.centre,
            draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed,
            mass_matrix=mass_matrix, cores=1,
        )  # fmt: skip


def _rising_series(k: np.ndarray, count: np.ndarray) -> GammaSeries:
    """``sum c (log Gamma(x + k) - log Gamma(x))`` as one block: the rows, and ``k = 0``
    with minus every count."""
    return GammaSeries(np.zeros(k.size + 1, np.int64), np.r_[k, 0.0], np.r_[count, -count.sum()],
                       1)  # fmt: skip


def fit_prior(
    groups: pd.DataFrame,
    *,
    sigma: float,
    seed: int,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float,
    sampler: str = "nutpie",
    mass_matrix: str = "diagonal",
):
    """Fit the population distribution ``Beta(alpha, beta)``: NUTS on the folded model.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``.
    sigma : float
        Scale of the hyperpriors.
    seed, draws, tune, chains, target_accept : int or float
        Sampler settings (as notebook 3's for the model with theta integrated out).
    sampler : {"nutpie", "pymc"}, optional
        nutpie on :class:`FoldedPrior`, or PyMC's NUTS on :func:`prior_model`.
    mass_matrix : {"diagonal", "low rank"}, optional
        As :class:`pooling.fits.CompiledSampler` takes it.

    Returns
    -------
    xarray.DataTree
        Posterior of ``alpha``, ``beta`` and ``mu``, with sample statistics.
    """
    if sampler == "nutpie":
        return FoldedPrior(groups, sigma).sample(
            draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed,
            mass_matrix=mass_matrix,
        )  # fmt: skip
    from pooling.fits import CompiledSampler, model_variables  # here: PyMC only for PyMC

    model = prior_model(groups, sigma)
    idata = CompiledSampler(model, sampler, mass_matrix).sample(
        draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed
    )
    return model_variables(idata, model)

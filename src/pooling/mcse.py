"""The Monte Carlo error of the means or quantiles of many quantities at once, as ArviZ
gives it for one.

``arviz.mcse(method="mean")`` computes each quantity's effective sample size in a Python
loop of its own: 14 s for the 38,817 distinct rows of 10^5 synthetic groups, whose every
posterior mean the estimates run checks. :func:`mcse_of_means` runs the same algorithm
(split chains, FFT autocovariances, Geyer's initial positive and monotone sequences) on
all of them together, with the same values (tested against ArviZ), and
:func:`mcse_of_quantiles` does the same for ``method="quantile"`` (the rank quantiles of
every group, from joint draws).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COLUMNS_AT_ONCE",
    "ess_of_means",
    "mcse_and_ess_of_means",
    "mcse_of_means",
    "mcse_of_quantiles",
]

#: Columns whose autocovariances are computed together (each holds its draws' spectrum).
COLUMNS_AT_ONCE = 20_000


def _autocovariances(values: np.ndarray) -> np.ndarray:
    """Each chain's autocovariance at every lag, along axis 1 (biased, as ArviZ's)."""
    n = values.shape[1]
    centred = values - values.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n] / n


def ess_of_means(values: np.ndarray) -> np.ndarray:
    """The effective sample size of the mean of each column.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(chains, draws, columns)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(columns,)``: ``arviz.ess(method="mean")`` of each column.
    """
    values = np.asarray(values, float)
    half = values.shape[1] // 2
    split = np.concatenate([values[:, :half], values[:, -half:]])  # as ArviZ splits chains
    n_chain, n_draw = split.shape[:2]
    acov = _autocovariances(split)
    mean_var = acov[:, 0].mean(axis=0) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus = var_plus + split.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (lags, columns)
    columns = values.shape[2]
    rho_t = np.zeros((n_draw, columns))
    rho_t[0], rho_t[1] = 1.0, rho[1]
    # Geyer's initial positive sequence: pairs of lags while their sum stays positive.
    even, odd = np.ones(columns), rho[1].copy()
    going = np.ones(columns, bool)
    t = np.ones(columns, int)
    step = 1
    while step < n_draw - 3:
        going &= (even + odd) > 0.0
        if not going.any():
            break
        new_even, new_odd = rho[step + 1], rho[step + 2]
        kept = going & (new_even + new_odd >= 0)
        rho_t[step + 1] = np.where(kept, new_even, rho_t[step + 1])
        rho_t[step + 2] = np.where(kept, new_odd, rho_t[step + 2])
        even, odd = np.where(going, new_even, even), np.where(going, new_odd, odd)
        t = np.where(going, step + 2, t)
        step += 2
    # A column still going when the lags ran out stops there, as ArviZ's loop does.
    max_t = t - 2
    at = np.arange(columns)
    positive = even > 0
    rho_t[(max_t + 1)[positive], at[positive]] = even[positive]
    # Geyer's initial monotone sequence.
    for lag in range(1, int(max_t.max(initial=0)) - 1, 2):
        inside = lag <= max_t - 2
        larger = (rho_t[lag + 1] + rho_t[lag + 2]) > (rho_t[lag - 1] + rho_t[lag])
        fix = inside & larger
        average = (rho_t[lag - 1] + rho_t[lag]) / 2.0
        rho_t[lag + 1] = np.where(fix, average, rho_t[lag + 1])
        rho_t[lag + 2] = np.where(fix, average, rho_t[lag + 2])
    lags = np.arange(n_draw)[:, None]
    tau = (-1.0 + 2.0 * np.where(lags <= max_t, rho_t, 0.0).sum(axis=0)
           + np.where(lags == max_t + 1, rho_t, 0.0).sum(axis=0))  # fmt: skip
    ess = n_chain * n_draw
    tau = np.maximum(tau, 1 / np.log10(ess))
    out = ess / tau
    out[np.isnan(rho_t).any(axis=0)] = np.nan
    # A constant column: every draw of the split chains counts.
    constant = (split.max(axis=(0, 1)) - split.min(axis=(0, 1))) < np.finfo(float).resolution
    out[constant] = n_chain * n_draw
    return out


def mcse_of_means(values: np.ndarray) -> np.ndarray:
    """The Monte Carlo standard error of the mean of each column.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(chains, draws, columns)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(columns,)``: ``arviz.mcse(method="mean")`` of each column.
    """
    return mcse_and_ess_of_means(values)[0]


def mcse_and_ess_of_means(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mcse_of_means` and :func:`ess_of_means` of each column, computed once.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(chains, draws, columns)``.

    Returns
    -------
    mcse, ess : numpy.ndarray
        Shape ``(columns,)`` each.
    """
    values = np.asarray(values, float)
    ess = _by_blocks(values, lambda part, flat: ess_of_means(part))
    sd = _by_blocks(values, lambda part, flat: flat.std(axis=0, ddof=1))
    return sd / np.sqrt(ess), ess


def _by_blocks(values: np.ndarray, error) -> np.ndarray:
    """``error(part, flat)`` of :data:`COLUMNS_AT_ONCE` columns at a time: ``part`` the
    ``(chains, draws, columns)`` block, ``flat`` its chains joined."""
    out = np.empty(values.shape[2])
    for start in range(0, values.shape[2], COLUMNS_AT_ONCE):
        part = values[:, :, start : start + COLUMNS_AT_ONCE]
        out[start : start + part.shape[2]] = error(part, part.reshape(-1, part.shape[2]))
    return out


#: Probabilities of one standard normal error either side, as ArviZ takes them.
_ONE_SD = np.array([0.1586553, 0.8413447])


def mcse_of_quantiles(values: np.ndarray, prob: float) -> np.ndarray:
    """The Monte Carlo standard error of the ``prob`` quantile of each column.

    ArviZ's: the effective sample size of the indicator of a draw at or below the quantile
    gives a Beta posterior of the quantile's position among the sorted draws, and the error is
    half the distance between the draws at its 15.9 % and 84.1 % points.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(chains, draws, columns)``.
    prob : float

    Returns
    -------
    numpy.ndarray
        Shape ``(columns,)``: ``arviz.mcse(method="quantile", prob=prob)`` of each column.
    """
    from scipy import stats

    def error(part, flat):
        ess = ess_of_means((part <= np.quantile(flat, prob, axis=0)).astype(float))
        with np.errstate(invalid="ignore"):
            ppf = stats.beta.ppf(_ONE_SD[:, None], ess * prob + 1, ess * (1 - prob) + 1)
        size = flat.shape[0]
        low = np.floor(np.fmax(ppf[0] * size - 1, 0)).astype(int)
        high = np.ceil(np.fmin(ppf[1] * size - 1, size - 1)).astype(int)
        ordered, at = np.sort(flat, axis=0), np.arange(flat.shape[1])
        return (ordered[high, at] - ordered[low, at]) / 2

    return _by_blocks(np.asarray(values), error)

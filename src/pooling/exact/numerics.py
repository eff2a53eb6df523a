"""Numerics shared by the grid posteriors and the sampled summaries."""

from __future__ import annotations

import numpy as np
from scipy import optimize, special
from scipy.interpolate import CubicSpline

from pooling.exact.conjugate import QUANTILES

__all__ = ["laplace_sd", "mixture_quantile", "mu_kappa_to_log_ab", "quantiles_from_density",
           "refine_maximum"]  # fmt: skip


def quantiles_from_density(x: np.ndarray, density: np.ndarray) -> np.ndarray:
    """Quantiles of a smooth density tabulated on a fine regular grid (cubic-spline CDF)."""
    cdf = CubicSpline(x, density).antiderivative()
    total = cdf(x[-1])

    def quantile(q: float) -> float:
        return optimize.brentq(lambda t: cdf(t) / total - q, x[0], x[-1], xtol=1e-12)

    return np.array([quantile(q) for q in QUANTILES])


def mu_kappa_to_log_ab(eta, log_kappa):
    """Map ``(logit mu, log(alpha + beta))`` to ``(log alpha, log beta)``.

    The map is linear with unit Jacobian, so a density per unit area is the same in both.

    Parameters
    ----------
    eta, log_kappa : array_like
        ``logit(alpha / (alpha + beta))`` and ``log(alpha + beta)``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(log alpha, log beta)``.
    """
    return log_kappa - np.logaddexp(0, -eta), log_kappa - np.logaddexp(0, eta)


def refine_maximum(pdf, grid: np.ndarray, xatol: float = 1e-9, values=None) -> float:
    """Location of the maximum of a one-dimensional density.

    Parameters
    ----------
    pdf : callable
        Vectorised density.
    grid : numpy.ndarray
        Increasing points fine enough that the maximum lies between the neighbours of the
        best grid point.
    xatol : float, optional
        Absolute tolerance of the refinement.
    values : numpy.ndarray, optional
        ``pdf(grid)``, when the caller has it already.

    Returns
    -------
    float
    """
    k = int(np.argmax(pdf(grid) if values is None else values))
    res = optimize.minimize_scalar(
        lambda x: -pdf(x)[0],
        bounds=(grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]),
        method="bounded",
        options={"xatol": xatol},
    )
    return float(res.x)


def mixture_quantile(q: float, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    """Quantile of the mixture ``sum_k w_k Beta(a_k, b_k)``."""
    return optimize.brentq(lambda t: w @ special.betainc(a, b, t) - q, 0.0, 1.0, xtol=1e-12)


def laplace_sd(negative, mode: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Marginal standard deviations from the curvature of ``negative`` at its minimum.

    The Laplace approximation: the inverse of the Hessian of the negative log density at
    its mode, by central differences.

    Parameters
    ----------
    negative : callable
        ``point -> float``: the negative log density (up to a constant).
    mode : numpy.ndarray
        Where it is smallest.
    steps : numpy.ndarray
        The difference step of each coordinate.

    Returns
    -------
    numpy.ndarray
        One per coordinate; 1 where the point is flat or saddle-shaped (no usable
        curvature), a wide span for the box that the grid starts from.
    """
    n = mode.size
    hessian = np.empty((n, n))
    for a in range(n):
        for b in range(a, n):
            ea, eb = np.eye(n)[a] * steps[a], np.eye(n)[b] * steps[b]
            corners = negative(mode + ea + eb) - negative(mode + ea - eb)
            corners += negative(mode - ea - eb) - negative(mode - ea + eb)
            hessian[a, b] = hessian[b, a] = corners / (4 * steps[a] * steps[b])
    try:
        with np.errstate(invalid="ignore"):  # a saddle's negative variance: handled below
            sd = np.sqrt(np.diag(np.linalg.inv(hessian)))
    except np.linalg.LinAlgError:
        sd = np.full(n, np.nan)
    return np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)

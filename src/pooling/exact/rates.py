"""The rates under the hierarchical grid posterior: mixtures of Beta distributions.

Given ``(alpha, beta)``, group ``i``'s rate is ``Beta(alpha + y_i, beta + N_i - y_i)``, and a
new group's is ``Beta(alpha, beta)``; over the grid weights each is a finite mixture, whose
mean, sd, quantiles and density are exact up to the grid [1]_.

References
----------
.. [1] Gelman, A., Carlin, J. B., Stern, H. S., Dunson, D. B., Vehtari, A. and Rubin, D. B.
   (2013). *Bayesian Data Analysis*, 3rd ed., chapter 5. CRC Press.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from pooling.exact.conjugate import QUANTILES
from pooling.exact.numerics import mixture_quantile

__all__ = ["RatesMixin"]


class RatesMixin:
    """The rate methods of :class:`~pooling.exact.grid.HierarchicalPosterior`.

    Needs ``_ab_grid`` (grid axes and weights), ``names``, ``trials`` and ``successes``.
    """

    def _mixture(self, extra_a: float, extra_b: float):
        """Components and weights of ``sum w Beta(alpha + extra_a, beta + extra_b)``."""
        u, v, w, _ = self._ab_grid
        a, b = np.meshgrid(np.exp(u), np.exp(v), indexing="ij")
        keep = w > w.max() * 1e-16  # the rest carries far less than 1e-10 of the mass
        return a[keep] + extra_a, b[keep] + extra_b, w[keep] / w[keep].sum()

    def _mixture_row(self, extra_a: float, extra_b: float) -> list[float]:
        a, b, w = self._mixture(extra_a, extra_b)
        mean = w @ (a / (a + b))
        second = w @ (a * (a + 1) / ((a + b) * (a + b + 1)))
        return [
            mean,
            np.sqrt(second - mean**2),
            *(mixture_quantile(q, a, b, w) for q in QUANTILES),
        ]

    def prob_above(self, group: str, threshold: float | None = None) -> float:
        """Exact posterior probability that a group's rate exceeds ``threshold``.

        Parameters
        ----------
        group : str
            Group name.
        threshold : float, optional
            A rate; default the population mean ``mu = alpha / (alpha + beta)``, which varies
            over the grid with the hyperparameters.

        Returns
        -------
        float
            ``sum_grid w * P(Beta(alpha + y, beta + N - y) > threshold)``.
        """
        a, b, w = self._mixture(*self._extra(group))
        if threshold is None:
            extra_a, extra_b = self._extra(group)
            threshold = (a - extra_a) / (a - extra_a + b - extra_b)
        return float(w @ special.betaincc(a, b, threshold))

    def theta_pdf(self, x: np.ndarray, group: str | None = None) -> np.ndarray:
        """Exact posterior density of a group's rate, or of a new group's when ``group=None``.

        Parameters
        ----------
        x : array_like
            Points in [0, 1] (at 0 and 1, the density's limit: 0 or inf).
        group : str, optional
            Group name; ``None`` for a new, unobserved group.

        Returns
        -------
        numpy.ndarray
            The mixture density at ``x``.
        """
        a, b, w = self._mixture(*self._extra(group))
        # Beta's log density written out: scipy.stats would recompute log B(a, b) per point.
        log_norm = np.log(w) - special.betaln(a, b)
        x = np.atleast_1d(np.asarray(x, float))
        out = np.empty_like(x)
        for k in range(0, len(x), 64):  # chunks bound the memory of the (points x grid) array
            chunk = x[k : k + 64, None]
            with np.errstate(divide="ignore"):  # log(0) at the ends: -inf is the right limit
                terms = (a - 1) * np.log(chunk) + (b - 1) * np.log1p(-chunk) + log_norm
            out[k : k + 64] = np.exp(terms).sum(axis=1)
        return out

    def _extra(self, group: str | None) -> tuple[float, float]:
        if group is None:
            return 0.0, 0.0
        i = self.names.index(group)
        return self.successes[i], self.trials[i] - self.successes[i]

"""The grid posterior's predictions: a new record, and a group's record given the others.

Each averages the beta-binomial over the grid posterior, as in BDA3's chapter 5;
:mod:`pooling.exact.holdout` turns the second into the leave-one-group-out yardstick.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = ["PredictiveMixin"]


class PredictiveMixin:
    """The predictive methods of :class:`~pooling.exact.grid.HierarchicalPosterior`.

    Needs ``_ab_grid`` (grid axes and weights), ``trials`` and ``successes``.
    """

    def log_predictive(self, trials: int, successes: int) -> float:
        """Log posterior predictive probability of a new group's successes.

        Parameters
        ----------
        trials, successes : int
            The new group's data.

        Returns
        -------
        float
            ``log sum_grid w(alpha, beta) BetaBinomial(successes | trials, alpha, beta)``.
        """
        log_w, log_pmf = self._grid_log_pmf(trials, successes)
        # Weights as logs: logsumexp's own scaling by b overflows for weights near 1e-308.
        return float(special.logsumexp(log_pmf + log_w))

    def _grid_log_pmf(self, trials, successes) -> tuple[np.ndarray, np.ndarray]:
        """Log grid weights and the beta-binomial log pmf of a record, at the grid points.

        Points whose weight underflowed to 0 are left out: they add nothing to any average.
        """
        u, v, w, _ = self._ab_grid
        a, b = np.meshgrid(np.exp(u), np.exp(v), indexing="ij")
        keep = w > 0
        return np.log(w[keep]), stats.betabinom.logpmf(successes, trials, a[keep], b[keep])

    def log_predictive_without(self, i: int) -> float | None:
        """``log p(y_i | y_-i)`` for group ``i``, from this grid, when the grid suits it.

        The posterior without group ``i`` is this grid's posterior divided by group ``i``'s
        likelihood, so ``p(y_i | y_-i) = 1 / sum_k w_k / L_ik`` over the grid weights ``w``.
        That holds only where the divided weights still lie well inside the grid and are not
        carried by a few points, which is the case when one group is a small part of the data.

        Parameters
        ----------
        i : int
            Position of the group.

        Returns
        -------
        float or None
            The value; ``None`` when the divided weights put more than 1e-9 of their mass on
            the grid's edge or have fewer than half the grid's effective points, and a grid of
            its own is needed (:func:`leave_one_group_out` then builds one).
        """
        w = self._ab_grid[2]
        log_w, log_like = self._grid_log_pmf(self.trials[i], self.successes[i])
        log_ratio = log_w - log_like
        divided = np.zeros_like(w)
        divided[w > 0] = np.exp(log_ratio - log_ratio.max())
        divided /= divided.sum()
        edge = divided[0].sum() + divided[-1].sum() + divided[:, 0].sum() + divided[:, -1].sum()
        if edge > 1e-9 or np.sum(w**2) / np.sum(divided**2) < 0.5:
            return None
        return float(-special.logsumexp(log_ratio))

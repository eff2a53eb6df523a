"""The hierarchical model's likelihood folded over counts: a cost that does not grow with groups.

With each ``theta_i`` integrated out, group ``i`` contributes
``log B(alpha + y_i, beta + N_i - y_i) - log B(alpha, beta)`` (plus a constant), which is a
sum of three log rising factorials, ``log Gamma(x + k) - log Gamma(x)`` for ``x = alpha``
(``k = y_i``), ``beta`` (``k = N_i - y_i``) and ``alpha + beta`` (``k = N_i``, with a minus
sign). Summed over the groups, each distinct ``k`` of each series enters once, weighted by
how often it occurs, so a likelihood evaluation costs at most three times the largest number
of trials, whatever the number of groups: 100,000 groups cost what 3,000 do. The exact grid
(:mod:`pooling.exact.grid`) sums the same terms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["RisingTerms", "fit_prior", "prior_model", "rising_terms"]


class RisingTerms:
    """The distinct counts of each series and how often each occurs (``k = 0`` adds nothing).

    Attributes
    ----------
    successes, failures, trials : tuple of numpy.ndarray
        ``(distinct k, count)`` for ``y``, ``N - y`` and ``N``.
    """

    def __init__(self, trials: np.ndarray, successes: np.ndarray):
        trials, successes = np.asarray(trials), np.asarray(successes)
        self.successes = _tally(successes)
        self.failures = _tally(trials - successes)
        self.trials = _tally(trials)

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


def _tally(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    distinct, counts = np.unique(values[values != 0], return_counts=True)
    return distinct.astype(float), counts.astype(float)


def rising_terms(groups: pd.DataFrame) -> RisingTerms:
    """The folded terms of a groups table.

    Parameters
    ----------
    groups : pandas.DataFrame
        Columns ``trials`` and ``successes``.

    Returns
    -------
    RisingTerms
    """
    return RisingTerms(groups["trials"].to_numpy(), groups["successes"].to_numpy())


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
        # A table with no trials at all has no terms: the likelihood is the constant 0.
        pm.Potential("y", pt.as_tensor_variable(terms.log_likelihood(alpha, beta, pt.gammaln)))
    return model


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

    Returns
    -------
    arviz.InferenceData
        Posterior of ``alpha``, ``beta`` and ``mu``, with sample statistics.
    """
    from pooling.fits import CompiledSampler, model_variables

    model = prior_model(groups, sigma)
    idata = CompiledSampler(model, sampler).sample(
        draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed
    )
    return model_variables(idata, model)

"""What every fit gets right after sampling, whichever model and sampler produced it."""

from __future__ import annotations

import pymc as pm


def model_variables(idata, model):
    """Drop the sampler's unconstrained copies of the variables from ``idata.posterior``.

    nutpie also stores the sampler's unconstrained copies (``alpha_log__``,
    ``theta_logodds__``) in the posterior, even when asked not to (nutpie issue 215); they
    would clutter every summary and plot.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fresh fit.
    model : pymc.Model
        The model it came from.

    Returns
    -------
    arviz.InferenceData
        The same object, modified in place.
    """
    own = {v.name for v in model.free_RVs}
    unconstrained = [v.name for v in model.value_vars if v.name not in own]
    idata.posterior = idata.posterior.drop_vars(unconstrained, errors="ignore")
    return idata


def complete(idata, model, seed: int):
    """Tidy a fit and add its pointwise log-likelihood and posterior predictive draws.

    nutpie ignores ``idata_kwargs``, so the log-likelihood (needed for LOO) is computed here
    for both samplers.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fresh fit of ``model``.
    model : pymc.Model
        The model it came from.
    seed : int
        Seed for the posterior predictive draws.

    Returns
    -------
    arviz.InferenceData
        The same object, with ``log_likelihood`` and ``posterior_predictive`` groups.
    """
    model_variables(idata, model)
    with model:
        pm.compute_log_likelihood(idata, progressbar=False)
        pm.sample_posterior_predictive(
            idata, extend_inferencedata=True, random_seed=seed, progressbar=False
        )
    return idata

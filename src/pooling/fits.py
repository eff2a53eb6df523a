"""Fitting a model once and refitting it cheaply, and what every fit gets after sampling."""

from __future__ import annotations

import uuid
import warnings

import pymc as pm

import pooling.digamma  # noqa: F401  (PyTensor's Numba digamma, the same however compiled)
from pooling.function_fits import MASS_MATRICES

__all__ = [
    "FREEZE_FROM", "MASS_MATRICES", "CompiledSampler", "complete", "model_variables",
    "sample_options",
]  # fmt: skip

#: From this many values in a ``pm.Data`` container, nutpie's fit compiles the data in as
#: constants (see :class:`CompiledSampler`).
FREEZE_FROM = 1000


def sample_options(mass_matrix: str, sampler: str = "nutpie") -> dict:
    """The keyword arguments that ask ``pm.sample`` for a mass matrix of :data:`MASS_MATRICES`.

    Parameters
    ----------
    mass_matrix : {"diagonal", "low rank"}
    sampler : {"nutpie", "pymc"}
        ``pm.sample``'s ``nuts_sampler``.

    Returns
    -------
    dict
        Empty for the diagonal mass matrix (both samplers' default).
    """
    nutpie_options, pymc_options = MASS_MATRICES[mass_matrix]
    # Copies: pm.sample adds target_accept to the dict it is given as ``nuts``.
    if sampler == "nutpie":
        return {"nuts": dict(nutpie_options)} if nutpie_options else {}
    return dict(pymc_options)


#: The samplers compiled in this process, by token: what an unpickled copy reuses.
_COMPILED: dict[str, CompiledSampler] = {}


class CompiledSampler:
    """NUTS on one model, compiled once: the fit and every refit with other data share it.

    Compiling a model for nutpie takes seconds; sampling these small models takes a fraction
    of that. Refits that only change the data (:mod:`pooling.refits`) therefore reuse the
    compiled model (``CompiledModel.with_data``) instead of compiling again.

    With many groups it is the other way round: sampling one rate per group takes minutes,
    and every gradient recomputes the terms that depend on the data alone (the binomial
    coefficients) when the data are ``pm.Data``. From :data:`FREEZE_FROM` values in a
    container, the fit without new data is therefore compiled with the data as constants
    (nutpie's ``freeze_model``; 2.1x faster per leapfrog step at 3,000 groups), and refits
    compile the model with its containers once more, on the first refit.

    Parameters
    ----------
    model : pymc.Model
        The model. Data that refits replace must be ``pm.Data`` containers.
    sampler : {"nutpie", "pymc"}
        NUTS implementation: nutpie (compiled here, once) or PyMC's built-in NUTS.
    mass_matrix : {"diagonal", "low rank"}
        The mass matrix NUTS adapts while tuning (:data:`MASS_MATRICES`), for every fit and
        refit of this model.
    """

    def __init__(self, model: pm.Model, sampler: str = "nutpie", mass_matrix: str = "diagonal"):
        if sampler not in ("nutpie", "pymc"):
            raise ValueError(f"sampler must be 'nutpie' or 'pymc', not {sampler!r}")
        if mass_matrix not in MASS_MATRICES:
            raise ValueError(
                f"mass_matrix must be one of {sorted(MASS_MATRICES)}, not {mass_matrix!r}"
            )
        self.model, self.sampler = model, sampler
        self._nutpie_options, self._pymc_options = MASS_MATRICES[mass_matrix]
        self._token = uuid.uuid4().hex
        self._compiled = self._refittable = None
        self._compile_once()

    def _compile_once(self) -> None:
        if self.sampler != "nutpie" or self._compiled is not None:
            return
        sizes = [container.get_value().size for container in self.model.data_vars]
        frozen = max(sizes, default=0) >= FREEZE_FROM
        self._compiled = self._compile(freeze_model=frozen)
        self._refittable = None if frozen else self._compiled
        _COMPILED[self._token] = self

    def _compile(self, **kwargs):
        import nutpie

        return nutpie.compile_pymc_model(self.model, **kwargs)

    # A compiled nutpie model cannot be pickled: a copy sent to another process (a Dask
    # worker) compiles there on its first fit, and every later copy of the same sampler in
    # that process reuses that compilation.
    def __getstate__(self) -> dict:
        return {**self.__dict__, "_compiled": None, "_refittable": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        known = _COMPILED.get(self._token)
        if known is not None:
            self._compiled, self._refittable = known._compiled, known._refittable

    def sample(
        self,
        *,
        draws: int,
        tune: int,
        chains: int,
        target_accept: float,
        seed: int,
        data: dict | None = None,
    ):
        """Sample the model, optionally with other values of its ``pm.Data`` containers.

        Parameters
        ----------
        draws, tune, chains : int
            Draws and tuning steps per chain, and the number of chains.
        target_accept : float
            NUTS's target acceptance rate.
        seed : int
            Seed of the run: the same seed gives the same draws on the same machine.
        data : dict, optional
            New values of ``pm.Data`` containers for this run only.

        Returns
        -------
        xarray.DataTree
            Posterior and sample statistics (the sampler's own convergence warnings are
            off: the notebooks check convergence themselves).
        """
        self._compile_once()
        if self._compiled is not None:
            import nutpie

            compiled = self._compiled
            if data:
                if self._refittable is None:
                    self._refittable = self._compile(freeze_model=False)
                    _COMPILED[self._token] = self
                compiled = self._refittable.with_data(**data)
            return nutpie.sample(
                compiled, draws=draws, tune=tune, chains=chains, target_accept=target_accept,
                seed=seed, progress_bar=False, **self._nutpie_options,
            )  # fmt: skip
        saved = {name: self.model[name].get_value() for name in data or {}}
        with self.model:
            try:
                pm.set_data(data or {})
                return pm.sample(
                    draws=draws, tune=tune, chains=chains, target_accept=target_accept,
                    random_seed=seed, progressbar=False, compute_convergence_checks=False,
                    nuts_sampler="pymc", **self._pymc_options,
                )  # fmt: skip
            finally:
                pm.set_data(saved)


def model_variables(idata, model):
    """Drop the sampler's unconstrained copies of the variables from ``idata.posterior``.

    nutpie also stores the sampler's unconstrained copies (``alpha_log__``,
    ``theta_logodds__``) in the posterior, even when asked not to (nutpie issue 215); they
    would clutter every summary and plot.

    Parameters
    ----------
    idata : xarray.DataTree
        A fresh fit.
    model : pymc.Model
        The model it came from.

    Returns
    -------
    xarray.DataTree
        The same object, modified in place.
    """
    own = {v.name for v in model.free_RVs}
    unconstrained = [v.name for v in model.value_vars if v.name not in own]
    idata["posterior"] = idata["posterior"].to_dataset().drop_vars(unconstrained, errors="ignore")
    return idata


def complete(idata, model, seed: int):
    """Tidy a fit and add its pointwise log-likelihood and posterior predictive draws.

    ``pm.compute_log_likelihood`` (which LOO needs) and ``pm.sample_posterior_predictive``,
    for the fits of ``pm.sample`` and of :class:`CompiledSampler` alike.

    Parameters
    ----------
    idata : xarray.DataTree
        A fresh fit of ``model``.
    model : pymc.Model
        The model it came from.
    seed : int
        Seed for the posterior predictive draws.

    Returns
    -------
    xarray.DataTree
        The same object, with ``log_likelihood`` and ``posterior_predictive`` groups.
    """
    model_variables(idata, model)
    with model, warnings.catch_warnings():
        pm.compute_log_likelihood(idata, progressbar=False)
        # A Potential in these models is the likelihood of the groups not fitted one by one
        # (pooling.scale.Others): replicated y given the posterior draws is still exact.
        warnings.filterwarnings("ignore", message="The effect of Potentials on other parameters")
        pm.sample_posterior_predictive(
            idata, extend_inferencedata=True, random_seed=seed, progressbar=False
        )
    return idata

"""Fits of a log density given as a function (its value and gradient), without PyMC: its
mode, and NUTS through nutpie's ``from_pyfunc``.

Kept apart from :mod:`pooling.fits` so that a run that fits only such functions (``make
estimates``: :mod:`pooling.folded`, :mod:`pooling.folded_regression`) does not import PyMC and
PyTensor (most of a second).
"""

from __future__ import annotations

__all__ = ["MASS_MATRICES", "posterior_mode", "sample_function"]

#: The mass matrices NUTS can adapt, with the options that ask each sampler for it: a
#: diagonal one (both samplers' default), or one that also learns the directions in which the
#: posterior is correlated (nutpie's low-rank update; PyMC's full matrix).
MASS_MATRICES = {
    "diagonal": ({}, {}),
    "low rank": ({"adaptation": "low_rank"}, {"init": "jitter+adapt_full"}),
}


def posterior_mode(value_and_gradient, start):
    """The mode of a log density given as a function (BFGS, to a gradient of 1e-8).

    Parameters
    ----------
    value_and_gradient : callable
        ``point -> (log density, gradient)``, as :func:`sample_function` takes it.
    start : numpy.ndarray
        Where the search starts.

    Returns
    -------
    numpy.ndarray
    """
    from scipy import optimize

    def negative(point):
        value, gradient = value_and_gradient(point)
        return -value, -gradient

    found = optimize.minimize(negative, start, jac=True, method="BFGS", options={"gtol": 1e-8})
    return found.x


def sample_function(value_and_gradient, expand, shapes: dict, centre, *, draws: int, tune: int,
                    chains: int, target_accept: float, seed: int, mass_matrix: str = "diagonal",
                    coords: dict | None = None, dims: dict | None = None,
                    cores: int | None = None):  # fmt: skip
    """NUTS (nutpie) on a log density given as a function, such as a compiled Numba one.

    Parameters
    ----------
    value_and_gradient : callable
        ``point -> (log density, gradient)`` on the sampler's free (unconstrained) scale.
    expand : callable
        ``point -> dict`` of the variables to store, named as ``shapes``.
    shapes : dict
        Each stored variable's shape.
    centre : numpy.ndarray
        Where the chains start before their jitter: as PyMC's default, uniform on ``(-1,
        1)`` about it on the free scale, seeded by the chain's seed.
    draws, tune, chains, target_accept, seed :
        As for :meth:`pooling.fits.CompiledSampler.sample`.
    mass_matrix : {"diagonal", "low rank"}, optional
        As :data:`MASS_MATRICES`.
    coords, dims : dict, optional
        Coordinates of the stored variables' dimensions.
    cores : int, optional
        Chains sampled at once; default nutpie's (every core).

    Returns
    -------
    xarray.DataTree
        Posterior of the ``shapes`` variables, with sample statistics.
    """
    import numpy as np
    import nutpie
    from nutpie.compiled_pyfunc import from_pyfunc

    centre = np.asarray(centre, float)

    def make_logp_fn():
        return lambda point, **_: value_and_gradient(point)

    def make_expand_fn(*_):
        return lambda point, **_: expand(point)

    def initial_point(chain_seed):
        return centre + np.random.default_rng(chain_seed).uniform(-1, 1, centre.size)

    model = from_pyfunc(
        centre.size, make_logp_fn, make_expand_fn, [np.dtype("float64")] * len(shapes),
        list(shapes.values()), list(shapes), coords=coords or {}, dims=dims or {},
        make_initial_point_fn=initial_point,
    )  # fmt: skip
    return nutpie.sample(
        model, draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed,
        progress_bar=False, **({"cores": cores} if cores else {}), **MASS_MATRICES[mass_matrix][0],
    )  # fmt: skip

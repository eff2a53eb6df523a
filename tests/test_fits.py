"""CompiledSampler: one compile for small data; data compiled in as constants for large data,
with refits on new data still possible."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from pooling import fits

TRIALS = np.array([5, 40, 12, 0])
SUCCESSES = np.array([1, 38, 12, 0])


def no_pooling_model() -> pm.Model:
    with pm.Model(coords={"group": list("abcd")}) as model:
        n = pm.Data("trials", TRIALS, dims="group")
        y = pm.Data("successes", SUCCESSES, dims="group")
        theta = pm.Beta("theta", 0.5, 0.5, dims="group")
        pm.Binomial("y", n=n, p=theta, observed=y, dims="group")
    return model


def sample(sampler, data=None):
    return sampler.sample(draws=1000, tune=500, chains=2, target_accept=0.9, seed=5, data=data)


def test_small_data_share_one_compiled_model():
    sampler = fits.CompiledSampler(no_pooling_model())
    assert sampler._refittable is sampler._compiled


@pytest.mark.slow
def test_large_data_are_frozen_for_the_fit_and_refits_still_take_new_data(monkeypatch):
    import nutpie

    monkeypatch.setattr(fits, "FREEZE_FROM", len(TRIALS))
    model = no_pooling_model()
    sampler = fits.CompiledSampler(model)
    assert sampler._refittable is None  # compiled on the first refit only
    # The fit is nutpie's own frozen model, draw for draw.
    frozen = nutpie.compile_pymc_model(model, freeze_model=True)
    direct = nutpie.sample(frozen, draws=1000, tune=500, chains=2, target_accept=0.9, seed=5,
                           progress_bar=False)  # fmt: skip
    np.testing.assert_array_equal(
        sample(sampler).posterior["theta"].to_numpy(), direct.posterior["theta"].to_numpy()
    )
    # A refit with group b left out: b's rate falls back to its Beta(1/2, 1/2) prior (mean 1/2),
    # the others keep their Beta(1/2 + y, 1/2 + n - y) posteriors.
    refit = sample(
        sampler, {"trials": TRIALS * [1, 0, 1, 1], "successes": SUCCESSES * [1, 0, 1, 1]}
    )
    assert sampler._refittable is not None and sampler._refittable is not sampler._compiled
    means = refit.posterior["theta"].mean(("chain", "draw")).to_numpy()
    exact = (SUCCESSES + 0.5) / (TRIALS + 1.0)
    exact[1] = 0.5
    assert means == pytest.approx(exact, abs=0.03)
    # The fit itself is unchanged by the refit.
    np.testing.assert_array_equal(
        sample(sampler).posterior["theta"].to_numpy(), direct.posterior["theta"].to_numpy()
    )


@pytest.mark.slow
def test_a_pickled_sampler_compiles_once_where_it_lands_and_draws_the_same(monkeypatch):
    import pickle

    import cloudpickle

    sampler = fits.CompiledSampler(no_pooling_model())
    data = {"successes": SUCCESSES * [1, 0, 1, 1]}
    expected = sample(sampler, data).posterior["theta"].to_numpy()
    blob = cloudpickle.dumps(sampler)  # as a Dask worker receives it
    monkeypatch.setattr(fits, "_COMPILED", {})  # another process: nothing compiled yet
    copy = pickle.loads(blob)
    assert copy._compiled is None
    np.testing.assert_array_equal(sample(copy, data).posterior["theta"].to_numpy(), expected)
    again = pickle.loads(blob)
    assert again._compiled is copy._compiled  # the second copy reuses the compilation


def test_pm_sample_with_the_low_rank_options_leaves_them_as_they_were():
    # pm.sample adds target_accept to the dict it gets as ``nuts``: a shared one would carry it
    # into the next fit, where nutpie would get target_accept twice.
    before = {name: tuple(map(dict, both)) for name, both in fits.MASS_MATRICES.items()}
    model = no_pooling_model()
    options = fits.sample_options("low rank", "nutpie")
    assert options == {"nuts": {"adaptation": "low_rank"}}
    with model:
        idata = pm.sample(draws=100, tune=100, chains=2, target_accept=0.9, random_seed=1,
                          progressbar=False, compute_convergence_checks=False,
                          **options)  # fmt: skip
    assert idata["sample_stats"].attrs["inference_library"] == "nutpie"
    after = {name: tuple(map(dict, both)) for name, both in fits.MASS_MATRICES.items()}
    assert after == before
    assert fits.sample_options("diagonal", "nutpie") == {}
    assert fits.sample_options("low rank", "pymc") == {"init": "jitter+adapt_full"}


def test_the_pymc_sampler_is_pymcs_own_nuts():
    # PyMC 6 hands pm.sample to nutpie when it is installed, unless asked otherwise.
    idata = fits.CompiledSampler(no_pooling_model(), "pymc").sample(
        draws=100, tune=100, chains=2, target_accept=0.9, seed=5
    )
    assert idata["posterior"].attrs["inference_library"] == "pymc"

"""The disk cache of nutpie's compiled models: hits across processes, same draws, safe keys."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.special

from pooling import digamma
from pooling.build import compile_cache

# Compiles the collection's kind of model in a fresh process and reports the cache hits and
# the first draws; with "plain" also nutpie's own compile of the same model, for comparison.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np, nutpie, pymc as pm
    from pooling.build.compile_cache import cache_hits, compile_pymc_model

    trials = np.array([5, 9, 304, 9]) * int(sys.argv[1])
    with pm.Model() as model:
        n = pm.Data("trials", trials)
        y = pm.Data("successes", np.array([2, 5, 301, 9]))
        alpha = pm.HalfNormal("alpha", sigma=10)
        beta = pm.HalfNormal("beta", sigma=10)
        pm.BetaBinomial("y", alpha=alpha, beta=beta, n=n, observed=y)
    compiled = compile_pymc_model(model)
    run = dict(draws=200, tune=200, chains=2, seed=7, progress_bar=False)
    draws = nutpie.sample(compiled, **run).posterior["alpha"].to_numpy().ravel()
    report = {"hits": cache_hits(compiled), "draws": draws[:50].tolist()}
    if sys.argv[2:] == ["plain"]:
        plain = nutpie.sample(nutpie.compile_pymc_model(model), **run)
        report["plain"] = plain.posterior["alpha"].to_numpy().ravel()[:50].tolist()
    print(json.dumps(report))
    """
)


def compile_in_fresh_process(cache, scale=1, *extra):
    env = {"POOLING_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(scale), *extra],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_second_process_loads_the_compiled_model_and_draws_the_same(tmp_path):
    first = compile_in_fresh_process(tmp_path, 1, "plain")
    assert first["hits"] == 0
    assert first["draws"] == first["plain"]  # what nutpie itself would have drawn
    assert any(tmp_path.glob("*.nbi"))
    second = compile_in_fresh_process(tmp_path)
    assert second["hits"] == 2
    assert second["draws"] == first["draws"]
    # nutpie bakes the data the model was compiled with into the log-density callback (as an
    # unused constant), so other data values make another entry; the other callback is shared.
    other = compile_in_fresh_process(tmp_path, 2)
    assert other["hits"] == 1
    assert other["draws"] != first["draws"]


def test_fingerprint_is_the_same_for_equal_values_and_differs_otherwise():
    a = compile_cache.fingerprint((np.arange(3), np.dtype("f8"), 4, "x"))
    assert a == compile_cache.fingerprint((np.arange(3), np.dtype("f8"), 4, "x"))
    assert a != compile_cache.fingerprint((np.arange(1, 4), np.dtype("f8"), 4, "x"))
    assert a != compile_cache.fingerprint((np.arange(3), np.dtype("f4"), 4, "x"))


def test_fingerprint_refuses_what_it_cannot_vouch_for():
    def users_own_function():
        return 1

    with pytest.raises(compile_cache.Uncacheable):
        compile_cache.fingerprint(users_own_function)
    with pytest.raises(compile_cache.Uncacheable):
        compile_cache.fingerprint(object())


def test_digamma_matches_scipy():
    x = np.concatenate([
        np.geomspace(1e-300, 1e300, 4001), -np.geomspace(1e-12, 1e5, 4001) + 1e-3,
        np.linspace(-20, 20, 8001), [1.4616321449683622],
    ])  # fmt: skip
    ours = np.array([digamma.digamma(v) for v in x])
    theirs = scipy.special.psi(x)
    finite = np.isfinite(theirs)
    assert np.array_equal(finite, np.isfinite(ours))
    error = np.abs(ours[finite] - theirs[finite]) / np.maximum(np.abs(theirs[finite]), 1.0)
    assert error.max() < 1e-12


@pytest.mark.parametrize("x", [0.0, -0.0, -1.0, -7.0, np.inf, -np.inf, np.nan])
def test_digamma_poles_and_limits_match_scipy(x):
    np.testing.assert_equal(digamma.digamma(x), scipy.special.psi(x))

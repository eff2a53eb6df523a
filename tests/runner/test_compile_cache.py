"""The disk cache of nutpie's compiled models: hits across processes, same draws, safe keys."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pooling.runner import compile_cache

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np, nutpie, pymc as pm
    from pooling.runner.compile_cache import cache_hits, compile_pymc_model

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


def compile_in_fresh_processes(cache, *runs, errors=None):
    """One fresh process per ``(scale, *extra)`` run, all at once; their reports in order
    (and each one's standard error appended to ``errors``, when given)."""
    env = {"POOLING_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT, *map(str, run)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for run in runs
    ]  # fmt: skip
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
        if errors is not None:
            errors.append(err)
    return reports


def test_second_process_loads_the_compiled_model_and_a_broken_entry_is_compiled_again(
    tmp_path,
):
    # One cache through its life (each step starts fresh processes): filled, shared, broken.
    (first,) = compile_in_fresh_processes(tmp_path, (1, "plain"))
    assert first["hits"] == 0
    assert first["draws"] == first["plain"]  # what nutpie itself would have drawn
    assert any(tmp_path.glob("*.nbi"))
    # nutpie bakes the data the model was compiled with into the log-density callback (as an
    # unused constant), so other data values make another entry; the other callback is shared.
    second, other = compile_in_fresh_processes(tmp_path, (1,), (2,))
    assert second["hits"] == 2
    assert second["draws"] == first["draws"]
    assert other["hits"] == 1
    assert other["draws"] != first["draws"]
    # Every entry overwritten with garbage, as a crash or a full disk mid-write could leave it.
    entries = [path for path in tmp_path.iterdir() if path.suffix in (".nbi", ".nbc")]
    assert len(entries) >= 6  # an index and a data file for each of the three callbacks
    for path in entries:
        path.write_bytes(b"\x80garbage" * 10)
    errors = []
    (again,) = compile_in_fresh_processes(tmp_path, (1,), errors=errors)
    assert again["hits"] == 0 and again["draws"] == first["draws"]
    notes = [line for line in errors[0].splitlines() if "compile cache" in line]
    assert len(notes) == 1 and "dropped a broken entry" in notes[0]
    (third,) = compile_in_fresh_processes(tmp_path, (1,))  # the entries were written anew
    assert third["hits"] == 2 and third["draws"] == first["draws"]


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

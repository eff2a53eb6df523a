"""The portable settings: with them the CPU leaves the draws alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pooling import portable

# The model compiles through the runner's disk cache, as make's kernels compile it: its key
# holds Numba's target CPU (NUMBA_CPU_NAME), and what differs below is the C library's choice
# of maths functions, made when the process starts.
FIT = """
import hashlib, numpy as np, nutpie, pymc as pm
from pooling.runner.compile_cache import compile_pymc_model
with pm.Model() as model:
    alpha, beta = pm.HalfNormal("alpha", 10), pm.HalfNormal("beta", 10)
    pm.BetaBinomial("y", alpha=alpha, beta=beta, n=np.array([5, 304, 9, 9]),
                    observed=np.array([2, 301, 9, 5]))
idata = nutpie.sample(compile_pymc_model(model), draws=500, tune=500, chains=2, seed=1,
                      progress_bar=False)
print(hashlib.sha256(idata.posterior["alpha"].to_numpy().tobytes()).hexdigest())
"""


OLDER_CPU = "glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4,-AVX512F,-AVX512VL,-SSE4_1,-SSE4_2"


def draws_digests(*envs) -> list[str]:
    """The digest of the same fit's draws in one fresh process per environment, in parallel."""
    procs = [
        subprocess.Popen([sys.executable, "-c", FIT], env={**os.environ, **env},
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for env in envs
    ]  # fmt: skip
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    return [out.strip().splitlines()[-1] for out in outputs]


@pytest.mark.slow
def test_draws_are_the_same_on_an_older_cpu():
    here, older = draws_digests(portable.ENV, {**portable.ENV, "GLIBC_TUNABLES": OLDER_CPU})
    assert older == here


def test_numpy_and_openblas_use_their_baseline_code_whatever_the_cpu():
    """NumPy dispatches to none of its optimisations beyond its baseline (all of them named:
    a NumPy that adds one fails here), and OpenBLAS runs its Nehalem kernels."""
    probe = (
        "import json\n"
        "from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__\n"
        "from threadpoolctl import threadpool_info\n"
        "print(json.dumps([sorted(__cpu_dispatch__), [f for f in __cpu_dispatch__ if "
        "__cpu_features__[f]], [i['architecture'] for i in threadpool_info() if "
        "i['internal_api'] == 'openblas']]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **portable.ENV},
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    dispatch, enabled, openblas = json.loads(out)
    assert dispatch == sorted(portable.NUMPY_DISPATCH)
    assert enabled == []
    assert openblas and set(openblas) == {"Nehalem"}

"""The portable settings: every kernel gets them, and with them the CPU leaves the draws alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pooling import portable, session
from pooling.build.execute import execute
from pooling.build.kernelspec import install_kernel

FIT = """
import hashlib, numpy as np, nutpie, pymc as pm
with pm.Model() as model:
    alpha, beta = pm.HalfNormal("alpha", 10), pm.HalfNormal("beta", 10)
    pm.BetaBinomial("y", alpha=alpha, beta=beta, n=np.array([5, 304, 9, 9]),
                    observed=np.array([2, 301, 9, 5]))
idata = nutpie.sample(nutpie.compile_pymc_model(model), draws=500, tune=500, chains=2, seed=1,
                      progress_bar=False)
print(hashlib.sha256(idata.posterior["alpha"].to_numpy().tobytes()).hexdigest())
"""
#: What a CPU without AVX-512, AVX2, FMA or SSE4 looks like to glibc.
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


def test_draws_are_the_same_on_an_older_cpu():
    here, older = draws_digests(portable.ENV, {**portable.ENV, "GLIBC_TUNABLES": OLDER_CPU})
    assert older == here


def test_installed_kernel_carries_the_settings(tmp_path):
    path = install_kernel(tmp_path)
    spec = json.loads(path.read_text())
    assert spec["env"] == portable.ENV and spec["argv"][1:3] == ["-m", "ipykernel_launcher"]
    assert portable.is_portable(spec["env"]) and not portable.is_portable({})


def test_a_kernel_without_the_settings_says_so(monkeypatch, capsys):
    monkeypatch.delenv("NUMBA_CPU_NAME", raising=False)
    session.setup()
    assert "lacks the portable settings" in capsys.readouterr().out
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    for name, value in portable.ENV.items():
        monkeypatch.setenv(name, value)
    session.setup()
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("warm", [False, True], ids=["fresh kernel", "forked kernel"])
def test_notebook_kernels_get_the_settings(tmp_path, monkeypatch, warm):
    for name in portable.ENV:
        monkeypatch.delenv(name, raising=False)  # as when run by hand, outside make and tests
    source = tmp_path / "probe.py"
    names = sorted(portable.ENV)
    source.write_text(f"# %%\nimport os\nprint({{k: os.environ.get(k) for k in {names!r}}})\n")
    if warm:
        from pooling.build.kernels import KernelServer

        with KernelServer(warm=False) as server:
            nb = execute(source, tmp_path / "probe.ipynb", server=server)
    else:
        nb = execute(source, tmp_path / "probe.ipynb")
    printed = nb.cells[0].outputs[0]["text"]
    assert printed.strip() == str({k: portable.ENV[k] for k in sorted(portable.ENV)})

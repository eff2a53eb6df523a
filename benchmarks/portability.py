"""The same draws on other x86-64 CPUs? The hierarchical fit under emulated CPU models.

The committed numbers must come out of any x86-64 Linux machine with the locked environment.
No second machine is at hand, so this runs one fit of notebook 03's kind (the beta-binomial
model with theta integrated out, nutpie, :mod:`pooling.digamma`) in one fresh process per
CPU: this machine's own, and CPU models emulated by ``qemu-x86_64`` (user mode, which runs
the whole Python process on the emulated CPU, ``cpuid`` included). Each process compiles its
model afresh (its own Numba and PyTensor caches) and prints a digest of the draws, with and
without the portable settings of :mod:`pooling.portable`.

Needs ``qemu-x86_64`` (Debian: ``apt-get install qemu-user``; ``make bench`` installs it).
Usage: ``python benchmarks/portability.py``. About 5 minutes (emulation is slow).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import write_section

from pooling.portable import ENV

FIT = """
import hashlib, sys
import numpy as np, pymc as pm
import pooling.digamma  # noqa: F401  (as every notebook's fit)
import nutpie
with pm.Model() as model:
    alpha, beta = pm.HalfNormal("alpha", 10), pm.HalfNormal("beta", 10)
    pm.BetaBinomial("y", alpha=alpha, beta=beta, n=np.array([5, 304, 9, 9, 2]),
                    observed=np.array([2, 301, 9, 5, 0]))
idata = nutpie.sample(nutpie.compile_pymc_model(model), draws=500, tune=500, chains=2, seed=1,
                      progress_bar=False)
alpha = idata.posterior["alpha"].to_numpy()
print(hashlib.sha256(alpha.tobytes()).hexdigest()[:16], f"{alpha.mean():.12f}")
"""

#: (label, qemu CPU model or None for this machine, what it stands for)
CPUS = [
    ("this machine", None, "the host"),
    ("Haswell-v4", "Haswell-v4", "x86-64-v3: AVX2 and FMA (Intel since 2013, AMD since 2015)"),
    ("Nehalem", "Nehalem", "x86-64-v2: SSE4.2, no AVX (Intel 2008-2011)"),
]


def run(cpu: str | None, portable: bool, scratch: Path) -> str:
    """Digest and mean of the draws from a fresh process on ``cpu``, or how it failed.

    Without the portable settings, PyTensor's C code is compiled with ``-march=native`` by
    the host's compiler (which qemu's user mode does not emulate), so on an older emulated
    CPU the process can die of an illegal instruction: that is reported, not raised.
    """
    home = Path(tempfile.mkdtemp(dir=scratch))
    flags = f"base_compiledir={home / 'pytensor'}"
    env = {**os.environ, "HOME": str(home), "NUMBA_CACHE_DIR": str(home / "numba")}
    for name in ENV:
        env.pop(name, None)
    if portable:
        env.update(ENV)
        flags = f"{ENV['PYTENSOR_FLAGS']},{flags}"
    env["PYTENSOR_FLAGS"] = flags
    prefix = [] if cpu is None else ["qemu-x86_64", "-cpu", cpu]
    done = subprocess.run(
        [*prefix, sys.executable, "-c", FIT], env=env, capture_output=True, text=True,
        timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        return f"died({done.returncode}) -"
    return done.stdout.strip().splitlines()[-1]


def main() -> int:
    if shutil.which("qemu-x86_64") is None:
        print("qemu-x86_64 is missing: apt-get install qemu-user", file=sys.stderr)
        return 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-portability-") as scratch:
        for label, cpu, meaning in CPUS:
            for portable in (True, False):
                result = run(cpu, portable, Path(scratch))
                print(f"{label:13s} portable={portable!s:5s} {result}", flush=True)
                rows.append((label, meaning, portable, *result.split()))
    reference = {portable: digest for label, _, portable, digest, _ in rows if label == CPUS[0][0]}
    table = "\n".join(
        f"| {label} | {meaning} | {'yes' if portable else 'no'} | `{digest}` | {mean} | "
        f"{'same' if digest == reference[portable] else 'differs'} |"
        for label, meaning, portable, digest, mean in rows
    )
    write_section(
        "portability",
        "## Portability: the draws on other CPUs\n\n"
        "One fit of notebook 03's model with theta integrated out (nutpie, 500 + 500 draws x 2 "
        "chains, seed 1), compiled afresh in a process per CPU; other CPUs emulated by "
        "`qemu-x86_64 -cpu MODEL` (user mode). Digest: SHA-256 of alpha's draws. `died(-4)`: an "
        "illegal instruction (without the portable settings PyTensor compiles its C code for "
        "the host's CPU, which qemu's user mode runs the compiler on).\n\n"
        "| CPU | stands for | portable settings | digest | mean of alpha | vs this machine |\n"
        "|---|---|---|---|---:|---|\n"
        f"{table}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

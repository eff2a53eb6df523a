"""The process environment that gives the same draws on every x86-64 machine.

A model's log density is compiled by Numba for the CPU it runs on, PyTensor compiles its C
functions (log-likelihood, predictive draws) with the host's ``-march`` flags, and the C
library's maths functions (``exp``, ``log``, ``lgamma``, ...) pick an implementation for that
CPU when the process starts; so do NumPy's vectorised functions (``exp``, ``log``, sums:
AVX2 or AVX-512 versions where the CPU has them) and OpenBLAS's matrix kernels. They round
differently, and NUTS and the replicated data amplify a difference in the last bit into other
draws. These settings, read when a process starts, pin them to code that every x86-64 CPU
that runs NumPy's wheels (x86-64-v2) runs:

- ``NUMBA_CPU_NAME=generic``: Numba compiles for the baseline x86-64 instruction set;
- ``PYTENSOR_FLAGS=gcc__cxxflags=-march=x86-64``: so does PyTensor's C backend;
- ``GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4``: glibc's maths library uses its
  baseline (SSE2) implementations;
- ``NPY_DISABLE_CPU_FEATURES``: every optimisation NumPy dispatches to at run time beyond
  its baseline (:data:`NUMPY_DISPATCH`, those of the locked NumPy);
- ``OPENBLAS_CORETYPE=Nehalem``: OpenBLAS's kernels for that same level.

Without the last two, notebooks 4 and 6 printed other numbers on an AVX-512 machine than on
the AVX2 machine that had executed them (a p-value of 0.897 for 0.917; other players among
ties): NumPy's dispatch moved 6, OpenBLAS's 4. Measured on this project's 2-core machine, the
whole collection runs as fast as before (a median 28.0 s against 27.9 s, alternating runs,
before the last two), and so does ``make estimates`` of 10^5 groups with them (22.0 and 23.4
s against 24.1 and 24.7 s).

Every kernel the collection starts gets them (``make``, the tests, and JupyterLab through the
kernel that ``make venv`` installs: :mod:`pooling.runner.kernelspec`); a kernel without them
says so in one line (:func:`pooling.session.setup`). Out of reach: other architectures (ARM),
another C library, or another build of NumPy, SciPy or their BLAS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["ENV", "NUMPY_DISPATCH", "is_portable"]

#: What NumPy (the locked 2.5) may dispatch to at run time beyond its x86-64-v2 baseline:
#: ``numpy._core._multiarray_umath.__cpu_dispatch__``.
NUMPY_DISPATCH = ("X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR")

#: Environment variables that pin the compiled code, the maths library, NumPy and OpenBLAS.
ENV = {
    "NUMBA_CPU_NAME": "generic",
    "PYTENSOR_FLAGS": "gcc__cxxflags=-march=x86-64",
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4",
    "NPY_DISABLE_CPU_FEATURES": " ".join(NUMPY_DISPATCH),
    "OPENBLAS_CORETYPE": "Nehalem",
}


def is_portable(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether a process started with ``environ`` computes the portable numbers."""
    return all(environ.get(name) == value for name, value in ENV.items())

"""The process environment that gives the same draws on every x86-64 machine.

A model's log density is compiled by Numba for the CPU it runs on, PyTensor compiles its C
functions (log-likelihood, predictive draws) with the host's ``-march`` flags, and the C
library's maths functions (``exp``, ``log``, ``lgamma``, ...) pick an implementation for that
CPU when the process starts. All three use fused multiply-add where the CPU has it, which
rounds differently, and NUTS amplifies a difference in the last bit into other draws. Three
settings, read when a process starts, pin them to code that every x86-64 CPU runs:

- ``NUMBA_CPU_NAME=generic``: Numba compiles for the baseline x86-64 instruction set;
- ``PYTENSOR_FLAGS=gcc__cxxflags=-march=x86-64``: so does PyTensor's C backend;
- ``GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4``: glibc's maths library uses its
  baseline (SSE2) implementations.

Measured on this project's 2-core machine, the whole collection runs as fast as before (a
median 28.0 s against 27.9 s, alternating runs).

Every kernel the collection starts gets them (``make``, the tests, and JupyterLab through the
kernel that ``make venv`` installs: :mod:`pooling.runner.kernelspec`); a kernel without them
says so in one line (:func:`pooling.session.setup`). Out of reach: other architectures (ARM),
another C library, or another build of NumPy, SciPy or their BLAS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["ENV", "is_portable"]

#: Environment variables that pin the compiled code and the maths library.
ENV = {
    "NUMBA_CPU_NAME": "generic",
    "PYTENSOR_FLAGS": "gcc__cxxflags=-march=x86-64",
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4",
}


def is_portable(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether a process started with ``environ`` computes the portable numbers."""
    return all(environ.get(name) == value for name, value in ENV.items())

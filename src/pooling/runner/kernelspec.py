"""The Jupyter kernel of ``.venv``: the portable settings, and the compile cache when it fits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pooling.portable import ENV
from pooling.runner.speedups import KERNEL_START

__all__ = ["install_kernel"]


def install_kernel(prefix: str | Path = sys.prefix) -> Path:
    """Install the ``python3`` Jupyter kernel of ``prefix``, with the portable settings.

    The kernel's environment holds :data:`pooling.portable.ENV`, and before the first cell
    the kernel runs :data:`pooling.runner.speedups.KERNEL_START`, which compiles its models
    through the disk cache of :mod:`pooling.runner.compile_cache` when that fits the
    installed libraries (``POOLING_PLAIN=1`` in JupyterLab's environment turns it off).

    JupyterLab started from the environment then runs every notebook with the portable
    settings and the compiled models that ``make`` keeps, as ``make`` and the tests do: the
    same numbers, without compiling every model again in every kernel.

    Parameters
    ----------
    prefix : str or pathlib.Path, optional
        The Python environment (default: the running one).

    Returns
    -------
    pathlib.Path
        The kernel specification written (``share/jupyter/kernels/python3/kernel.json``).
    """
    path = Path(prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = {
        # "python" is the interpreter of the Jupyter server that starts the kernel
        "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 f"--IPKernelApp.exec_lines={KERNEL_START}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": dict(ENV),
        "metadata": {"debugger": True},
        "kernel_protocol_version": "5.5",
    }  # fmt: skip
    path.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return path

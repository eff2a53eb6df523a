"""The Jupyter kernel of ``.venv``, with the portable settings in its environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pooling.portable import ENV

__all__ = ["install_kernel"]


def install_kernel(prefix: str | Path = sys.prefix) -> Path:
    """Install the ``python3`` Jupyter kernel of ``prefix``, with the portable settings.

    The kernel's environment holds :data:`pooling.portable.ENV`.

    JupyterLab started from the environment then runs every notebook with the portable
    settings, as ``make`` and the tests do.

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
        "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": dict(ENV),
        "metadata": {"debugger": True},
        "kernel_protocol_version": "5.5",
    }  # fmt: skip
    path.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return path

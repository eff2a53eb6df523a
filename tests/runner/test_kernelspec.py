"""The installed kernel carries the portable settings and compiles through the disk cache."""

from __future__ import annotations

import json

from pooling import portable
from pooling.runner.execute import execute
from pooling.runner.kernelspec import install_kernel
from pooling.runner.speedups import KERNEL_START


def test_installed_kernel_carries_the_settings(tmp_path):
    path = install_kernel(tmp_path)
    spec = json.loads(path.read_text())
    assert spec["env"] == portable.ENV and spec["argv"][1:3] == ["-m", "ipykernel_launcher"]
    assert portable.is_portable(spec["env"]) and not portable.is_portable({})
    assert f"--IPKernelApp.exec_lines={KERNEL_START}" in spec["argv"]


def test_a_kernel_of_the_installed_spec_has_the_cache_and_a_clean_namespace(tmp_path, monkeypatch):
    # Only the kernel spec switches the cache on here: no test start-up file.
    monkeypatch.delenv("IPYTHONDIR", raising=False)
    source = tmp_path / "probe.py"
    source.write_text(
        "# %%\nfrom pooling.runner import compile_cache\n"
        "print(compile_cache.is_used(), [k for k in dir() if not k.startswith('_')])\n"
    )
    nb = execute(source, tmp_path / "probe.ipynb")
    printed = nb.cells[0].outputs[0]["text"].strip()
    assert printed.startswith("True [") and "speedups" not in printed

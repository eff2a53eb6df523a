"""The installed kernel carries the portable settings."""

from __future__ import annotations

import json

from pooling import portable
from pooling.runner.kernelspec import install_kernel


def test_installed_kernel_carries_the_settings(tmp_path):
    path = install_kernel(tmp_path)
    spec = json.loads(path.read_text())
    assert spec["env"] == portable.ENV and spec["argv"][1:3] == ["-m", "ipykernel_launcher"]
    assert portable.is_portable(spec["env"]) and not portable.is_portable({})

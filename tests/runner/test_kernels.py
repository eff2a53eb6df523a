"""Warm forked kernels end with their server."""

from __future__ import annotations

import os

import pytest

from pooling.runner.kernels import KernelServer


def test_closing_the_server_ends_its_kernels(tmp_path):
    from jupyter_client.connect import write_connection_file

    connection, _ = write_connection_file(str(tmp_path / "kernel.json"))
    server = KernelServer(warm=False)
    kernel = server.fork(connection, str(tmp_path), {})
    assert kernel.poll() is None
    server.close()
    kernel.wait(timeout=20)
    with pytest.raises(ProcessLookupError):
        os.kill(kernel.pid, 0)

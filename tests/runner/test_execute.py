"""Executing a notebook: fresh and forked kernels both get the portable settings."""

from __future__ import annotations

import pytest

from pooling import portable
from pooling.runner.execute import execute


@pytest.mark.parametrize("warm", [False, True], ids=["fresh kernel", "forked kernel"])
def test_notebook_kernels_get_the_settings(tmp_path, monkeypatch, warm):
    for name in portable.ENV:
        monkeypatch.delenv(name, raising=False)  # as when run by hand, outside make and tests
    source = tmp_path / "probe.py"
    names = sorted(portable.ENV)
    source.write_text(f"# %%\nimport os\nprint({{k: os.environ.get(k) for k in {names!r}}})\n")
    if warm:
        from pooling.runner.kernels import KernelServer

        with KernelServer(warm=False) as server:
            nb = execute(source, tmp_path / "probe.ipynb", server=server)
    else:
        nb = execute(source, tmp_path / "probe.ipynb")
    printed = nb.cells[0].outputs[0]["text"]
    assert printed.strip() == str({k: portable.ENV[k] for k in sorted(portable.ENV)})

"""What a user meets first: ``make lab``, and the Python that ``make`` uses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

from pooling.paths import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_starts_jupyterlab_as_root_too(tmp_path):
    """Jupyter refuses root without ``--allow-root``; ``make lab`` passes it, and says so."""
    args = f"--no-browser --ip=127.0.0.1 --port={_free_port()} --ServerApp.token=t"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    # -o: never (re)build .venv here, whatever its age; `make test` has just made it.
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", "lab", f"LAB_ARGS={args}"]
    proc = subprocess.Popen(make, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "is running at" in line:
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    output = "".join(lines)
    assert "is running at" in output, output
    assert "Running as root is not recommended" not in output
    said = [line for line in lines if line.startswith("make lab:")]
    if os.getuid() == 0:
        assert said == ["make lab: running as root, so JupyterLab starts with --allow-root\n"]
    else:
        assert said == []


def test_python_script_names_a_python_of_3_12_or_later():
    """tools/python.sh finds (or, on a machine without one, builds) the Python of ``.venv``."""
    found = subprocess.run([str(ROOT / "tools" / "python.sh")], capture_output=True, text=True,
                           check=True).stdout.strip()  # fmt: skip
    version = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2] >= (3, 12))"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert version == "True"


def test_python_script_refuses_an_old_python_in_one_line():
    result = subprocess.run([str(ROOT / "tools" / "python.sh")], capture_output=True, text=True,
                            env={**os.environ, "PYTHON": "/usr/bin/python3.11"})  # fmt: skip
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "PYTHON=/usr/bin/python3.11" in result.stderr

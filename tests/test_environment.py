"""The conda and pip routes pin the same versions."""

from __future__ import annotations

import re

import yaml

from pooling.paths import ROOT

# conda-forge names that differ from the PyPI names in the lock
CONDA_TO_PYPI = {"python-graphviz": "graphviz", "matplotlib-base": "matplotlib"}
REQUIRED = {
    "pymc",
    "pytensor",
    "arviz",
    "nutpie",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "seaborn",
    "jupyterlab",
    "graphviz",
    "pandera",
    "papermill",
    "nbval",
    "pytest",
    "watermark",
    "dask",
    "distributed",
    "pyarrow",
}


def lock_pins() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {
        name.lower(): version for name, version in re.findall(r"^([\w.\-]+)==(\S+)", text, re.M)
    }


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            pins[CONDA_TO_PYPI.get(name, name)] = version
    return pins


def test_conda_pins_equal_the_lock():
    lock, conda = lock_pins(), conda_pins()
    assert conda.pop("python") == "3.13"
    assert REQUIRED <= set(conda)
    mismatched = {
        name: (version, lock.get(name))
        for name, version in conda.items()
        if lock.get(name) != version
    }
    assert not mismatched, f"environment.yml vs requirements.lock: {mismatched}"


def test_every_lock_line_is_an_exact_pin():
    lines = [
        line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines and all(re.fullmatch(r"[\w.\-\[\],]+==[\w.\-+]+", line.strip()) for line in lines)


def test_the_lock_is_on_the_current_stack():
    """PyMC 6, PyTensor 3, ArviZ 1 and nutpie 0.16.11 or later (issue 32)."""
    pins = lock_pins()
    major = {name: int(pins[name].split(".")[0]) for name in ("pymc", "pytensor", "arviz")}
    assert major == {"pymc": 6, "pytensor": 3, "arviz": 1}
    assert tuple(map(int, pins["nutpie"].split(".")[:3])) >= (0, 16, 11)

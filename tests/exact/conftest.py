"""The shipped data and its exact hierarchical posterior, shared by the exact tests."""

from __future__ import annotations

import pytest

from pooling import exact
from pooling.data import load_groups


@pytest.fixture(scope="module")
def groups():
    return load_groups()


@pytest.fixture(scope="module")
def hier(groups):
    return exact.HierarchicalPosterior(groups)

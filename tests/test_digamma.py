"""The Numba digamma: SciPy's values, poles and limits."""

import numpy as np
import pytest
import scipy.special

from pooling import digamma


def test_digamma_matches_scipy():
    x = np.concatenate([
        np.geomspace(1e-300, 1e300, 4001), -np.geomspace(1e-12, 1e5, 4001) + 1e-3,
        np.linspace(-20, 20, 8001), [1.4616321449683622],
    ])  # fmt: skip
    ours = np.array([digamma.digamma(v) for v in x])
    theirs = scipy.special.psi(x)
    finite = np.isfinite(theirs)
    assert np.array_equal(finite, np.isfinite(ours))
    error = np.abs(ours[finite] - theirs[finite]) / np.maximum(np.abs(theirs[finite]), 1.0)
    assert error.max() < 1e-12


@pytest.mark.parametrize("x", [0.0, -0.0, -1.0, -7.0, np.inf, -np.inf, np.nan])
def test_digamma_poles_and_limits_match_scipy(x):
    np.testing.assert_equal(digamma.digamma(x), scipy.special.psi(x))

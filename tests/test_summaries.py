"""The Rao-Blackwellised density of mu: it matches the exact marginal, from exact draws."""

from __future__ import annotations

import numpy as np
from scipy import integrate

from pooling import exact
from pooling.data import load_groups
from pooling.summaries import ConditionalMuDensity


def test_density_from_exact_draws_matches_the_exact_marginal():
    post = exact.HierarchicalPosterior(load_groups())
    # Exact draws of (alpha, beta) from the grid, jittered within their cells.
    u, v, w, _ = post._ab_grid
    rng = np.random.default_rng(3)
    cells = rng.choice(w.size, size=4000, p=w.ravel())
    i, j = np.unravel_index(cells, w.shape)
    du, dv = u[1] - u[0], v[1] - v[0]
    alpha = np.exp(u[i] + rng.uniform(-du / 2, du / 2, cells.size))
    beta = np.exp(v[j] + rng.uniform(-dv / 2, dv / 2, cells.size))
    density = ConditionalMuDensity(alpha, beta, post.log_density)
    mu = np.linspace(0.3, 0.99, 300)
    estimate, truth = density.pdf(mu), post.mu_pdf(mu)
    assert abs(integrate.trapezoid(estimate, mu) - integrate.trapezoid(truth, mu)) < 0.02
    assert np.max(np.abs(estimate - truth)) < 0.05 * truth.max()
    assert abs(density.mode() - post.mu_mode) < 0.01

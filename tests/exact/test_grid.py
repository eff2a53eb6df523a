"""The grid posterior: the reference figures, accuracy, an independent Monte Carlo check, and
the agreement of its density with the PyMC model's own log density."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import optimize, special, stats

from pooling import exact


def frame(trials, successes):
    return pd.DataFrame(
        {"trials": trials, "successes": successes},
        index=pd.Index([f"g{i}" for i in range(len(trials))], name="group"),
    )


def test_hierarchical_matches_the_reference_figures(hier):
    table = hier.summary()
    assert table.loc["mu", "mean"] == pytest.approx(0.81, abs=0.01)
    assert 0.5 < table.loc["theta[Falcon 1]", "mean"] < 0.7
    assert hier.mu_mode == pytest.approx(0.859, abs=0.002)


def test_no_data_gives_back_the_prior():
    # Groups with no trials carry no information: alpha, beta keep their HalfNormal(10) prior.
    post = exact.HierarchicalPosterior(frame([0, 0], [0, 0]))
    table = post.summary()
    prior = stats.halfnorm(scale=10)
    assert table.loc["alpha", "mean"] == pytest.approx(prior.mean(), rel=1e-4)
    assert table.loc["beta", "sd"] == pytest.approx(prior.std(), rel=1e-4)
    assert table.loc["alpha", "q97"] == pytest.approx(prior.ppf(0.97), rel=1e-4)
    # by symmetry of the prior, mu is centred on 1/2 and every rate has mean 1/2
    assert table.loc["mu", "mean"] == pytest.approx(0.5, abs=1e-6)
    assert table.loc["theta[g0]", "mean"] == pytest.approx(0.5, abs=1e-6)


def test_log_density_is_prior_times_every_groups_beta_binomial_likelihood():
    # Groups with repeated counts share their terms; the density must still count every group.
    trials, successes = [5, 5, 9, 0, 40, 5], [2, 2, 9, 0, 31, 4]
    hier = exact.HierarchicalPosterior(frame(trials, successes))
    log_a, log_b = np.meshgrid(np.linspace(-6, 5, 25), np.linspace(-6, 5, 25))
    a, b = np.exp(log_a), np.exp(log_b)
    direct = stats.halfnorm.logpdf(a, scale=10) + stats.halfnorm.logpdf(b, scale=10)
    direct += log_a + log_b  # Jacobian of the log transform
    for n, y in zip(trials, successes, strict=True):
        direct += stats.betabinom.logpmf(y, n, a, b)
    offset = hier.log_density(log_a, log_b) - direct  # the constants left out
    np.testing.assert_allclose(offset, offset.flat[0], atol=1e-9)


@pytest.mark.slow
def test_grid_is_fine_enough(groups, hier):
    finer = exact.HierarchicalPosterior(groups, n_grid=2 * hier.n_grid - 1)
    diff = (finer.summary() - hier.summary()).abs().to_numpy().max()
    assert diff < 1e-4
    assert abs(finer.mu_mode - hier.mu_mode) < 1e-4


def test_grid_is_wide_enough(hier):
    assert hier.edge_mass < 1e-10


def test_densities_integrate_to_one(hier):
    x = np.linspace(1e-6, 1 - 1e-6, 2001)
    assert np.trapezoid(hier.mu_pdf(x), x) == pytest.approx(1, abs=1e-4)
    assert np.trapezoid(hier.theta_pdf(x, "Starship"), x) == pytest.approx(1, abs=1e-4)
    a = np.linspace(1e-4, 80, 40001)
    assert np.trapezoid(hier.alpha_pdf(a), a) == pytest.approx(1, abs=1e-3)


def test_independent_monte_carlo(groups, hier):
    """Importance sampling from the prior, with no grid and no Jacobian in sight."""
    rng = np.random.default_rng(1)
    a, b = np.abs(rng.normal(0, 10, size=(2, 400_000)))
    n, y = groups["trials"].to_numpy()[:, None], groups["successes"].to_numpy()[:, None]
    log_w = stats.betabinom.logpmf(y, n, a, b).sum(axis=0)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = 1 / np.sum(w**2)
    assert ess > 5000
    table = hier.summary()
    for name, values in {"alpha": a, "beta": b, "mu": a / (a + b)}.items():
        mean = w @ values
        se = np.sqrt(w @ (values - mean) ** 2 / ess)
        assert abs(mean - table.loc[name, "mean"]) < 4 * se, name
    # theta_i | alpha, beta, y ~ Beta(alpha + y_i, beta + N_i - y_i): its mean, weighted
    cond = (a + y) / (a + b + n)
    for i, group in enumerate(groups.index):
        mean = w @ cond[i]
        se = np.sqrt(w @ (cond[i] - mean) ** 2 / ess)
        assert abs(mean - table.loc[f"theta[{group}]", "mean"]) < 4 * se + 1e-4, group


def test_log_density_is_the_pymc_model(groups, hier):
    """The grid's density equals the marginal model's log posterior on the log scale."""
    with pm.Model() as model:
        alpha = pm.HalfNormal("alpha", sigma=10)
        beta = pm.HalfNormal("beta", sigma=10)
        pm.BetaBinomial(
            "y",
            alpha=alpha,
            beta=beta,
            n=groups["trials"].to_numpy(),
            observed=groups["successes"].to_numpy(),
        )
    logp = model.compile_logp()
    points = [(-1.0, 0.5), (1.3, -0.2), (2.5, 1.0), (0.0, -2.0)]
    ours = np.array([hier.log_density(u, v) for u, v in points]).ravel()
    theirs = np.array([logp({"alpha_log__": u, "beta_log__": v}) for u, v in points])
    np.testing.assert_allclose(ours - ours[0], theirs - theirs[0], atol=1e-8)


@pytest.mark.slow
def test_a_narrow_posterior_is_found_and_resolved(monkeypatch):
    # 20,000 groups of 1,000 trials: alpha's posterior sd is about 1% of its mean, narrower than
    # the coarse pass's step; the grid must zoom in on it.
    rng = np.random.default_rng(8)
    trials = np.full(20_000, 1000)
    successes = rng.binomial(trials, rng.beta(30, 70, trials.size))
    zooms = []
    zoom = exact.HierarchicalPosterior._zoom
    monkeypatch.setattr(exact.HierarchicalPosterior, "_zoom",
                        lambda self, *args: zooms.append(1) or zoom(self, *args))  # fmt: skip
    post = exact.HierarchicalPosterior(frame(trials, successes))
    table = post.summary([])
    assert zooms and post.edge_mass < exact.grid.EDGE_MAX
    # An independent computation: scipy's beta-binomial over the distinct counts, on a fine
    # grid of its own around its own mode.
    values, counts = np.unique(successes, return_counts=True)

    def log_post(log_a, log_b):
        a, b = np.exp(log_a)[..., None], np.exp(log_b)[..., None]
        like = (counts * stats.betabinom.logpmf(values, 1000, a, b)).sum(axis=-1)
        prior = stats.halfnorm(scale=10).logpdf(np.exp([log_a, log_b])).sum(axis=0)
        return like + prior + log_a + log_b

    best = optimize.minimize(lambda p: -log_post(*p), [np.log(30), np.log(70)], method="BFGS")
    # The spread from the curvature at the mode (central differences; BFGS's own inverse
    # Hessian is only an estimate), and a box of 12 standard deviations each way.
    h = 1e-3
    steps = np.array([-h, 0, h])
    f = log_post(*np.meshgrid(best.x[0] + steps, best.x[1] + steps, indexing="ij"))
    cross = (f[2, 2] - f[2, 0] - f[0, 2] + f[0, 0]) / 4
    hessian = np.array([[f[2, 1] - 2 * f[1, 1] + f[0, 1], cross],
                        [cross, f[1, 2] - 2 * f[1, 1] + f[1, 0]]]) / h**2  # fmt: skip
    sd = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    axes = [np.linspace(m - 12 * s, m + 12 * s, 301) for m, s in zip(best.x, sd, strict=True)]
    lp = log_post(*np.meshgrid(*axes, indexing="ij"))
    w = np.exp(lp - lp.max())
    w /= w.sum()
    alpha = np.exp(axes[0]) @ w.sum(axis=1)
    alpha_sd = np.sqrt(np.exp(2 * axes[0]) @ w.sum(axis=1) - alpha**2)
    assert alpha_sd / alpha < 0.02  # as narrow as the real table, or narrower
    assert table.loc["alpha", "mean"] == pytest.approx(alpha, rel=1e-5)
    assert table.loc["alpha", "sd"] == pytest.approx(alpha_sd, rel=1e-3)
    mu = (w * special.expit(axes[0][:, None] - axes[1][None, :])).sum()
    assert table.loc["mu", "mean"] == pytest.approx(mu, rel=1e-6)


def test_hyper_draws_follow_the_grid_posterior(hier):
    n = 20_000
    alpha, beta = hier.hyper_draws(n, np.random.default_rng(1))
    table = hier.summary([])
    for name, draws in (("alpha", alpha), ("beta", beta)):
        assert len(np.unique(draws)) == n  # moved within their cells: no repeats
        error = abs(draws.mean() - table.loc[name, "mean"])
        assert error < 4 * table.loc[name, "sd"] / np.sqrt(n), name
        assert abs(np.quantile(draws, 0.97) / table.loc[name, "q97"] - 1) < 0.03, name

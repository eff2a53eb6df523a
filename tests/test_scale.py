"""Many groups: the fitted subset, the others' closed-form likelihood, and what every group gets."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import stats

from pooling import exact, scale, selection
from pooling.data import load_groups

N_GROUPS = 150  # past scale.MANY


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A seeded table of N_GROUPS groups, with a few groups of no trials."""
    rng = np.random.default_rng(3)
    trials = rng.integers(5, 400, N_GROUPS)
    trials[[7, 40]] = 0
    successes = rng.binomial(trials, rng.beta(6, 3, N_GROUPS))
    path = tmp_path_factory.mktemp("many") / "many.csv"
    frame = pd.DataFrame({"unit": [f"U{i:03d}" for i in range(N_GROUPS)], "n": trials,
                          "k": successes})  # fmt: skip
    frame.to_csv(path, index=False)
    return load_groups(path, group="unit", trials="n", successes="k")


@pytest.fixture(scope="module")
def grid(many):
    return exact.HierarchicalPosterior(many)


def _grid_draws(grid, n: int, seed: int = 0):
    """Independent draws of (alpha, beta) from the exact grid posterior."""
    u, v, w, _ = grid._ab_grid
    a, b = np.meshgrid(np.exp(u), np.exp(v), indexing="ij")
    k = np.random.default_rng(seed).choice(w.size, n, p=w.ravel())
    return a.ravel()[k], b.ravel()[k]


def _fit(groups, fitted, **variables):
    """A DataTree of one chain with ``variables`` (arrays over draws, or draws x groups)."""
    dim = groups.attrs["labels"].group
    posterior = {name: np.asarray(values)[None] for name, values in variables.items()}
    dims = {name: [dim] for name, values in posterior.items() if values.ndim == 3}
    return az.from_dict({"posterior": posterior}, coords={dim: fitted.index.to_numpy()}, dims=dims)


def test_few_groups_are_all_fitted_and_nothing_is_printed(capsys):
    groups = load_groups()
    fitted, others = scale.split(groups, "hierarchical")
    assert fitted is groups and len(others) == 0
    assert capsys.readouterr().out == ""


def test_many_groups_fit_the_listed_ones_and_say_so(many, capsys):
    fitted, others = scale.split(many, "full pooling")
    listed = np.sort(selection.select_groups(many))
    assert list(fitted.index) == list(many.index[listed])
    assert len(others) == N_GROUPS - len(fitted)
    assert others.trials == many["trials"].sum() - fitted["trials"].sum()
    assert "6 lowest and 6 highest" in fitted.attrs["note"]
    assert selection.selection_note(fitted, np.arange(len(fitted))) == fitted.attrs["note"]
    out = capsys.readouterr().out
    assert f"{N_GROUPS} groups" in out and "summed counts" in out
    with pytest.raises(ValueError, match="model must be one of"):
        scale.split(many, "partial pooling")


def _log_density_differences(model, points):
    logp = model.compile_logp()
    values = [logp(point) for point in points]
    return np.diff(values)


def test_the_others_give_the_full_models_posterior(many):
    """The log density of fitted groups plus the others' term equals the full model's, up to
    a constant: its differences between points agree."""
    fitted, others = scale.split(many, "hierarchical")
    points = [{"alpha_log__": np.log(a), "beta_log__": np.log(b)}
              for a, b in [(3.0, 2.0), (7.5, 3.1), (20.0, 11.0)]]  # fmt: skip
    with pm.Model() as full:
        alpha, beta = pm.HalfNormal("alpha", 10), pm.HalfNormal("beta", 10)
        pm.BetaBinomial("y", alpha=alpha, beta=beta, n=many["trials"].to_numpy(),
                        observed=many["successes"].to_numpy())  # fmt: skip
    with pm.Model() as split:
        alpha, beta = pm.HalfNormal("alpha", 10), pm.HalfNormal("beta", 10)
        pm.BetaBinomial("y", alpha=alpha, beta=beta, n=fitted["trials"].to_numpy(),
                        observed=fitted["successes"].to_numpy())  # fmt: skip
        others.beta_binomial_likelihood(alpha, beta)
    np.testing.assert_allclose(_log_density_differences(split, points),
                               _log_density_differences(full, points), rtol=1e-9)  # fmt: skip

    fitted, others = scale.split(many, "full pooling")
    points = [{"theta_logodds__": x} for x in (-0.5, 0.3, 1.2)]
    models = []
    for frame, rest in [(many, None), (fitted, others)]:
        with pm.Model() as model:
            theta = pm.Beta("theta", 0.5, 0.5)
            pm.Binomial("y", n=frame["trials"].to_numpy(), p=theta,
                        observed=frame["successes"].to_numpy())  # fmt: skip
            if rest is not None:
                rest.pooled_likelihood(theta)
        models.append(model)
    np.testing.assert_allclose(*[_log_density_differences(m, points) for m in models],
                               rtol=1e-9)  # fmt: skip


def test_the_others_log_likelihood_is_added_for_power_scaling(many):
    fitted, others = scale.split(many, "hierarchical")
    a, b = np.array([[3.0, 5.0]]), np.array([[2.0, 4.0]])
    idata = az.from_dict({"posterior": {"alpha": a, "beta": b}, "log_likelihood": {"y": a * 0}})
    others.add_log_likelihood(idata)
    rest = many.drop(index=fitted.index)
    direct = [stats.betabinom.logpmf(rest["successes"], rest["trials"], x, y).sum()
              - stats.binom.logpmf(rest["successes"], rest["trials"], 0.5).sum()
              for x, y in zip(a.ravel(), b.ravel(), strict=True)]  # fmt: skip
    got = idata.log_likelihood["others"].to_numpy().ravel()
    # Equal up to one constant (the binomial coefficients and the 0.5 terms).
    np.testing.assert_allclose(np.diff(got), np.diff(direct), rtol=1e-9)


@pytest.mark.slow
def test_group_means_and_loo_match_the_exact_values(many, grid):
    fitted, _ = scale.split(many, "comparison")
    listed = np.sort(selection.select_groups(many))  # data order, as the reference
    reference = exact.leave_one_group_out(many, only=listed)
    y, n = many["successes"].to_numpy(), many["trials"].to_numpy()
    theta = np.random.default_rng(1).beta(0.5 + y[listed], 0.5 + n[listed] - y[listed],
                                          (400, len(listed)))  # fmt: skip
    no_pooling = _fit(many, fitted, theta=theta)
    np.testing.assert_allclose(scale.group_means(no_pooling, many), (0.5 + y) / (1 + n))
    result = scale.loo(no_pooling, many)
    np.testing.assert_allclose(result.elpd_i.to_numpy()[listed], reference["no_pooling"])
    assert result.n_data_points == N_GROUPS and np.isnan(result.pareto_k).all()

    common = np.random.default_rng(2).beta(0.5 + y.sum(), 0.5 + (n - y).sum(), 400)
    full = _fit(many, fitted, theta=common)
    result = scale.loo(full, many)
    np.testing.assert_allclose(result.elpd_i.to_numpy()[listed], reference["full_pooling"])

    alpha, beta = _grid_draws(grid, 4000)
    hierarchical = _fit(many, fitted, alpha=alpha, beta=beta, theta=theta[:1].repeat(4000, 0))
    result = scale.loo(hierarchical, many)
    # Importance sampling over independent draws: close to the grid's exact values.
    np.testing.assert_allclose(result.elpd_i.to_numpy()[listed], reference["hierarchical"],
                               atol=0.01)  # fmt: skip
    assert np.isfinite(result.pareto_k.to_numpy()[listed]).all()
    assert (result.pareto_k.to_numpy()[listed] < 0.5).all()  # near-even weights
    means = scale.group_means(hierarchical, many)
    exact_means = grid.summary(many.index)["mean"].filter(like="theta[").to_numpy()
    np.testing.assert_allclose(means, exact_means, atol=3e-3)


def test_joint_draws_are_thinned_and_follow_the_posterior(many, monkeypatch):
    fitted, _ = scale.split(many, "comparison")
    y, n = many["successes"].to_numpy(), many["trials"].to_numpy()
    monkeypatch.setattr(scale, "DRAW_BUDGET", 300 * N_GROUPS)
    fit = _fit(many, fitted, theta=np.full((1000, len(fitted)), 0.5))
    blocks = list(scale.rate_draws(fit, many, np.random.default_rng(4), chunk=64))
    draws = np.concatenate(blocks)
    assert draws.shape == (300, N_GROUPS)
    # Under no pooling, each group's draws follow its exact Beta posterior.
    z = (draws.mean(axis=0) - (0.5 + y) / (1 + n)) / (
        stats.beta(0.5 + y, 0.5 + n - y).std() / np.sqrt(300)
    )
    assert np.abs(z).max() < 5
    statistics = {"max rate": np.max}
    t_rep = scale.replicated_statistics(fit, many, statistics, np.random.default_rng(5))
    assert t_rep["max rate"].shape == (300,)
    rated = n > 0
    assert np.median(t_rep["max rate"]) >= np.max((y / np.maximum(n, 1))[rated]) - 0.1


def test_most_probable_best_counts_the_joint_draws(many):
    small = load_groups()
    theta = np.array([[0.1, 0.9, 0.2, 0.3], [0.1, 0.2, 0.9, 0.3], [0.1, 0.95, 0.2, 0.3]])
    fit = _fit(small, small, theta=theta)
    best = scale.most_probable_best(fit, small, np.arange(4), np.random.default_rng(0))
    np.testing.assert_allclose(best, [0, 2 / 3, 1 / 3, 0])
    # Past MANY, under no pooling: against P(theta_k > every other theta), by quadrature.
    fitted, _ = scale.split(many, "comparison")
    fit = _fit(many, fitted, theta=np.full((2000, len(fitted)), 0.5))
    y, n = many["successes"].to_numpy(), many["trials"].to_numpy()
    top = np.argsort((0.5 + y) / (1 + n))[-2:]  # the two likeliest
    got = scale.most_probable_best(fit, many, top, np.random.default_rng(1))
    t = np.linspace(1e-6, 1 - 1e-6, 20_001)[:, None]
    posterior = stats.beta(0.5 + y, 0.5 + n - y)
    log_cdf = posterior.logcdf(t)
    for k, p in zip(top, got, strict=True):
        density = posterior.pdf(t)[:, k] * np.exp(np.delete(log_cdf, k, axis=1).sum(axis=1))
        want = np.trapezoid(density, t[:, 0])
        assert abs(p - want) <= 5 * np.sqrt(want * (1 - want) / 2000) + 1e-3

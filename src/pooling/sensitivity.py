"""Power-scaling prior sensitivity, with a verdict in words.

Raising the prior (or the likelihood) to a power close to 1 and watching how far the
posterior moves, estimated by Pareto-smoothed importance sampling from the draws at hand
(``arviz.psense``), tells whether a posterior quantity is driven by the prior, the data, or a
conflict between the two, without refitting (Kallioinen et al. 2024).

References
----------
.. [1] Kallioinen, N., Paananen, T., Buerkner, P.-C. and Vehtari, A. (2024). Detecting and
   diagnosing prior and likelihood sensitivity with power-scaling. *Statistics and
   Computing* 34, 57.
"""

from __future__ import annotations

import arviz as az
import pandas as pd

__all__ = ["THRESHOLD", "power_scaling", "verdict"]

#: Sensitivity (cumulative Jensen-Shannon distance per unit of log power) from which a
#: component counts as influential, as in the paper and its R package priorsense.
THRESHOLD = 0.05


def verdict(prior: float, likelihood: float) -> str:
    """The diagnosis of one quantity from its prior and likelihood sensitivities.

    Parameters
    ----------
    prior, likelihood : float
        Power-scaling sensitivities to the prior and to the likelihood.

    Returns
    -------
    str
        "prior-data conflict" when both matter, "prior dominates (weak likelihood)" when only
        the prior does, "weak likelihood" when neither does, else "data dominate (no
        prior sensitivity)".
    """
    if prior >= THRESHOLD:
        return (
            "prior-data conflict"
            if likelihood >= THRESHOLD
            else "prior dominates (weak likelihood)"
        )
    return "weak likelihood" if likelihood < THRESHOLD else "data dominate (no prior sensitivity)"


def power_scaling(idata, var_names: list[str]) -> pd.DataFrame:
    """Prior and likelihood sensitivity of each scalar in ``var_names``, and the verdict.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit with ``posterior``, ``log_prior`` (e.g. from ``pm.stats.compute_log_prior``) and
        ``log_likelihood`` groups.
    var_names : list of str
        Scalar posterior variables.

    Returns
    -------
    pandas.DataFrame
        One row per variable: ``prior``, ``likelihood`` and ``verdict``.
    """
    rows = {name: {} for name in var_names}
    for component in ("prior", "likelihood"):
        result = az.psense(idata, group=component, var_names=var_names)
        for name in var_names:
            rows[name][component] = float(result[name])
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("quantity")
    table["verdict"] = [
        verdict(p, lik) for p, lik in zip(table["prior"], table["likelihood"], strict=True)
    ]
    return table

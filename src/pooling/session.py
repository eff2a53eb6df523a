"""Notebook session set-up: house plotting style and quiet logs."""

from __future__ import annotations

import logging
import warnings

import arviz as az
import matplotlib as mpl
import seaborn as sns

from pooling import portable

__all__ = ["setup"]


def setup() -> None:
    """Apply the house plotting style and silence messages that are not results.

    ``pm.sample`` and ``pm.sample_posterior_predictive`` log progress (``Sampling: [y]``) at
    INFO level, which would land in the notebooks' outputs. PyTensor warns when a pip install
    finds no BLAS library; these scalar models do no matrix algebra, so it does not apply.
    """
    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update({"figure.dpi": 100, "svg.hashsalt": "pooling"})
    az.rcParams["plot.max_subplots"] = 80
    logging.getLogger("pymc").setLevel(logging.WARNING)
    if not portable.is_portable():
        print(
            "note: this kernel lacks the portable settings of pooling.portable.ENV, so its draws "
            "may differ from the committed ones; start JupyterLab with `make lab`"
        )
    warnings.filterwarnings(
        "ignore", message="PyTensor could not link to a BLAS", category=UserWarning
    )

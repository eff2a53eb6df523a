# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# Reference analysis, run the reference way (benchmark baseline only): the post's code for
# the pooled model.

# %%
import pandas as pd
import numpy as np
import seaborn as sns
import pymc as pm
import arviz as az
import scipy.stats as st
from matplotlib import pyplot as plt

df_spacex = pd.DataFrame({'Mission': ['Falcon 1', 'Falcon 9', 'Falcon Heavy', 'Starship'], 'N': [5, 304, 9, 9], 'y': [2, 301, 9, 5]})
df_spacex['mu'] = df_spacex['y']/df_spacex['N']
rng = np.random.default_rng(42)

# %%
with pm.Model() as spacex_model_full_pooling:
  theta = pm.Beta('theta', alpha=1/2, beta=1/2)
  y = pm.Binomial('y', p=theta, n=df_spacex['N'].values,
                  observed=df_spacex['y'].values)

pm.model_to_graphviz(spacex_model_full_pooling)

# %%
with spacex_model_full_pooling:
  trace_spacex_full_pooling = pm.sample(5000, tune=5000, chains=4, random_seed=rng)

az.plot_trace(trace_spacex_full_pooling)

# %%
az.plot_forest(trace_spacex_full_pooling)

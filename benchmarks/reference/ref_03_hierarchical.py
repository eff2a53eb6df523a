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
# the hierarchical model, the new vehicle and the MAP of mu.

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
with pm.Model() as spacex_model_hierarchical:
    alpha = pm.HalfNormal("alpha", sigma=10)
    beta = pm.HalfNormal("beta", sigma=10)
    mu = pm.Deterministic("mu", alpha/(alpha+beta))
    theta = pm.Beta('theta', alpha=alpha, beta=beta, shape=len(df_spacex['N'].values))
    y = pm.Binomial('y', p=theta, n=df_spacex['N'].values,
                  observed=df_spacex['y'].values)

pm.model_to_graphviz(spacex_model_hierarchical)

# %%
with spacex_model_hierarchical:
    trace_spacex_hierarchical = pm.sample(5000, tune=5000, chains=4, target_accept=0.98, random_seed=rng)

az.plot_trace(trace_spacex_hierarchical)

# %%
az.plot_forest(trace_spacex_hierarchical, var_names='theta')

# %%
with spacex_model_hierarchical:
    theta_new = pm.Beta('th_new', alpha=alpha, beta=beta)
    ppc_new = pm.sample_posterior_predictive(trace_spacex_hierarchical, var_names=['th_new'])

fig = plt.figure()
ax = fig.add_subplot(111)
ax.hist(ppc_new.posterior_predictive['th_new'].values.reshape(-1), bins=np.arange(0, 1, 0.02), density=True)

# %%
map_mu = st.mode(np.digitize(trace_spacex_hierarchical.posterior["mu"].values.reshape(-1), bins=np.linspace(0, 1, 100))).mode/100

fig = plt.figure()
ax = fig.add_subplot(111)
az.plot_posterior(trace_spacex_hierarchical, var_names=["mu"], ax=ax)
ax.text(0.3, 3, f'MAP: {map_mu}', fontsize=15)

# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # EM for a Gaussian mixture, step by step
#
# Run this with your `gmm.py` next to it (open it in Jupyter through jupytext, or run it as a
# script). It fits a 3-component mixture to two principal components of scikit-learn's
# handwritten digits and draws the components after a few EM iterations.

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

import gmm

digits = load_digits()
keep = np.isin(digits.target, [0, 1, 7])
X = PCA(n_components=2, random_state=0).fit_transform(digits.data[keep])
X = (X - X.mean(axis=0)) / X.std(axis=0)  # (N, 2)

# %%
rng = np.random.default_rng(0)
K = 3
weights = np.full(K, 1 / K)
means = X[rng.choice(len(X), size=K, replace=False)]
covs = np.stack([np.eye(2)] * K)


def draw(ax, X, weights, means, covs, title):
    resp, _ = gmm.e_step(X, weights, means, covs)
    ax.scatter(X[:, 0], X[:, 1], c=resp, s=6)
    for mean, cov in zip(means, covs):
        values, vectors = np.linalg.eigh(cov)
        angle = np.linspace(0, 2 * np.pi, 100)
        ellipse = vectors @ (2 * np.sqrt(values)[:, None] * np.stack([np.cos(angle), np.sin(angle)]))
        ax.plot(mean[0] + ellipse[0], mean[1] + ellipse[1], "k-", lw=1)
    ax.set_title(title)


fig, axes = plt.subplots(1, 4, figsize=(16, 4))
for ax, iterations in zip(axes, (1, 2, 5, 50)):
    w, m, c, history = gmm.fit_gmm(X, weights, means, covs, max_iter=iterations)
    draw(ax, X, w, m, c, f"after {len(history)} iteration(s)")
plt.tight_layout()
plt.savefig("gmm_em_steps.png")

# %% [markdown]
# The log-likelihood must never decrease:

# %%
*_, history = gmm.fit_gmm(X, weights, means, covs, max_iter=100)
plt.figure()
plt.plot(history, marker=".")
plt.xlabel("EM iteration")
plt.ylabel("mean log-likelihood")
plt.savefig("gmm_history.png")
print("non-decreasing:", bool(np.all(np.diff(history) >= -1e-9)))

# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Training the course VAE with your `vae.py`
#
# Run this after `course check vae` passes. It trains the course VAE
# (`genmodels.vae`) on scikit-learn's binarised 8×8 digits with *your*
# `reparameterize` and `elbo`, then shows reconstructions, samples from the
# prior, and a 2-D latent space. A few seconds on a CPU.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import vae  # your file, next to this notebook
from genmodels.data import digits
from genmodels.vae import TrainConfig, VAEConfig, new_model, train_vae

data = digits()
model = train_vae(new_model(VAEConfig()), data.train, vae.reparameterize, vae.elbo, TrainConfig(steps=2000))
x = torch.as_tensor(data.test[:512])
with torch.no_grad():
    logits, mu, logvar = model(x, vae.reparameterize)
    print(f"held-out negative ELBO: {-vae.elbo(x, logits, mu, logvar).mean():.2f} nats per image")


# %%
def show(images, title, rows=2):
    images = np.asarray(images).reshape(rows, -1, 8, 8)
    grid = np.concatenate([np.concatenate(list(row), axis=1) for row in images], axis=0)
    plt.figure(figsize=(8, 2))
    plt.imshow(grid, cmap="gray")
    plt.title(title)
    plt.axis("off")


# %% [markdown]
# Top row: held-out digits; bottom row: the decoder's probabilities for their codes.

# %%
show(torch.cat([x[:12], torch.sigmoid(logits[:12])]), "reconstructions")

# %% [markdown]
# Samples: z ~ N(0, I), decoded to pixel probabilities.

# %%
with torch.no_grad():
    samples = torch.sigmoid(model.decode(torch.randn(24, model.config.z_dim)))
show(samples, "samples from the prior", rows=2)

# %% [markdown]
# A VAE with a 2-D latent space: each test digit at the mean of q(z | x), coloured by its label.

# %%
model2 = train_vae(new_model(VAEConfig(z_dim=2)), data.train, vae.reparameterize, vae.elbo, TrainConfig(steps=2000))
with torch.no_grad():
    mu2, _ = model2.encode(torch.as_tensor(data.test))
plt.figure(figsize=(5, 5))
plt.scatter(mu2[:, 0], mu2[:, 1], c=data.test_labels, cmap="tab10", s=8)
plt.colorbar(label="digit")
plt.title("2-D latent space (posterior means)")
plt.show()

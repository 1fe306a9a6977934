"""The course VAE: a small MLP encoder/decoder for 8x8 binary digits, and its training loop.

The loss functions are not here: the loop takes `reparameterize` and `elbo` as
arguments (the student's, in the exercise and the grader's smoke test), so this
file holds no answers to the exercise.

    from genmodels.data import digits
    from genmodels.vae import VAE, VAEConfig, TrainConfig, train_vae
    model = train_vae(VAE(VAEConfig()), digits().train, vae.reparameterize, vae.elbo, TrainConfig())
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genmodels.optim import Adam


@dataclass(frozen=True)
class VAEConfig:
    image_shape: tuple = (1, 8, 8)  # scikit-learn digits
    hidden: int = 128  # fits 8x8 digits well and trains 300 steps in about a second on a CPU core
    z_dim: int = 16  # a 2 shows the latent space as a picture; 16 gives a tighter bound


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 300  # a fixed number of Adam steps, never a time budget (see docs/vae.md)
    batch_size: int = 64
    lr: float = 3e-3  # a short fixed budget: a larger step than the usual 1e-3 still trains stably
    seed: int = 0  # seeds the initial weights, the batch order and torch's noise


def mlp(sizes):
    """Linear layers with ReLU between them (none after the last)."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """q(z|x) = N(mu, diag exp(logvar)) from an MLP encoder; p(x|z) Bernoulli with logits from an MLP decoder."""

    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        self.config = config
        x_dim = int(np.prod(config.image_shape))
        self.encoder = mlp([x_dim, config.hidden, config.hidden, 2 * config.z_dim])
        self.decoder = mlp([config.z_dim, config.hidden, config.hidden, x_dim])

    def encode(self, x):
        mu, logvar = self.encoder(x.flatten(1)).chunk(2, dim=1)  # (B, z_dim) each
        return mu, logvar

    def decode(self, z):
        return self.decoder(z).view(-1, *self.config.image_shape)  # (B, C, H, W) logits

    def forward(self, x, reparameterize):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)  # (B, z_dim)
        return self.decode(z), mu, logvar


def train_vae(model, images, reparameterize, elbo, config: TrainConfig = TrainConfig(), device="cpu"):
    """`config.steps` Adam steps on minibatches of `images` (N, C, H, W) maximising the mean ELBO."""
    torch.manual_seed(config.seed)
    model.to(device).train()
    data = torch.as_tensor(np.asarray(images), dtype=torch.float32, device=device)
    optimizer = Adam(model.parameters(), lr=config.lr)
    order = np.random.default_rng(config.seed)
    for _ in range(config.steps):
        batch = data[torch.as_tensor(order.choice(len(data), config.batch_size, replace=False), device=device)]
        logits, mu, logvar = model(batch, reparameterize)
        loss = -elbo(batch, logits, mu, logvar).mean()  # average over the batch, never over pixels
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def new_model(config: VAEConfig = VAEConfig(), seed: int = 0):
    torch.manual_seed(seed)
    return VAE(config)


def layer_weights(model) -> dict:
    """The effective weight and bias of every Linear layer, as float32 arrays keyed by module path."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            out[f"{name}.weight"] = module.weight.detach().float().cpu().numpy()
            out[f"{name}.bias"] = module.bias.detach().float().cpu().numpy()
    return out


def load_layer_weights(model, weights: dict):
    """Copy arrays from `layer_weights` back into a model of the same config; raises ValueError on a mismatch."""
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, nn.Linear):
                for part in ("weight", "bias"):
                    array = np.asarray(weights.get(f"{name}.{part}"), dtype=np.float32)
                    target = getattr(module, part)
                    if array.shape != tuple(target.shape):
                        raise ValueError(f"{name}.{part}: expected shape {tuple(target.shape)}, got {array.shape}")
                    target.copy_(torch.from_numpy(array))
    return model

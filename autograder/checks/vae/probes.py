"""Probes of the VAE exercise: they call the student's vae.py on fixed inputs. No answers here."""

import numpy as np

from autograder.sandboxed.probekit import ProbeSet

PROBES = ProbeSet()
KIT_PACKAGES = ["genmodels"]  # the course VAE and its training loop, for the smoke test

DRAWS = 2000  # calls of reparameterize for the sampling statistics


def _torch():
    import torch

    return torch


def _tensor(torch, array, device, dtype=None):
    return torch.as_tensor(np.asarray(array), device=device, dtype=dtype or torch.float32)


# ---------------------------------------------------------------- reparameterize


def _reparam_inputs(rng):
    B, D = 6, 3
    signs = rng.choice([-1.0, 1.0], size=(B, D))
    return {
        "mu": rng.normal(scale=2.0, size=(B, D)),
        "logvar": signs * rng.uniform(1.0, 2.5, size=(B, D)),  # |logvar| >= 1: exp(logvar) and its square root differ
    }


@PROBES.probe(inputs=_reparam_inputs)
def reparameterize_draws(vae, inputs, device):
    """DRAWS independent calls on the same (mu, logvar): z has shape (DRAWS, B, D)."""
    torch = _torch()
    torch.manual_seed(0)
    mu, logvar = _tensor(torch, inputs["mu"], device), _tensor(torch, inputs["logvar"], device)
    with torch.no_grad():
        first = vae.reparameterize(mu, logvar)
        draws = [first] + [vae.reparameterize(mu, logvar) for _ in range(DRAWS - 1)]
    shapes = sorted({tuple(getattr(z, "shape", ())) for z in draws})
    if len(shapes) != 1 or shapes[0] != tuple(mu.shape):
        return {"first": first, "z": None}
    return {"first": first, "z": torch.stack(draws)}


@PROBES.probe(inputs=_reparam_inputs)
def reparameterize_grad(vae, inputs, device):
    """Backpropagate sum(z): mu.grad should be 1 and logvar.grad (z - mu) / 2, element by element."""
    torch = _torch()
    torch.manual_seed(1)
    mu = _tensor(torch, inputs["mu"], device, torch.float64).requires_grad_(True)
    logvar = _tensor(torch, inputs["logvar"], device, torch.float64).requires_grad_(True)
    z = vae.reparameterize(mu, logvar)
    differentiable = bool(getattr(z, "requires_grad", False))
    if differentiable:
        z.sum().backward()
    return {
        "z": z, "differentiable": differentiable,
        "mu_grad": mu.grad, "logvar_grad": logvar.grad,
    }


@PROBES.probe(inputs=_reparam_inputs)
def reparameterize_types(vae, inputs, device):
    """z keeps the dtype and device of its inputs (float32 and float64)."""
    torch = _torch()
    out = {"device": str(torch.device(device))}
    for name, dtype in (("z32", torch.float32), ("z64", torch.float64)):
        mu = _tensor(torch, inputs["mu"], device, dtype)
        out[name] = vae.reparameterize(mu, _tensor(torch, inputs["logvar"], device, dtype))
    return out


# ---------------------------------------------------------------- kl_to_standard_normal


def _kl_inputs(rng):
    B, D = 16, 5
    extreme_mu = rng.choice([-30.0, -1e-3, 0.0, 25.0], size=(B, D))
    extreme_logvar = rng.choice([-40.0, -15.0, 0.0, 12.0, 30.0], size=(B, D))
    return {
        "mu": rng.normal(scale=1.5, size=(B, D)), "logvar": rng.normal(scale=1.5, size=(B, D)),
        "extreme_mu": extreme_mu, "extreme_logvar": extreme_logvar,
        "one_dim_mu": rng.normal(size=(7, 1)), "one_dim_logvar": rng.normal(size=(7, 1)),
    }


@PROBES.probe(inputs=_kl_inputs)
def kl(vae, inputs, device):
    torch = _torch()
    out = {}
    for label in ("", "extreme_", "one_dim_"):
        mu, logvar = _tensor(torch, inputs[f"{label}mu"], device), _tensor(torch, inputs[f"{label}logvar"], device)
        out[f"{label}kl"] = vae.kl_to_standard_normal(mu, logvar)
    return out


# ---------------------------------------------------------------- bernoulli_log_likelihood


def _bernoulli_inputs(rng):
    B = 12
    x_image = (rng.random((B, 1, 8, 8)) < 0.4).astype(np.float64)
    extreme = rng.choice([-150.0, 150.0], size=(B, 64))
    extreme[:, :4] = [150.0, -150.0, 150.0, -150.0]  # every example has confident right and wrong pixels
    x_extreme = (rng.random((B, 64)) < 0.5).astype(np.float64)
    x_extreme[:, :4] = [1.0, 1.0, 0.0, 0.0]
    return {
        "x_image": x_image, "logits_image": rng.normal(scale=3.0, size=(B, 1, 8, 8)),
        "x_flat": (rng.random((B, 20)) < 0.6).astype(np.float64), "logits_flat": rng.normal(scale=2.0, size=(B, 20)),
        "x_extreme": x_extreme, "logits_extreme": extreme,
    }


@PROBES.probe(inputs=_bernoulli_inputs)
def bernoulli(vae, inputs, device):
    torch = _torch()
    out = {}
    for label in ("image", "flat", "extreme"):
        x, logits = _tensor(torch, inputs[f"x_{label}"], device), _tensor(torch, inputs[f"logits_{label}"], device)
        out[label] = vae.bernoulli_log_likelihood(x, logits)
    return out


# ---------------------------------------------------------------- elbo


def _elbo_inputs(rng):
    B, D = 10, 4
    return {
        "x": (rng.random((B, 1, 8, 8)) < 0.4).astype(np.float64), "logits": rng.normal(scale=2.0, size=(B, 1, 8, 8)),
        "mu": rng.normal(size=(B, D)), "logvar": rng.normal(scale=0.8, size=(B, D)),
    }


@PROBES.probe(inputs=_elbo_inputs)
def elbo(vae, inputs, device):
    """The ELBO, and the student's own two terms on the same inputs (to judge the composition alone)."""
    torch = _torch()
    x, logits = _tensor(torch, inputs["x"], device), _tensor(torch, inputs["logits"], device)
    mu, logvar = _tensor(torch, inputs["mu"], device), _tensor(torch, inputs["logvar"], device)
    out = {"elbo": vae.elbo(x, logits, mu, logvar)}
    try:
        out["own_ll"] = vae.bernoulli_log_likelihood(x, logits)
        out["own_kl"] = vae.kl_to_standard_normal(mu, logvar)
    except Exception:  # noqa: BLE001 - the composition check then compares with the reference terms only
        out["own_ll"] = out["own_kl"] = None
    return out


# ---------------------------------------------------------------- training smoke test


@PROBES.probe(reference=False, time_s=60)
def train(vae, inputs, device):
    """Train the course VAE with the student's reparameterize and elbo; return the trained weights."""
    _torch()
    from genmodels.data import digits
    from genmodels.vae import TrainConfig, VAEConfig, layer_weights, new_model, train_vae

    model = train_vae(new_model(VAEConfig(), seed=0), digits().train, vae.reparameterize, vae.elbo,
                      TrainConfig(seed=0), device=device)
    return layer_weights(model)

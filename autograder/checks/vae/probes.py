"""Probes of the VAE exercise: they call the student's vae.py on fixed inputs. No answers here."""

import numpy as np

from autograder.sandboxed.probekit import ProbeSet, given_stand_ins, meta_result

PROBES = ProbeSet(warm_imports=("torch.fx.experimental.symbolic_shapes",))  # what meta kernels import (sympy)
KIT_PACKAGES = ["genmodels"]  # the course VAE and its training loop, for the smoke test

DRAWS = 2000  # calls of reparameterize for the sampling statistics
TERMS = ("bernoulli_log_likelihood", "kl_to_standard_normal")
# elbo is judged on its own: again with stand-in terms in place of the student's (label -> pieces), as the
# reference's elbo is.
ELBO_GIVEN = {"given_ll": ("bernoulli_log_likelihood",), "given_kl": ("kl_to_standard_normal",), "given_terms": TERMS}
# the smoke test trains with the student's functions, and again with stand-ins in place of those that differ from
# the reference's.
SMOKE_GIVEN = {"given_terms": TERMS, "given_reparameterize": ("reparameterize",), "given_all": ("reparameterize", *TERMS)}
SMOKE_STEPS = 500  # Adam steps (docs/vae.md): enough for a VAE that uses its latents to beat any collapsed one


# ---------------------------------------------------------------- stand-ins (not the answers)
# Each trains a VAE about as well as the true piece, and none is the answer: uniform noise, a Gaussian
# reconstruction term, and a divergence from a wider prior N(0, 1.5).
WIDE_PRIOR_VARIANCE = 1.5
GAUSSIAN_PRECISION = 16.0


def _uniform_reparameterize(mu, logvar):
    """Stand-in for reparameterize: mu + std * u with u uniform of mean 0 and variance 1 (not Gaussian)."""
    torch = _torch()
    unit_uniform = (torch.rand_like(mu) * 2.0 - 1.0) * 3.0**0.5
    return mu + torch.exp(0.5 * logvar) * unit_uniform


def _gaussian_reconstruction(x, logits):
    """Stand-in for bernoulli_log_likelihood: −(precision/2) · squared error of sigmoid(logits) per example, (B,)."""
    squared_error = (x - _torch().sigmoid(logits)) ** 2
    return -0.5 * GAUSSIAN_PRECISION * squared_error.flatten(1).sum(dim=1)


def _wide_prior_divergence(mu, logvar):
    """Stand-in for kl_to_standard_normal: KL(q || N(0, WIDE_PRIOR_VARIANCE · I)) per example, (B,)."""
    ratio = (logvar.exp() + mu * mu) / WIDE_PRIOR_VARIANCE
    return 0.5 * (ratio - logvar + np.log(WIDE_PRIOR_VARIANCE) - 1.0).sum(dim=1)


STAND_INS = {"reparameterize": _uniform_reparameterize, "bernoulli_log_likelihood": _gaussian_reconstruction,
             "kl_to_standard_normal": _wide_prior_divergence}


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
def dtypes(vae, inputs, device):
    """Each function on float32 and on float64 inputs (what comes back carries the dtype and device, in `types`),
    and on PyTorch's meta device, where a tensor made on the CPU inside the function fails as on a GPU."""
    torch = _torch()
    out = {"device": str(torch.device(device))}
    x = (inputs["mu"][:, :1] > 0).astype(np.float64)  # (B, 1) binary targets
    for label, dtype in (("32", torch.float32), ("64", torch.float64)):
        mu, logvar = _tensor(torch, inputs["mu"], device, dtype), _tensor(torch, inputs["logvar"], device, dtype)
        target, logits = _tensor(torch, x, device, dtype), _tensor(torch, inputs["mu"][:, :1], device, dtype)
        out[f"reparameterize{label}"] = vae.reparameterize(mu, logvar)
        out[f"kl_to_standard_normal{label}"] = vae.kl_to_standard_normal(mu, logvar)
        out[f"bernoulli_log_likelihood{label}"] = vae.bernoulli_log_likelihood(target, logits)
        out[f"elbo{label}"] = vae.elbo(target, logits, mu, logvar)
    meta = {k: torch.empty(v.shape, device="meta") for k, v in (("mu", mu), ("x", target))}
    out["reparameterize_meta"] = meta_result(lambda: vae.reparameterize(meta["mu"], meta["mu"]))
    out["kl_to_standard_normal_meta"] = meta_result(lambda: vae.kl_to_standard_normal(meta["mu"], meta["mu"]))
    out["bernoulli_log_likelihood_meta"] = meta_result(lambda: vae.bernoulli_log_likelihood(meta["x"], meta["x"]))
    out["elbo_meta"] = meta_result(lambda: vae.elbo(meta["x"], meta["x"], meta["mu"], meta["mu"]))
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


TINY = {"mu": [[0.5]], "logvar": [[1.0]], "x": [[1.0, 0.0]], "logits": [[2.0, -1.0]]}  # the smallest cases


@PROBES.probe(inputs=_kl_inputs)
def kl(vae, inputs, device):
    torch = _torch()
    out = {"tiny": vae.kl_to_standard_normal(_tensor(torch, TINY["mu"], device), _tensor(torch, TINY["logvar"], device))}
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
    out = {"tiny": vae.bernoulli_log_likelihood(_tensor(torch, TINY["x"], device), _tensor(torch, TINY["logits"], device))}
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


def _elbo_run(vae, inputs, device):
    """The ELBO, and the gradients of its sum w.r.t. the logits, mu and logvar (None where none flows)."""
    torch = _torch()
    x = _tensor(torch, inputs["x"], device)
    logits, mu, logvar = (_tensor(torch, inputs[k], device).requires_grad_(True) for k in ("logits", "mu", "logvar"))
    value = vae.elbo(x, logits, mu, logvar)
    out = {"elbo": value, "logits_grad": None, "mu_grad": None, "logvar_grad": None}
    if isinstance(value, torch.Tensor) and value.requires_grad:
        grads = torch.autograd.grad(value.sum(), (logits, mu, logvar), allow_unused=True)
        out.update(logits_grad=grads[0], mu_grad=grads[1], logvar_grad=grads[2])
    return out


@PROBES.probe(inputs=_elbo_inputs, stand_ins=TERMS)
def elbo(vae, inputs, device):
    """elbo with the student's two terms, and with stand-ins in place of one or both (ELBO_GIVEN)."""
    return given_stand_ins(vae, inputs, {"": (), **ELBO_GIVEN}, lambda: _elbo_run(vae, inputs, device), STAND_INS)


# ---------------------------------------------------------------- training smoke test


def _train(vae, device):
    from genmodels.data import digits
    from genmodels.vae import TrainConfig, VAEConfig, layer_weights, new_model, train_vae

    model = train_vae(new_model(VAEConfig(), seed=0), digits().train, vae.reparameterize, vae.elbo,
                      TrainConfig(steps=SMOKE_STEPS, seed=0), device=device)
    return layer_weights(model)


def _trials(device):
    """Arguments on which each piece is compared with the reference's before training again without it."""
    torch = _torch()

    def leaf(*shape, binary=False):
        value = torch.randn(*shape, dtype=torch.float32)
        return (value > 0).float().to(device) if binary else (2 * value).to(device).requires_grad_(True)

    return {"reparameterize": lambda: (leaf(4, 3), leaf(4, 3)),
            "bernoulli_log_likelihood": lambda: (leaf(4, 1, 3, 3, binary=True), leaf(4, 1, 3, 3)),
            "kl_to_standard_normal": lambda: (leaf(4, 3), leaf(4, 3))}


@PROBES.probe(reference=False, time_s=120, stand_ins=("reparameterize", *TERMS), trials=_trials)
def train(vae, inputs, device):
    """Train the course VAE with the student's reparameterize and elbo (and again with stand-ins in place of the
    pieces that behave differently from the reference's); return the trained weights."""
    if device == "cpu":
        _torch().set_num_threads(1)  # a small MLP gains nothing from threads; on a busy CPU they only contend
    runs = {"": (), **SMOKE_GIVEN}
    return given_stand_ins(vae, inputs, runs, lambda: _train(vae, device), STAND_INS, trials=_trials(device))

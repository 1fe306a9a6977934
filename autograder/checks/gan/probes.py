"""Probes of the GAN exercise: they call the student's gan.py on fixed inputs. No answers here.

The training probes build the course's small GAN (genmodels.gan) themselves from
a seed, so the trusted side can rebuild the same networks and compare weights.
"""

import numpy as np
import torch

from autograder.sandboxed.probekit import ContractError, ProbeSet, given_stand_ins, meta_result, unpack
from genmodels.optim import SGD

KIT_PACKAGES = ["genmodels"]  # the course GAN and the ring data, copied into the sandbox
PROBES = ProbeSet(warm_imports=("torch.fx.experimental.symbolic_shapes",))  # what meta kernels import (sympy)

STEP_MODEL = {"data_dim": 2, "z_dim": 4, "hidden": 16, "layers": 2}  # tiny MLPs for the exact two-step check
STEP_LR = 0.05  # plain SGD: every parameter's change is lr x its gradient, so any gradient mistake shows
SMOKE_SEED = 0
# gan_train_step is judged on its own: again with stand-in losses in place of the student's (label -> the
# losses replaced), as the reference's step is, so that a wrong loss costs points only in the loss checks.
GIVEN_LOSSES = {"given_d": ("discriminator_loss",), "given_g": ("generator_loss",),
                "given_losses": ("discriminator_loss", "generator_loss")}
STEP_RUNS = {"": (), **GIVEN_LOSSES}


# ---------------------------------------------------------------- stand-ins (not the answers)


def _least_squares_discriminator_loss(real_logits, fake_logits):
    """Stand-in for discriminator_loss: the least-squares GAN's (Mao et al., 2017), on the raw outputs."""
    return 0.5 * ((real_logits - 1.0) ** 2).mean() + 0.5 * (fake_logits**2).mean()


def _least_squares_generator_loss(fake_logits):
    """Stand-in for generator_loss: the least-squares GAN's."""
    return 0.5 * ((fake_logits - 1.0) ** 2).mean()


STAND_INS = {"discriminator_loss": _least_squares_discriminator_loss,
             "generator_loss": _least_squares_generator_loss}


def _tensor(array):
    return torch.as_tensor(np.asarray(array), dtype=torch.float32)


def _scalar_report(value, prefix):
    """A loss as plain data: the number, and whether it was a 0-d tensor that carries a gradient."""
    out = {f"{prefix}": value}
    if isinstance(value, torch.Tensor):
        out[f"{prefix}_shape"] = list(value.shape)
        out[f"{prefix}_grad"] = bool(value.requires_grad)
    return out


def _loss_inputs(rng):
    return {
        "real": rng.normal(scale=3.0, size=(64, 1)).astype(np.float32),
        "fake": rng.normal(scale=3.0, size=(40, 1)).astype(np.float32),  # another batch size
        "real_flat": rng.normal(scale=2.0, size=(24,)).astype(np.float32),
        "fake_flat": rng.normal(scale=2.0, size=(36,)).astype(np.float32),
        # confident discriminators: both signs, ±200, where log(sigmoid(x)) underflows to -inf
        "real_extreme": np.array([200.0, -200.0, 150.0, -120.0, 0.5, 90.0], dtype=np.float32)[:, None],
        "fake_extreme": np.array([-200.0, 200.0, -150.0, 120.0, -0.5, -90.0, 30.0, -30.0], dtype=np.float32)[:, None],
    }


TINY = {"real": [1.0], "fake": [-1.0]}  # the smallest case: one logit each


@PROBES.probe(inputs=_loss_inputs)
def losses(gan, inputs, device):
    real, fake = _tensor(TINY["real"]).to(device), _tensor(TINY["fake"]).to(device)
    out = {"tiny_d": gan.discriminator_loss(real, fake), "tiny_g": gan.generator_loss(fake),
           "tiny_minimax": gan.generator_loss_minimax(fake)}
    for label, real, fake in (("random", "real", "fake"), ("flat", "real_flat", "fake_flat"),
                              ("extreme", "real_extreme", "fake_extreme")):
        r = _tensor(inputs[real]).to(device).requires_grad_()
        f = _tensor(inputs[fake]).to(device).requires_grad_()
        out.update(_scalar_report(gan.discriminator_loss(r, f), f"{label}_d"))
        out.update(_scalar_report(gan.generator_loss(f), f"{label}_g"))
        out.update(_scalar_report(gan.generator_loss_minimax(f), f"{label}_minimax"))
    return out


@PROBES.probe(inputs=_loss_inputs)
def dtypes(gan, inputs, device):
    """The three losses on float32 and float64 logits: what comes back keeps the dtype and device (in `types`)."""
    out = {"device": str(torch.device(device))}
    for label, dtype in (("32", torch.float32), ("64", torch.float64)):
        real = torch.as_tensor(inputs["real"], dtype=dtype, device=device)
        fake = torch.as_tensor(inputs["fake"], dtype=dtype, device=device)
        out[f"discriminator_loss{label}"] = gan.discriminator_loss(real, fake)
        out[f"generator_loss{label}"] = gan.generator_loss(fake)
        out[f"generator_loss_minimax{label}"] = gan.generator_loss_minimax(fake)
    real, fake = torch.empty(5, 1, device="meta"), torch.empty(7, 1, device="meta")
    out["discriminator_loss_meta"] = meta_result(lambda: gan.discriminator_loss(real, fake))
    out["generator_loss_meta"] = meta_result(lambda: gan.generator_loss(fake))
    out["generator_loss_minimax_meta"] = meta_result(lambda: gan.generator_loss_minimax(fake))
    return out


def _gradient_inputs(rng):
    """Fake logits a confident discriminator gives early in training: clearly negative, not near 0."""
    return {"fake": rng.uniform(-12.0, -6.0, size=(32, 1)).astype(np.float32)}


@PROBES.probe(inputs=_gradient_inputs)
def gradients(gan, inputs, device):
    out = {}
    for name in ("generator_loss", "generator_loss_minimax"):
        fake = _tensor(inputs["fake"]).to(device).requires_grad_()
        loss = getattr(gan, name)(fake)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ContractError(f"{name} must return a scalar tensor; it returned {type(loss).__name__}")
        loss.reshape(()).backward()
        out[name] = fake.grad if fake.grad is not None else np.zeros(fake.shape, dtype=np.float32)
        out[f"{name}_value"] = float(loss.detach().reshape(()))
    return out


# ---------------------------------------------------------------- gan_train_step


class _Recording(SGD):
    """Plain SGD that also records, at each step(), which optimizer stepped and the generator's parameters."""

    def __init__(self, params, lr, tag, log, generator):
        super().__init__(params, lr=lr)
        self.tag, self.log, self.generator = tag, log, generator

    def step(self, closure=None):
        own = [p for group in self.param_groups for p in group["params"]]
        grads = [p.grad.detach().flatten() if p.grad is not None else torch.zeros(p.numel(), device=p.device)
                 for p in own]
        self.log.append((self.tag, [p.detach().clone() for p in self.generator.parameters()], torch.cat(grads)))
        return super().step(closure)


def _step_inputs(rng):
    return {
        "real1": rng.normal(size=(24, 2)).astype(np.float32),
        "z1": rng.normal(size=(20, 4)).astype(np.float32),  # fake batch of another size
        "real2": rng.normal(size=(24, 2)).astype(np.float32),
        "z2": rng.normal(size=(20, 4)).astype(np.float32),
        "stale": np.float32(3.0),  # gradients left over from earlier work, before the first call
    }


def _two_steps(gan, inputs, device, stale):
    from genmodels.gan import MLPGANConfig, linear_parameters, make_mlp_gan

    generator, discriminator = make_mlp_gan(MLPGANConfig(**STEP_MODEL), seed=7)
    generator, discriminator = generator.to(device), discriminator.to(device)
    log = []
    g_opt = _Recording(generator.parameters(), STEP_LR, "g", log, generator)
    d_opt = _Recording(discriminator.parameters(), STEP_LR, "d", log, generator)
    if stale:
        for p in [*generator.parameters(), *discriminator.parameters()]:
            p.grad = torch.full_like(p, float(inputs["stale"]))
    out, returned = {}, []
    for call in (1, 2):
        real = _tensor(inputs[f"real{call}"]).to(device)
        z = _tensor(inputs[f"z{call}"]).to(device)
        d_loss, g_loss = unpack(gan.gan_train_step(generator, discriminator, g_opt, d_opt, real, z),
                                ("d_loss", "g_loss"), "gan_train_step")
        returned += [d_loss, g_loss]
        out[f"d_loss{call}"], out[f"g_loss{call}"] = d_loss, g_loss
    out["generator"] = linear_parameters(generator)
    out["discriminator"] = linear_parameters(discriminator)
    out["step_order"] = "".join(tag for tag, _, _ in log)[:20]
    out["step_grads"] = [grads.cpu() for _, _, grads in log[:8]]  # what each optimizer step applied, in order
    # the generator as the first generator step found it: the D step before it must not have moved it
    first_g = next((params for tag, params, _ in log if tag == "g"), None)
    out["generator_before_g_step"] = [p.cpu() for p in first_g] if first_g else None
    return out


def _fresh_and_stale(gan, inputs, device):
    """Two calls from clean gradients, and the same two calls with a stale .grad on every parameter."""
    out = _two_steps(gan, inputs, device, stale=False)
    stale = _two_steps(gan, inputs, device, stale=True)
    out["stale_generator"], out["stale_discriminator"] = stale["generator"], stale["discriminator"]
    out["stale_step_grads"] = stale["step_grads"]  # which update a stale .grad reached first
    return out


@PROBES.probe(inputs=_step_inputs, stand_ins=GIVEN_LOSSES["given_losses"])
def train_step(gan, inputs, device):
    """Two calls of the student's step: with the student's losses, and with stand-in losses (see STEP_RUNS)."""
    return given_stand_ins(gan, inputs, STEP_RUNS, lambda: _fresh_and_stale(gan, inputs, device), STAND_INS)


# ---------------------------------------------------------------- training smoke test


def _train_on_ring(gan, device):
    from genmodels.data import ring_of_gaussians
    from genmodels.gan import SMOKE, linear_parameters, train_gan

    torch.manual_seed(SMOKE_SEED)
    data = ring_of_gaussians(SMOKE.n_data, std=SMOKE.ring_std, seed=SMOKE_SEED)
    generator, _, _ = train_gan(gan.gan_train_step, data, SMOKE.model, SMOKE.train, seed=SMOKE_SEED,
                                device=device)
    return {"generator": linear_parameters(generator)}


def _loss_trials(device):
    """Arguments on which the student's losses are compared with the reference's before training again."""

    def logits(n):
        return lambda: ((torch.randn(n, 1) * 4).to(device).requires_grad_(),)

    return {"discriminator_loss": lambda: logits(6)() + logits(9)(), "generator_loss": logits(9)}


@PROBES.probe(time_s=150, reference=False, stand_ins=GIVEN_LOSSES["given_losses"], trials=_loss_trials)
def smoke_ring(gan, inputs, device):
    """Train the course GAN on the ring of 8 Gaussians with the student's step (and again with stand-in
    losses in place of those that behave differently from the reference's); return the generators."""
    if device == "cpu":
        torch.set_num_threads(1)  # a tiny MLP gains nothing from threads; on a busy CPU they only contend
    runs = {"": (), "given_losses": GIVEN_LOSSES["given_losses"]}
    return given_stand_ins(gan, inputs, runs, lambda: _train_on_ring(gan, device), STAND_INS,
                           trials=_loss_trials(device))

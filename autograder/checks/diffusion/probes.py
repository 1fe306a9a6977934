"""Probes of the diffusion exercise: they call the student's diffusion.py on fixed inputs. No answers here.

The loss and the sampler are probed with small models defined here, whose outputs the
judge can recompute: each records the (x_t, t) it was called with, so the trusted side
sees which steps the student's code drew, which noisy inputs it built and what it did
with the model's output.
"""

import numpy as np
import torch
from torch import nn

from autograder.sandboxed.probekit import ProbeSet, meta_result

KIT_PACKAGES = ["genmodels"]  # the course denoiser, the exact mixture denoiser and the ring data

PROBES = ProbeSet(warm_imports=("torch.fx.experimental.symbolic_shapes",))  # what meta kernels import (sympy)

T_SMALL = 8  # steps of the schedule in the value probes: large betas, so that neighbouring steps differ clearly
BETAS_SMALL = (0.05, 0.4)
LOSS_CALLS, LOSS_BATCH = 300, 32  # 9,600 draws of t: every step about 1,200 times
STEP_ROWS = 4000  # identical rows of x_t for the moments of one sampler step
SAMPLE_T, SAMPLE_BETAS, SAMPLE_N = 6, (0.05, 0.3), 20000


def small_betas(T=T_SMALL, bounds=BETAS_SMALL):
    return np.linspace(bounds[0], bounds[1], T)


def model_output(x, t, params):
    """The probe model's noise prediction: tanh(x) * scale + offset[t], broadcast over the non-batch dims."""
    offset = params["offset"][t].reshape(-1, *([1] * (x.dim() - 1)))  # (B, 1, ...)
    return torch.tanh(x) * params["scale"] + offset


class RecordingModel(nn.Module):
    """eps(x, t) = tanh(x) * scale + offset[t]; remembers every (x, t) it is called with."""

    def __init__(self, scale, offset):
        super().__init__()
        self.scale = nn.Parameter(torch.as_tensor(float(scale), dtype=torch.float64))
        self.offset = nn.Parameter(torch.as_tensor(np.asarray(offset), dtype=torch.float64))  # (T,)
        self.calls = []  # (x, t) as given

    def forward(self, x, t):
        self.calls.append((x.detach().clone(), t.detach().clone() if isinstance(t, torch.Tensor) else t))
        index = torch.as_tensor(t, device=x.device).long().reshape(-1).expand(x.shape[0])
        index = index.clamp(0, self.offset.shape[0] - 1)  # a step out of range is judged from the record, not crashed on
        return model_output(x, index, {"scale": self.scale, "offset": self.offset})


def _t_report(calls):
    """What the model was given as t: its type, dtype and shape in the first call."""
    t = calls[0][1] if calls else None
    if isinstance(t, torch.Tensor):
        return {"t_type": "tensor", "t_dtype": str(t.dtype), "t_shape": list(t.shape)}
    return {"t_type": type(t).__name__, "t_dtype": "", "t_shape": []}


def _model_inputs(rng, T=T_SMALL):
    return {"scale": rng.uniform(0.5, 1.0), "offset": rng.normal(scale=0.3, size=T)}


def _model(inputs, device):
    return RecordingModel(inputs["scale"], inputs["offset"]).to(device)


# ---------------------------------------------------------------- linear_beta_schedule


@PROBES.probe()
def schedule(diffusion, inputs, device):
    return {
        "default": diffusion.linear_beta_schedule(10),
        "custom": diffusion.linear_beta_schedule(7, beta_start=0.001, beta_end=0.05),
        "ddpm": diffusion.linear_beta_schedule(1000),
    }


# ---------------------------------------------------------------- q_sample


def _q_inputs(rng):
    alphas_cumprod = np.cumprod(1 - small_betas())
    return {
        "alphas_cumprod": alphas_cumprod,
        "x0": rng.normal(size=(6, 3)), "t": np.array([0, 7, 3, 5, 1, 3]), "noise": rng.normal(size=(6, 3)),
        "x0_image": rng.normal(size=(5, 1, 4, 4)), "t_image": np.array([2, 0, 7, 6, 4]),
        "noise_image": rng.normal(size=(5, 1, 4, 4)),
        "x0_moments": rng.normal(size=(4, 2)), "t_moments": np.array([0, 2, 5, 7]),
    }


def _long(array, device):
    return torch.as_tensor(np.asarray(array), dtype=torch.long, device=device)


def _float(array, device, dtype=torch.float64):
    return torch.as_tensor(np.asarray(array), dtype=dtype, device=device)


@PROBES.probe(inputs=_q_inputs)
def q_sample(diffusion, inputs, device):
    """Values with the given noise (points and images); moments over 4,000 fresh draws for four steps."""
    torch.manual_seed(0)
    alphas_cumprod = _float(inputs["alphas_cumprod"], device)
    out = {}
    for label in ("", "_image"):
        out[f"x_t{label}"] = diffusion.q_sample(_float(inputs[f"x0{label}"], device), _long(inputs[f"t{label}"], device),
                                                _float(inputs[f"noise{label}"], device), alphas_cumprod)
    rows = STEP_ROWS
    x0 = _float(inputs["x0_moments"], device).repeat(rows, 1)  # (4 * rows, 2): each example `rows` times
    t = _long(inputs["t_moments"], device).repeat(rows)
    out["x_t_moments"] = diffusion.q_sample(x0, t, torch.randn_like(x0), alphas_cumprod)
    return out


# ---------------------------------------------------------------- ddpm_loss


def _loss_inputs(rng):
    return {
        "alphas_cumprod": np.cumprod(1 - small_betas()), **_model_inputs(rng),
        "x0": rng.normal(size=(LOSS_BATCH, 2)), "x0_image": rng.normal(size=(4, 1, 3, 3)),
    }


@PROBES.probe(inputs=_loss_inputs, time_s=60)
def loss(diffusion, inputs, device):
    """LOSS_CALLS calls on the same batch: each loss, the (x_t, t) the model saw, the first loss's gradients.

    `base` and `unit` are the student's own q_sample at the steps drawn, with noise 0 and with x0 = 0,
    noise = 1: the judge uses them to credit a loss that is consistent with the student's q_sample.
    """
    torch.manual_seed(0)
    alphas_cumprod = _float(inputs["alphas_cumprod"], device)
    model = _model(inputs, device)
    x0 = _float(inputs["x0"], device)
    losses = []
    for call in range(LOSS_CALLS):
        value = diffusion.ddpm_loss(model, x0, alphas_cumprod)
        if call == 0:
            out = {"loss_type": type(value).__name__, "loss_shape": list(getattr(value, "shape", [])),
                   "differentiable": bool(getattr(value, "requires_grad", False))}
            if out["differentiable"] and getattr(value, "numel", lambda: 0)() == 1:
                value.reshape(()).backward()
                out["grad_scale"], out["grad_offset"] = model.scale.grad, model.offset.grad
        losses.append(float(value.detach().reshape(-1)[0]) if isinstance(value, torch.Tensor) else value)
    calls = model.calls
    out.update(_t_report(calls))
    out["calls"] = len(calls)
    out["losses"] = losses
    if len(calls) == LOSS_CALLS and all(c[0].shape == x0.shape for c in calls):
        out["x_t"] = torch.stack([c[0] for c in calls])  # (calls, B, D)
        t_all = torch.stack([torch.as_tensor(c[1], device=device).reshape(-1).expand(x0.shape[0]) for c in calls])
        out["t"] = t_all  # (calls, B)
        flat_t = t_all.reshape(-1).long().clamp(0, alphas_cumprod.shape[0] - 1)
        flat_x0 = x0.repeat(LOSS_CALLS, 1)
        with torch.no_grad():
            out["base"] = diffusion.q_sample(flat_x0, flat_t, torch.zeros_like(flat_x0), alphas_cumprod)
            out["unit"] = diffusion.q_sample(torch.zeros_like(flat_x0), flat_t, torch.ones_like(flat_x0), alphas_cumprod)
    return out


@PROBES.probe(inputs=_loss_inputs)
def loss_image(diffusion, inputs, device):
    """One call on image-shaped x0 (B, C, H, W): the loss and what the model was given."""
    torch.manual_seed(1)
    model = _model(inputs, device)
    value = diffusion.ddpm_loss(model, _float(inputs["x0_image"], device), _float(inputs["alphas_cumprod"], device))
    x_t, t = model.calls[0] if model.calls else (None, None)
    return {"loss": value, "calls": len(model.calls), "x_t": x_t, "t": t}


# ---------------------------------------------------------------- p_sample_step


def _step_inputs(rng):
    return {
        "betas": small_betas(), **_model_inputs(rng),
        "x": rng.normal(size=(6, 3)), "noise": rng.normal(size=(6, 3)),
        "x_image": rng.normal(size=(4, 1, 3, 3)), "noise_image": rng.normal(size=(4, 1, 3, 3)),
        "x_moments": rng.normal(size=(2, 2)),
    }


STEP_CASES = (("mid", "", 5), ("last", "", 0), ("first", "", T_SMALL - 1), ("image", "_image", 3))


@PROBES.probe(inputs=_step_inputs)
def step(diffusion, inputs, device):
    """Steps with given noise at t = 5, 0, T - 1 (points) and 3 (images); fresh noise at t = 4 and t = 0."""
    torch.manual_seed(0)
    betas = _float(inputs["betas"], device)
    out = {}
    for label, suffix, t in STEP_CASES:
        model = _model(inputs, device)
        with torch.no_grad():
            out[label] = diffusion.p_sample_step(model, _float(inputs[f"x{suffix}"], device), t, betas,
                                                 noise=_float(inputs[f"noise{suffix}"], device))
        if label == "mid":
            out.update(_t_report(model.calls))
            out["t_given"] = model.calls[0][1] if model.calls else None
            with torch.no_grad():  # the same call again: the same result when the given noise is what is used
                out["mid_again"] = diffusion.p_sample_step(_model(inputs, device), _float(inputs["x"], device), t, betas,
                                                           noise=_float(inputs["noise"], device))
        if label == "last":  # the same step with zero noise: equal to the above when nothing is added at t = 0
            with torch.no_grad():
                out["last_zero_noise"] = diffusion.p_sample_step(_model(inputs, device), _float(inputs["x"], device), 0,
                                                                 betas, noise=torch.zeros(6, 3, dtype=torch.float64,
                                                                                          device=device))
    x = _float(inputs["x_moments"], device).repeat(STEP_ROWS, 1)  # (2 * rows, 2): each row repeated
    with torch.no_grad():
        out["fresh"] = diffusion.p_sample_step(_model(inputs, device), x, 4, betas)
        out["fresh_last"] = diffusion.p_sample_step(_model(inputs, device), x[:8], 0, betas)
    return out


# ---------------------------------------------------------------- ddpm_sample


class LinearModel(nn.Module):
    """eps(x, t) = coef[t] * x: every step of the sampler is then linear-Gaussian, with a known result."""

    def __init__(self, coef):
        super().__init__()
        self.register_buffer("coef", torch.as_tensor(np.asarray(coef), dtype=torch.float32))
        self.steps = []  # the step index of every call (from the first example)

    def forward(self, x, t):
        index = torch.as_tensor(t, device=x.device).long().reshape(-1).expand(x.shape[0])
        self.steps.append(int(index[0]))
        return self.coef[index].reshape(-1, *([1] * (x.dim() - 1))) * x


def _sample_inputs(rng):
    return {"betas": small_betas(SAMPLE_T, SAMPLE_BETAS), "coef": rng.uniform(-0.5, 0.5, size=SAMPLE_T)}


@PROBES.probe(inputs=_sample_inputs)
def sample(diffusion, inputs, device):
    """Samples of a chain with a linear model (20,000 points in 2-D), the steps it used, and an image shape."""
    torch.manual_seed(0)
    betas = _float(inputs["betas"], device, torch.float32)
    model = LinearModel(inputs["coef"]).to(device)
    samples = diffusion.ddpm_sample(model, SAMPLE_N, (2,), betas)
    small_model = LinearModel(inputs["coef"]).to(device)
    images = diffusion.ddpm_sample(small_model, 3, (1, 2, 2), betas)
    again = diffusion.ddpm_sample(LinearModel(inputs["coef"]).to(device), 3, (1, 2, 2), betas)
    # The student's own step with this model is x -> k_t x + sigma_t noise: measure k_t and sigma_t, so that the
    # judge can credit a sampler that chains a wrong step correctly (the step has checks of its own).
    own_scale, own_sigma = [], []
    with torch.no_grad():
        for t in range(len(betas)):
            ones = torch.ones(1, 2, device=device)
            own_scale.append(diffusion.p_sample_step(model, ones, t, betas, noise=torch.zeros_like(ones)))
            own_sigma.append(diffusion.p_sample_step(model, torch.zeros_like(ones), t, betas, noise=ones))
    return {"samples": samples, "steps": small_model.steps[:50], "images": images, "again": again,
            "own_scale": own_scale, "own_sigma": own_sigma}


# ---------------------------------------------------------------- devices


@PROBES.probe(inputs=_step_inputs)
def devices(diffusion, inputs, device):
    """Every function with its tensors and model on PyTorch's meta device: a tensor created on the CPU inside them
    (torch.randn(x.shape), torch.zeros(n) without device=) fails there as it would on a GPU. The sampler's step
    draws its own noise (noise=None), where such tensors are made."""
    meta = torch.device("meta")
    betas = torch.empty(T_SMALL, dtype=torch.float64, device=meta)
    x = torch.empty(6, 3, dtype=torch.float64, device=meta)
    t = torch.zeros(6, dtype=torch.long, device=meta)

    models = {}

    def model(function):
        models[function] = _model(inputs, meta)
        return models[function]

    out = {
        "q_sample_meta": meta_result(lambda: diffusion.q_sample(x, t, torch.empty_like(x), betas)),
        "ddpm_loss_meta": meta_result(lambda: diffusion.ddpm_loss(model("ddpm_loss"), x, betas)),
        "p_sample_step_meta": meta_result(lambda: diffusion.p_sample_step(model("p_sample_step"), x, 3, betas)),
        "ddpm_sample_meta": meta_result(lambda: diffusion.ddpm_sample(model("ddpm_sample"), 2, (3,), betas)),
    }
    for function, recorded in models.items():  # the device of the t the model was given (a lenient model accepts any)
        steps = [call[1] for call in recorded.calls]
        out[f"{function}_t_device"] = ",".join(sorted({str(step.device) for step in steps if hasattr(step, "device")}))
    return out


# ---------------------------------------------------------------- smoke tests on the ring of 8 Gaussians


def _smoke_inputs(rng):
    from genmodels.diffusion import SMOKE, cosine_beta_schedule

    return {"betas": cosine_beta_schedule(SMOKE.steps)}


@PROBES.probe(inputs=_smoke_inputs, reference=False, time_s=90)
def train(diffusion, inputs, device):
    """Train the course denoiser on the ring with the student's ddpm_loss; return its weights."""
    from genmodels.data import ring_of_gaussians
    from genmodels.diffusion import SMOKE, new_model, train_denoiser
    from genmodels.weights import linear_parameters

    if device == "cpu":
        torch.set_num_threads(1)  # a tiny MLP gains nothing from threads; on a busy CPU they only contend
    alphas_cumprod = torch.cumprod(1 - torch.as_tensor(inputs["betas"], dtype=torch.float32), dim=0)
    data = ring_of_gaussians(SMOKE.n_data, std=SMOKE.ring_std, seed=0)
    model = train_denoiser(new_model(SMOKE.model, seed=SMOKE.train.seed), data, diffusion.ddpm_loss, alphas_cumprod,
                           SMOKE.train, device=device)
    return {"weights": linear_parameters(model)}


@PROBES.probe(inputs=_smoke_inputs, reference=False, time_s=60)
def sample_ring(diffusion, inputs, device):
    """The student's ddpm_sample with the exact noise predictor of the ring: 2,000 samples."""
    from genmodels.data import ring_centres
    from genmodels.diffusion import SMOKE, MixtureDenoiser

    if device == "cpu":
        torch.set_num_threads(1)
    betas = torch.as_tensor(inputs["betas"], dtype=torch.float32, device=device)
    alphas_cumprod = np.cumprod(1 - np.asarray(inputs["betas"]))
    model = MixtureDenoiser(ring_centres(), SMOKE.ring_std, alphas_cumprod).to(device)
    torch.manual_seed(SMOKE.sample_seed)
    return {"samples": diffusion.ddpm_sample(model, SMOKE.n_samples, (2,), betas)}

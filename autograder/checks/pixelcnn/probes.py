"""Probes of the PixelCNN exercise: they call the student's pixelcnn.py on fixed inputs. No answers here.

Layers are read by behaviour: `layer.weight` (the effective weight under
torch.nn.utils.parametrize, the raw one otherwise) only ever goes through the
reference mask on the trusted side, and the smoke test reads each trained
layer's effective kernel by feeding it impulses (genmodels.pixelcnn).
"""

import functools
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from autograder.sandboxed.probekit import (ContractError, ProbeSet, behaves_as_expected, given_stand_ins, meta_result,
                                         placement_judged)

KIT_PACKAGES = ["genmodels"]  # the smoke test's model definition and training loop

PROBES = ProbeSet(warm_imports=("torch.fx.experimental.symbolic_shapes",))  # what meta kernels import (sympy)

KERNEL_SIZES = (1, 3, 5, 7)
# (in_channels, out_channels, kernel_size, mask_type, extra conv kwargs)
CONV_CASES = ((1, 3, 3, "A", {}), (2, 4, 5, "B", {}), (3, 2, 3, "B", {"bias": False}), (1, 2, 7, "A", {}))
CHAIN_SHAPE = (1, 4, 5)  # (C, H, W) for the deterministic sampling model
SAMPLE_SHAPE = (1, 6, 6)
SAMPLE_LOGIT = float(np.log(3.0))  # p = 0.75 for every pixel
# MaskedConv2d is judged on its own: again with a stand-in causal_mask in place of the student's, so that a
# wrong mask costs points in the mask check, not again in every check of the layer built from it.
GIVEN_MASK = {"given_mask": ("causal_mask",)}
LAYER_RUNS = {"": (), **GIVEN_MASK}


def _up_left_mask(kernel_size, mask_type):
    """Stand-in for causal_mask (not its answer): causal too, but it keeps only the up-left quadrant of the rows
    above (columns up to the centre's), the centre row left of the centre, and the centre for type 'B'."""
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    centre = kernel_size // 2
    mask = torch.zeros(kernel_size, kernel_size)
    mask[: centre + 1, : centre + 1] = 1.0
    mask[centre, centre] = 1.0 if mask_type == "B" else 0.0
    return mask


STAND_INS = {"causal_mask": _up_left_mask}


def _mask_trials(device="cpu"):
    return {"causal_mask": [lambda k=k, t=t: (k, t) for k in (3, 5, 7) for t in ("A", "B")]}


def _mask_as_reference(pixelcnn, inputs) -> bool:
    """Whether the student's causal_mask returns the reference's masks on the trials (values the trusted side sent):
    then a layer check judges the layer as it is, never "given your causal_mask"."""
    own = getattr(pixelcnn, "causal_mask", None)
    return all(behaves_as_expected(own, inputs, "causal_mask", call, make)
               for call, make in enumerate(_mask_trials()["causal_mask"]))


@contextmanager
def one_thread(device):
    """One CPU thread and exact float32 convolutions on a GPU (no TF32), both restored afterwards.

    These tensors are tiny: a second thread that spins waiting for a busy core makes a probe many
    times slower, never faster. TF32 would put 1e-3 relative errors into outputs judged at 1e-4.
    """
    previous = torch.get_num_threads(), torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    if not str(device).startswith("cuda"):
        torch.set_num_threads(1)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.set_num_threads(previous[0])
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = previous[1:]


def probe(**kwargs):
    """PROBES.probe, with the probe run inside one_thread(device)."""

    def register(run):
        @functools.wraps(run)
        def on_one_thread(module, inputs, device):
            with one_thread(device):
                return run(module, inputs, device)

        return PROBES.probe(**kwargs)(on_one_thread)

    return register


def _tensor(value, name):
    if not isinstance(value, torch.Tensor):
        raise ContractError(f"{name} must return a torch.Tensor; it returned {type(value).__name__}")
    return value


@probe()
def masks(pixelcnn, inputs, device):
    out = {}
    for k in KERNEL_SIZES:
        for mask_type in ("A", "B"):
            out[f"{mask_type}{k}"] = _tensor(pixelcnn.causal_mask(k, mask_type), "causal_mask")
    return out


@probe()
def bad_mask_type(pixelcnn, inputs, device):
    """Which exception causal_mask raises for a type other than 'A'/'B' ("" when none)."""
    pixelcnn.causal_mask(3, "B")  # a stub raises NotImplementedError here, not a verdict on bad types
    try:
        pixelcnn.causal_mask(3, "C")
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - which exception is the point
        return {"raised": type(exc).__name__, "is_value_error": isinstance(exc, ValueError)}
    return {"raised": "", "is_value_error": False}


def _conv_inputs(rng):
    return {f"x{i}": rng.normal(size=(2, c_in, 9, 10)).astype(np.float32)
            for i, (c_in, *_rest) in enumerate(CONV_CASES)}


@probe(inputs=_conv_inputs, stand_ins=("causal_mask",), trials=_mask_trials)
def conv_output(pixelcnn, inputs, device):
    return given_stand_ins(pixelcnn, inputs, LAYER_RUNS, lambda: _conv_output(pixelcnn, inputs, device), STAND_INS) | {
        "mask_as_reference": _mask_as_reference(pixelcnn, inputs)}


def _conv_output(pixelcnn, inputs, device):
    out = {}
    for i, (c_in, c_out, k, mask_type, kwargs) in enumerate(CONV_CASES):
        torch.manual_seed(i)
        layer = pixelcnn.MaskedConv2d(c_in, c_out, k, mask_type, **kwargs).to(device)
        if not isinstance(layer, nn.Conv2d):
            raise ContractError("MaskedConv2d must be a subclass of torch.nn.Conv2d")
        x = torch.as_tensor(inputs[f"x{i}"], device=device)
        with torch.no_grad():
            out[f"y{i}"] = _tensor(layer(x), "MaskedConv2d.forward")
            out[f"weight{i}"] = layer.weight.detach()
            out[f"bias{i}"] = None if layer.bias is None else layer.bias.detach()
    return out


class _Stack(nn.Module):
    """Type A 5x5, then two type-B 3x3 layers and a residual skip; tanh keeps every path alive."""

    def __init__(self, masked_conv):
        super().__init__()
        self.a = masked_conv(1, 4, 5, "A")
        self.b1 = masked_conv(4, 4, 3, "B")
        self.b2 = masked_conv(4, 1, 3, "B")

    def forward(self, x):
        h = torch.tanh(self.a(x))  # (B, 4, H, W)
        h = h + torch.tanh(self.b1(h))
        return self.b2(h)  # (B, 1, H, W)


def _dependencies(stack, x):
    """(H*W, H*W) |d out[p] / d x[q]| for raster indices p (output) and q (input).

    One backward pass: image copy p of a batch of H*W copies carries the gradient of output pixel p.
    """
    P = x[0, 0].numel()
    copies = x.expand(P, *x.shape[1:]).clone().requires_grad_(True)  # (P, 1, H, W)
    y = stack(copies)
    if not isinstance(y, torch.Tensor) or y.shape != copies.shape:
        raise ContractError(f"a stack of MaskedConv2d layers should keep the shape {tuple(copies.shape)}; "
                            f"got {tuple(getattr(y, 'shape', ()))} (is padding kernel_size // 2?)")
    picked = y.reshape(P, P)[torch.arange(P), torch.arange(P)]  # output pixel p of copy p
    (grad,) = torch.autograd.grad(picked.sum(), copies)
    return grad.abs().reshape(P, P).detach()


def _causality_inputs(rng):
    return {"x": rng.normal(size=(1, 1, 6, 6)).astype(np.float32),
            "target": rng.normal(size=(4, 1, 6, 6)).astype(np.float32),
            "batch": rng.normal(size=(4, 1, 6, 6)).astype(np.float32)}


@probe(inputs=_causality_inputs, stand_ins=("causal_mask",), trials=_mask_trials)
def causality(pixelcnn, inputs, device):
    """Dependencies of every output pixel on every input pixel, before and after 5 gradient steps."""
    return given_stand_ins(pixelcnn, inputs, LAYER_RUNS, lambda: _causality(pixelcnn, inputs, device), STAND_INS) | {
        "mask_as_reference": _mask_as_reference(pixelcnn, inputs)}


def _causality(pixelcnn, inputs, device):
    torch.manual_seed(0)
    stack = _Stack(pixelcnn.MaskedConv2d).to(device)
    x = torch.as_tensor(inputs["x"], device=device)
    before = _dependencies(stack, x)
    batch = torch.as_tensor(inputs["batch"], device=device)
    target = torch.as_tensor(inputs["target"], device=device)
    parameters = [p for p in stack.parameters() if p.requires_grad]
    for _ in range(5):  # plain gradient steps (torch.optim's first use costs ~2 s of imports)
        loss = ((stack(batch) - target) ** 2).mean()
        grads = torch.autograd.grad(loss, parameters, allow_unused=True)
        with torch.no_grad():
            for p, g in zip(parameters, grads):
                if g is not None:
                    p -= 0.5 * g
    return {"before": before, "after": _dependencies(stack, x)}


def _nll_inputs(rng):
    inputs = {}
    for label, shape in (("gray", (4, 1, 5, 6)), ("rgb", (5, 3, 4, 4))):  # B, C, H, W all differ: a factor names its axis
        inputs[f"{label}_logits"] = (3.0 * rng.normal(size=shape)).astype(np.float32)
        inputs[f"{label}_x"] = (rng.random(size=shape) < 0.4).astype(np.float32)
    x = (rng.random(size=(2, 1, 4, 4)) < 0.5).astype(np.float32)
    agree = rng.random(size=x.shape) < 0.5  # half the pixels confidently right, half confidently wrong
    inputs["extreme_x"] = x
    inputs["extreme_logits"] = np.where(agree == (x > 0), 100.0, -100.0).astype(np.float32)
    return inputs


@probe(inputs=_nll_inputs)
def nll(pixelcnn, inputs, device):
    out = {}
    for label in ("gray", "rgb", "extreme"):
        logits = torch.as_tensor(inputs[f"{label}_logits"], device=device).requires_grad_(True)
        x = torch.as_tensor(inputs[f"{label}_x"], device=device)
        value = _tensor(pixelcnn.nll_bits_per_dim(logits, x), "nll_bits_per_dim")
        if value.numel() != 1:
            raise ContractError(f"nll_bits_per_dim must return a scalar; it returned shape {tuple(value.shape)}")
        out[label] = value.detach().reshape(())
        out[f"{label}_differentiable"] = bool(value.requires_grad)
    return out


class ChainModel(nn.Module):
    """Deterministic: pixel p is 1 exactly when the two pixels before it in raster order are equal (before the
    first pixel count as 0), so raster-order sampling gives 1, 0, 0, 1, 0, 0, ..."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(100.0))  # sample() finds the device from a parameter

    def forward(self, x):
        flat = x.flatten(2)  # (n, C, H*W)
        padded = torch.cat([torch.zeros_like(flat[..., :2]), flat], dim=-1)
        equal = (padded[..., 1:-1] == padded[..., :-2]).to(x.dtype)  # pixels p-1 and p-2 agree
        return (self.scale * (2.0 * equal - 1.0)).reshape(x.shape)  # +100 when they agree, -100 otherwise


class ConstantModel(nn.Module):
    def __init__(self, logit):
        super().__init__()
        self.logit = nn.Parameter(torch.tensor(logit))

    def forward(self, x):
        return self.logit.expand_as(x)


@probe()
def sample_chain(pixelcnn, inputs, device):
    torch.manual_seed(0)
    with torch.no_grad():
        images = pixelcnn.sample(ChainModel().to(device), 3, CHAIN_SHAPE)
    return {"images": _tensor(images, "sample")}


@probe()
def sample_stats(pixelcnn, inputs, device):
    torch.manual_seed(0)
    with torch.no_grad():
        images = pixelcnn.sample(ConstantModel(SAMPLE_LOGIT).to(device), 100, SAMPLE_SHAPE)
    return {"images": _tensor(images, "sample")}


@probe()
def devices(pixelcnn, inputs, device):
    """The layer, the loss and sampling with everything on PyTorch's meta device: a tensor created on the CPU
    inside them fails there as it would on a GPU."""
    meta = torch.device("meta")
    x = torch.empty(2, 1, 5, 5, device=meta)
    return {
        "MaskedConv2d_meta": meta_result(lambda: pixelcnn.MaskedConv2d(1, 2, 3, "A").to(meta)(x)),
        "nll_bits_per_dim_meta": meta_result(lambda: pixelcnn.nll_bits_per_dim(x, x)),
        "sample_meta": meta_result(lambda: pixelcnn.sample(ConstantModel(SAMPLE_LOGIT).to(meta), 2, (1, 3, 3))),
        "sample_device_argument": _devices_seen(pixelcnn, meta),
    }


class _Witness(nn.Module):
    """A model whose parameter stays on the CPU: it records the device of every input it is given."""

    def __init__(self):
        super().__init__()
        self.logit = nn.Parameter(torch.tensor(SAMPLE_LOGIT))
        self.seen = set()

    def forward(self, x):
        self.seen.add(x.device.type)
        return self.logit.to(x.device).expand_as(x)


def _devices_seen(pixelcnn, device):
    """sample(model, ..., device=device) with the model's parameter on the CPU: the images must be made on `device`."""
    if not placement_judged():
        return device.type  # the reference's placement (as meta_result's)
    witness = _Witness()
    try:
        with torch.no_grad():
            pixelcnn.sample(witness, 2, (1, 2, 2), device=device)
    except NotImplementedError as exc:
        if not str(exc):
            raise
    except Exception:  # noqa: BLE001 - reading values off the meta device may fail afterwards; the devices seen count
        pass
    return ",".join(sorted(witness.seen)) or "none"


def _smoke_inputs(rng):
    from genmodels.data import digits

    return {"train": digits().train.astype(np.uint8)}  # (1438, 1, 8, 8) in {0, 1}


@probe(inputs=_smoke_inputs, time_s=60, reference=False, stand_ins=("causal_mask",), trials=_mask_trials)
def smoke(pixelcnn, inputs, device):
    """Train the course's PixelCNN built from the student's MaskedConv2d (and again with a stand-in causal_mask
    in it, when the student's masks differ from the reference's); return its effective weights."""
    from genmodels import pixelcnn as course_pixelcnn

    images = inputs["train"].astype(np.float32)

    def train():
        smoke = course_pixelcnn.SMOKE
        model = course_pixelcnn.build_and_train(pixelcnn.MaskedConv2d, images, smoke.model, smoke.train, device=device)
        return course_pixelcnn.effective_weights(model)

    return given_stand_ins(pixelcnn, inputs, LAYER_RUNS, train, STAND_INS, trials=_mask_trials(device))

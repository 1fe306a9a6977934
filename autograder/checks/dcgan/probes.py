"""Probes of the DCGAN exercise: build the student's Generator and Discriminator, report shapes and layout."""

import numpy as np
import torch

from autograder.sandboxed.probekit import ContractError, ProbeSet, given_stand_ins

PROBES = ProbeSet()

CONV_TYPES = ("Conv2d", "ConvTranspose2d")
# What a forward pass calls, by the functional's name (a module's forward calls the same functional, so
# `nn.LeakyReLU(0.2)` and `F.leaky_relu(h, 0.2)` in forward look alike), as the layer type it stands for.
TRACED_OPS = {"conv2d": "Conv2d", "conv_transpose2d": "ConvTranspose2d", "batch_norm": "BatchNorm2d",
              "relu": "ReLU", "relu_": "ReLU", "leaky_relu": "LeakyReLU", "leaky_relu_": "LeakyReLU",
              "tanh": "Tanh", "tanh_": "Tanh", "sigmoid": "Sigmoid", "sigmoid_": "Sigmoid", "linear": "Linear",
              "max_pool2d": "MaxPool2d", "avg_pool2d": "AvgPool2d", "adaptive_avg_pool2d": "AdaptiveAvgPool2d",
              "adaptive_max_pool2d": "AdaptiveMaxPool2d", "elu": "ELU", "gelu": "GELU", "silu": "SiLU"}


class _OpTrace(torch.overrides.TorchFunctionMode):
    """Records the layer-like operations a forward pass calls, in order, and each leaky ReLU's slope."""

    def __init__(self):
        super().__init__()
        self.ops, self.slopes = [], []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        kind = TRACED_OPS.get(getattr(func, "__name__", ""))
        if kind is not None and len(self.ops) < 1000:
            self.ops.append(kind)
            if kind == "LeakyReLU":
                slope = args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01)
                self.slopes.append(float(slope))
        return func(*args, **kwargs)


def _trace(model, x):
    """(ops, leaky ReLU slopes) of one forward pass of `model` on `x`, or ([], []) if it fails (other checks say why)."""
    trace = _OpTrace()
    try:
        with torch.no_grad(), trace:
            model(x)
    except Exception:  # noqa: BLE001 - a broken forward is the shape checks' to report
        return [], []
    return trace.ops, trace.slopes


def _layout(model):
    """Leaf modules in registration order, as plain data: type name, stride, LeakyReLU slopes, parameter shapes."""
    types, strides, shapes, slopes = [], [], [], []
    for module in model.modules():
        if list(module.children()):
            continue
        types.append(type(module).__name__)
        stride = getattr(module, "stride", None)
        strides.append(int(stride[0]) if isinstance(stride, tuple) else -1)
        if isinstance(module, torch.nn.LeakyReLU):
            slopes.append(float(module.negative_slope))
    for parameter in model.parameters():
        shapes.append(list(parameter.shape))
    return {"types": types, "strides": strides, "slopes": slopes, "shapes": [str(s) for s in shapes]}


def _shape_inputs(rng):
    return {"z": rng.normal(size=(5, 32)).astype(np.float32), "z16": rng.normal(size=(3, 16)).astype(np.float32),
            "x": rng.uniform(-1, 1, size=(5, 1, 8, 8)).astype(np.float32)}


@PROBES.probe(inputs=_shape_inputs)
def shapes(dcgan, inputs, device):
    torch.manual_seed(0)
    out = {}
    for label, kwargs, z in (("default", {}, inputs["z"]), ("small", {"z_dim": 16, "base_channels": 8}, inputs["z16"])):
        generator = dcgan.Generator(**kwargs).to(device).eval()
        discriminator = dcgan.Discriminator(**({"base_channels": 8} if label == "small" else {})).to(device).eval()
        with torch.no_grad():
            images = generator(torch.as_tensor(z, device=device))
            big = generator(torch.as_tensor(z * 100.0, device=device))  # Tanh keeps even extreme inputs in [-1, 1]
            logits = discriminator(torch.as_tensor(inputs["x"], device=device))
        for name, value in (("images", images), ("big", big), ("logits", logits)):
            if not isinstance(value, torch.Tensor):
                raise ContractError(f"forward must return a tensor; it returned {type(value).__name__}")
            out[f"{label}_{name}"] = value
    return out


@PROBES.probe()
def layout(dcgan, inputs, device):
    torch.manual_seed(0)
    out = {}
    for name, model in (("generator", dcgan.Generator()), ("discriminator", dcgan.Discriminator())):
        for key, value in _layout(model).items():
            out[f"{name}_{key}"] = value
    generator_ops, _ = _trace(dcgan.Generator().eval(), torch.zeros(2, 32))
    discriminator_ops, slopes = _trace(dcgan.Discriminator().eval(), torch.zeros(2, 1, 8, 8))
    out.update(generator_ops=generator_ops, discriminator_ops=discriminator_ops, discriminator_op_slopes=slopes)
    # other widths: the keyword arguments must change the layers
    out["generator_small_shapes"] = _layout(dcgan.Generator(z_dim=16, base_channels=8))["shapes"]
    out["discriminator_small_shapes"] = _layout(dcgan.Discriminator(base_channels=8))["shapes"]
    return out


INIT_GIVEN = {"given_init": ("init_weights",)}  # the models built again with a stand-in init_weights
STAND_IN_INIT = {"conv_bound": 0.1, "conv_bias": 0.1, "bn_weight": 0.5, "bn_bias": 0.25}


def _constant_init(module):
    """Stand-in for init_weights (not DCGAN's): convolution weights ~ U(-0.1, 0.1), biases 0.1; BatchNorm
    scales 0.5 and shifts 0.25."""
    if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
        torch.nn.init.uniform_(module.weight, -STAND_IN_INIT["conv_bound"], STAND_IN_INIT["conv_bound"])
        if module.bias is not None:
            torch.nn.init.constant_(module.bias, STAND_IN_INIT["conv_bias"])
    elif isinstance(module, torch.nn.BatchNorm2d):
        torch.nn.init.constant_(module.weight, STAND_IN_INIT["bn_weight"])
        torch.nn.init.constant_(module.bias, STAND_IN_INIT["bn_bias"])


STAND_INS = {"init_weights": _constant_init}


@PROBES.probe(stand_ins=("init_weights",))
def init(dcgan, inputs, device):
    """Weights right after construction (base_channels=64 for many samples), grouped by kind."""
    return given_stand_ins(dcgan, inputs, {"": (), **INIT_GIVEN}, lambda: _init(dcgan), STAND_INS)


def _init(dcgan):
    torch.manual_seed(0)
    conv_w, conv_b, bn_w, bn_b = [], [], [], []
    for model in (dcgan.Generator(base_channels=64), dcgan.Discriminator(base_channels=64)):
        for module in model.modules():
            kind = type(module).__name__
            if kind in CONV_TYPES:
                conv_w.append(module.weight.detach().flatten())
                if module.bias is not None:
                    conv_b.append(module.bias.detach().flatten())
            elif kind == "BatchNorm2d" and module.weight is not None:
                bn_w.append(module.weight.detach().flatten())
                bn_b.append(module.bias.detach().flatten())
    join = lambda parts: torch.cat(parts) if parts else torch.zeros(0)  # noqa: E731
    return {"conv_w": join(conv_w), "conv_b": join(conv_b), "bn_w": join(bn_w), "bn_b": join(bn_b)}


@PROBES.probe()
def init_fn(dcgan, inputs, device):
    """init_weights on its own, applied to fresh layers."""
    torch.manual_seed(0)
    conv, bn = torch.nn.Conv2d(64, 64, 4), torch.nn.BatchNorm2d(512)
    conv.apply(dcgan.init_weights)
    bn.apply(dcgan.init_weights)
    return {"fn_conv_w": conv.weight.detach().flatten(), "fn_conv_b": conv.bias.detach(),
            "fn_bn_w": bn.weight.detach(), "fn_bn_b": bn.bias.detach()}

"""Hidden checks of the DCGAN exercise: output shapes, the guidelines' layer layout, N(0, 0.02) initialisation."""

import numpy as np

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.dcgan.probes import INIT_GIVEN, STAND_IN_INIT
from autograder.checks.diagnostics import estimated_factor
from autograder.checks.judging import as_array, judge_given, require_finite

CHECKS = CheckSet("autograder.checks.dcgan.probes")

POOLING = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxPool1d", "AvgPool1d")
ACTIVATIONS = ("LeakyReLU", "ReLU", "Tanh", "Sigmoid", "ELU", "GELU", "SiLU")


def _shape(value):
    return tuple(np.shape(value))


@CHECKS.check("Generator: (B, z_dim) noise -> (B, 1, 8, 8) images in [-1, 1]", points=1.5, probe="shapes")
def generator_shapes(ev):
    for label, batch in (("default", 5), ("small", 3)):
        for key in ("images", "big"):
            value = as_array(ev.student[f"{label}_{key}"], "Generator output")
            if value.shape != (batch, 1, 8, 8):
                extra = " (with z_dim=16, base_channels=8)" if label == "small" else ""
                raise Mistake(f"Generator should return images of shape ({batch}, 1, 8, 8){extra}; got {value.shape}")
            require_finite(value, "Generator output")
            if value.min() < -1 - 1e-6 or value.max() > 1 + 1e-6:
                raise Mistake("Generator outputs leave [-1, 1]: end with Tanh, as the DCGAN guidelines say")
    return 1.0


@CHECKS.check("Discriminator: (B, 1, 8, 8) images -> (B,) logits", points=1.5, probe="shapes")
def discriminator_shapes(ev):
    for label in ("default", "small"):
        value = as_array(ev.student[f"{label}_logits"], "Discriminator output")
        if value.shape == (5, 1):
            raise Mistake("Discriminator returns shape (B, 1); flatten it to one logit per image, shape (B,)")
        if value.shape != (5,):
            raise Mistake(f"Discriminator should return one logit per image, shape (5,); got {value.shape}")
        require_finite(value, "Discriminator output")
    return 1.0


@CHECKS.check("Generator and Discriminator: parameter shapes follow the layer table", points=1.5, probe="layout")
def parameter_layout(ev):
    problems = []
    for name in ("generator", "discriminator"):
        shapes, expected = list(ev.student[f"{name}_shapes"] or []), list(ev.reference[f"{name}_shapes"])
        small, small_expected = list(ev.student.get(f"{name}_small_shapes") or []), \
            list(ev.reference[f"{name}_small_shapes"])
        if shapes != expected:
            problems.append(f"{name} parameters {shapes} differ from the table's {expected} "
                            "(check channel widths, kernel sizes and which convolutions have bias=False)")
        elif small != small_expected:
            problems.append(f"with {'z_dim=16, base_channels=8' if name == 'generator' else 'base_channels=8'} the "
                            f"{name}'s parameters are {small} where the table gives {small_expected}: use the "
                            "arguments z_dim and base_channels, not the default widths")
    return Verdict(1.0 - 0.5 * len(problems), "; ".join(problems))


@CHECKS.check("DCGAN guidelines: strided convolutions, no pooling, BatchNorm where it belongs, ReLU/Tanh and "
              "LeakyReLU, logits out", points=2, probe="layout")
def guidelines(ev):
    g_types, d_types = ev.student["generator_types"], ev.student["discriminator_types"]
    g_strides, d_strides = ev.student["generator_strides"], ev.student["discriminator_strides"]
    # Activations and pooling as the forward pass calls them (a module or F.leaky_relu in forward alike); the
    # modules where the forward pass could not be traced.
    g_ops = list(ev.student.get("generator_ops") or []) or list(g_types)
    d_ops = list(ev.student.get("discriminator_ops") or []) or list(d_types)
    slopes = [float(v) for v in (ev.student.get("discriminator_op_slopes") if ev.student.get("discriminator_ops")
                                 else ev.student.get("discriminator_slopes")) or []]
    problems = []
    if any(t in POOLING for t in [*g_types, *d_types, *g_ops, *d_ops]):
        problems.append("pooling layers: downsample with strided convolutions instead")
    if not any(t == "ConvTranspose2d" and s == 2 for t, s in zip(g_types, g_strides)):
        problems.append("the generator should upsample with stride-2 ConvTranspose2d layers")
    if not any(t == "Conv2d" and s == 2 for t, s in zip(d_types, d_strides)):
        problems.append("the discriminator should downsample with stride-2 Conv2d layers")
    if "BatchNorm2d" not in g_types or "BatchNorm2d" not in d_types:
        problems.append("BatchNorm2d is missing from " + " and ".join(
            n for n, t in (("the generator", g_types), ("the discriminator", d_types)) if "BatchNorm2d" not in t))
    g_convs = [i for i, t in enumerate(g_types) if t in ("Conv2d", "ConvTranspose2d")]
    if g_convs and "BatchNorm2d" in g_types[g_convs[-1]:]:
        problems.append("the generator's output layer has BatchNorm; leave it out there")
    d_convs = [i for i, t in enumerate(d_types) if t == "Conv2d"]
    if len(d_convs) >= 2 and "BatchNorm2d" in d_types[d_convs[0]:d_convs[1]]:
        problems.append("the discriminator's input layer has BatchNorm; leave it out there")
    if not g_ops or g_ops[-1] != "Tanh":
        problems.append("the generator should end with Tanh")
    if "ReLU" not in g_ops:
        problems.append("the generator should use ReLU activations")
    if "LeakyReLU" not in d_ops or "ReLU" in d_ops:
        problems.append("the discriminator should use LeakyReLU(0.2), not ReLU")
    if any(abs(v - 0.2) > 1e-9 for v in slopes):
        problems.append(f"the discriminator's LeakyReLU slopes are {slopes}: DCGAN uses LeakyReLU with slope 0.2")
    if d_ops and d_ops[0] in ACTIVATIONS:
        problems.append(f"the discriminator starts with {d_ops[0]} on the image: its first layer is the strided "
                        "Conv2d, each activation comes after a convolution")
    if "Sigmoid" in d_ops:
        problems.append("the discriminator ends with a Sigmoid; return logits (the GAN losses take logits)")
    if "Linear" in d_ops:
        problems.append("the discriminator has fully connected layers; DCGAN is all-convolutional")
    return Verdict(max(0.0, 1.0 - len(problems) / 4), "; ".join(problems))


def _moments(values):
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std())


def _judge_normal(values, centre, what):
    """A Mistake naming how `values` miss N(centre, 0.02²)."""
    if np.size(values) < 100:
        raise Mistake(f"too few {what} to check")
    mean, std = _moments(values)
    if abs(mean - centre) < 0.003 and 0.018 < std < 0.022:
        return
    if centre == 1.0 and abs(mean) < 0.003 and 0.018 < std < 0.022:
        raise Mistake(f"{what} are drawn from N(0, 0.02); BatchNorm scales should be N(1, 0.02)")
    if centre == 1.0 and abs(mean - 1.0) < 1e-9 and std < 1e-9:
        raise Mistake(f"{what} are all 1 (PyTorch's default); draw them from N(1, 0.02)")
    if abs(mean - centre) < 0.02 and 0.13 < std < 0.15:
        raise Mistake(f"{what} have standard deviation {std:.3f} ≈ √0.02: 0.02 is the standard deviation, "
                      "not the variance")
    factor = estimated_factor(std, 0.02)
    if abs(mean - centre) < 0.003 and factor:
        raise Mistake(f"{what} have the right mean {centre:g} but standard deviation {std:.4f}, {factor} 0.02: check "
                      "the std argument of nn.init.normal_ (mean first, then std)")
    raise Mistake(f"{what} have mean {mean:.4f} and standard deviation {std:.4f}; DCGAN draws them from "
                  f"N({centre:g}, 0.02) — is init_weights applied (model.apply(init_weights))?")


@CHECKS.check("init_weights: convolution weights ~ N(0, 0.02), biases 0", points=1.5, probe="init_fn")
def init_conv(ev):
    _judge_normal(ev.student["fn_conv_w"], 0.0, "init_weights: Conv2d weights")
    if np.any(np.asarray(ev.student["fn_conv_b"]) != 0):
        raise Mistake("init_weights leaves convolution biases non-zero; set them to 0")
    return 1.0


@CHECKS.check("init_weights: BatchNorm scales ~ N(1, 0.02), shifts 0", points=1, probe="init_fn")
def init_batchnorm(ev):
    _judge_normal(ev.student["fn_bn_w"], 1.0, "init_weights: BatchNorm2d weights")
    if np.any(np.asarray(ev.student["fn_bn_b"]) != 0):
        raise Mistake("init_weights leaves BatchNorm shifts (bias) non-zero; set them to 0")
    return 1.0


@CHECKS.check("Generator and Discriminator are initialised with init_weights when built", points=1, probe="init")
def models_initialised(ev):
    return judge_given(ev, _models_initialised, INIT_GIVEN, given_judge=_models_initialised_by_stand_in)


def _models_initialised(ev):
    _judge_normal(ev.student["conv_w"], 0.0, "the models' convolution weights")
    if np.size(ev.student["bn_w"]):
        _judge_normal(ev.student["bn_w"], 1.0, "the models' BatchNorm2d weights")
    for key, what in (("conv_b", "convolution biases"), ("bn_b", "BatchNorm shifts")):
        if np.any(np.asarray(ev.student[key]) != 0):
            raise Mistake(f"the models' {what} are not 0 after construction: call self.apply(init_weights) "
                          "at the end of __init__")
    return 1.0


def _models_initialised_by_stand_in(ev):
    """With the stand-in init_weights in place of the student's, the models' weights must be the stand-in's:
    convolution weights within ±0.1 and spread over it, biases 0.1, BatchNorm scales 0.5 and shifts 0.25."""
    bound = STAND_IN_INIT["conv_bound"]
    conv_w = np.asarray(ev.student["conv_w"], dtype=float)
    if conv_w.size < 100 or np.max(np.abs(conv_w)) > bound or not 0.8 * bound / 3**0.5 < np.std(conv_w) < bound:
        raise Mistake("the models' convolution weights are not those init_weights gives them after construction: call "
                      "self.apply(init_weights) at the end of __init__")
    for key, value in (("conv_b", STAND_IN_INIT["conv_bias"]), ("bn_w", STAND_IN_INIT["bn_weight"]),
                       ("bn_b", STAND_IN_INIT["bn_bias"])):
        if not np.allclose(np.asarray(ev.student[key], dtype=float), value):
            raise Mistake("the models' BatchNorm or bias parameters are not those init_weights gives them: call "
                          "self.apply(init_weights) at the end of __init__, after every layer is built")
    return 1.0

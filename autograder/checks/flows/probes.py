"""Probes of the flows exercise: they call the student's flows.py on fixed inputs. No answers here.

Coupling layers are built with the student's class and then given weights made on the
trusted side (loaded into the Linear layers of the conditioner, in order), so the judge
knows exactly which map a correct layer computes. `flow_log_prob` and `flow_sample` are
also probed with simple layers defined here (elementwise and linear affine maps whose
log-determinants are known), so that each function is judged apart from the coupling.
"""

import numpy as np
import torch
from torch import nn

from autograder.sandboxed.probekit import ContractError, ProbeSet, meta_result, unpack

KIT_PACKAGES = ["genmodels"]  # the Conditioner the stub's __init__ uses, the course flow and its data

PROBES = ProbeSet(warm_imports=("torch.fx.experimental.symbolic_shapes",))  # what meta kernels import (sympy)

HIDDEN = 8  # conditioner width in the probes: not the default 64, so that `hidden` is exercised
# (dim, mask, batch): two dimensions; five with two kept coordinates; a batch of one with the mask's 1s last
COUPLING_CASES = ((2, (1.0, 0.0), 12), (5, (1.0, 0.0, 1.0, 0.0, 0.0), 10), (3, (0.0, 1.0, 1.0), 1))
FD_STEP = 1e-5  # central differences in float64: the trusted side rebuilds the student's Jacobian from them
GRID_LIMIT, GRID_POINTS = 10.0, 301  # the 2-D grid the density is integrated over: with the output layer's
GRID_OUT_GAIN = 0.3  # small gain, a correct flow keeps almost all its mass on it whatever the seed (tests)
GRID_LAYERS = 4
SAMPLES = 20000


def _conditioner_shapes(dim, hidden):
    return [(hidden, dim), (hidden,), (hidden, hidden), (hidden,), (2 * dim, hidden), (2 * dim,)]


def _conditioner_weights(rng, dim, hidden, gain=1.5, out_gain=None):
    """Weights for the Linear layers of genmodels.flows.Conditioner: large enough that s and t are O(1).

    out_gain (default: gain) scales the output layer alone, which sets the size of s and t.
    """
    arrays = []
    shapes = _conditioner_shapes(dim, hidden)
    for index, shape in enumerate(shapes):
        fan_in = shape[1] if len(shape) == 2 else 1
        scale = out_gain if out_gain is not None and index >= len(shapes) - 2 else gain
        arrays.append(rng.normal(scale=scale / np.sqrt(fan_in), size=shape))
    return arrays


def _weights_of(inputs, prefix):
    return [inputs[f"{prefix}w{j}"] for j in range(6)]


def _coupling(flows, dim, mask, weights, device, dtype=torch.float64):
    """The student's AffineCoupling(dim, mask, hidden=HIDDEN) with the given conditioner weights."""
    from genmodels.weights import load_linear_parameters

    layer = flows.AffineCoupling(dim, torch.tensor(mask, dtype=torch.float32), hidden=HIDDEN)
    try:
        load_linear_parameters(layer, weights)
    except ValueError as error:
        raise ContractError("AffineCoupling must keep `self.conditioner = Conditioner(dim, hidden)` from the stub "
                            f"and add no Linear layers of its own; its Linear layers do not match ({error})") from None
    return layer.to(device=device, dtype=dtype)


def _forward(layer, x):
    return unpack(layer(x), ("y", "log_det"), "AffineCoupling.forward")


# ---------------------------------------------------------------- the coupling layer


def _coupling_inputs(rng):
    out = {}
    for i, (dim, mask, batch) in enumerate(COUPLING_CASES):
        out[f"{i}_x"] = rng.normal(scale=1.5, size=(batch, dim))
        out[f"{i}_y"] = rng.normal(scale=1.5, size=(batch, dim))  # a point to invert
        for j, array in enumerate(_conditioner_weights(rng, dim, HIDDEN)):
            out[f"{i}_w{j}"] = array
    return out


def _case(flows, inputs, i, device):
    dim, mask, _ = COUPLING_CASES[i]
    return _coupling(flows, dim, mask, _weights_of(inputs, f"{i}_"), device)


@PROBES.probe(inputs=_coupling_inputs)
def coupling_forward(flows, inputs, device):
    """forward at x, and at x ± FD_STEP·e_j for every j (rows (b, j)): the judge's Jacobian of the student's map."""
    torch.set_num_threads(1)
    out = {}
    for i, (dim, _, _) in enumerate(COUPLING_CASES):
        layer = _case(flows, inputs, i, device)
        x = torch.as_tensor(inputs[f"{i}_x"], device=device)
        steps = FD_STEP * torch.eye(dim, dtype=x.dtype, device=device)  # (D, D)
        with torch.no_grad():
            out[f"{i}_y"], out[f"{i}_log_det"] = _forward(layer, x)
            out[f"{i}_y_plus"] = _forward(layer, (x[:, None, :] + steps).reshape(-1, dim))[0]  # (B*D, D)
            out[f"{i}_y_minus"] = _forward(layer, (x[:, None, :] - steps).reshape(-1, dim))[0]
    return out


@PROBES.probe(inputs=_coupling_inputs)
def coupling_inverse(flows, inputs, device):
    """inverse(forward(x)), inverse(y) and forward(inverse(y))."""
    torch.set_num_threads(1)
    out = {}
    for i in range(len(COUPLING_CASES)):
        layer = _case(flows, inputs, i, device)
        x = torch.as_tensor(inputs[f"{i}_x"], device=device)
        y = torch.as_tensor(inputs[f"{i}_y"], device=device)
        with torch.no_grad():
            out[f"{i}_round_trip"] = layer.inverse(_forward(layer, x)[0])
            out[f"{i}_inverse"] = inverted = layer.inverse(y)
            out[f"{i}_forward_of_inverse"] = _forward(layer, inverted)[0]
    return out


def _gradient_inputs(rng):
    dim, mask, batch = COUPLING_CASES[1]
    out = {"x": rng.normal(scale=1.5, size=(batch, dim))}
    for j, array in enumerate(_conditioner_weights(rng, dim, HIDDEN)):
        out[f"w{j}"] = array
    return out


@PROBES.probe(inputs=_gradient_inputs)
def coupling_gradient(flows, inputs, device):
    """Gradients of sum(y²) and of sum(log_det), apart, with respect to x and the conditioner's weights."""
    torch.set_num_threads(1)
    dim, mask, _ = COUPLING_CASES[1]
    layer = _coupling(flows, dim, mask, _weights_of(inputs, ""), device)
    x = torch.as_tensor(inputs["x"], device=device).requires_grad_(True)
    y, log_det = _forward(layer, x)
    if not (getattr(y, "requires_grad", False) and getattr(log_det, "requires_grad", False)):
        return {"differentiable": False, "y_grad": bool(getattr(y, "requires_grad", False))}
    params = [p for m in layer.modules() if isinstance(m, nn.Linear) for p in (m.weight, m.bias)]
    out = {"differentiable": True, "log_det": log_det}
    for part, value in (("y", (y**2).sum()), ("log_det", log_det.sum())):
        grads = torch.autograd.grad(value, [x, *params], retain_graph=True, allow_unused=True)
        out[f"{part}_x_grad"] = grads[0] if grads[0] is not None else torch.zeros_like(x)
        out[f"{part}_weight_grads"] = [g if g is not None else np.zeros(0) for g in grads[1:]]
    return out


# ---------------------------------------------------------------- layers with known log-determinants


class ElementwiseAffine(nn.Module):
    """A probe layer: y = x * exp(a) + b elementwise, log_det = sum(a) for every example."""

    def __init__(self, a, b):
        super().__init__()
        self.a = nn.Parameter(torch.as_tensor(a))
        self.b = nn.Parameter(torch.as_tensor(b))

    def forward(self, x):
        log_det = self.a.sum().expand(x.shape[0])  # (B,)
        return x * torch.exp(self.a) + self.b, log_det

    def inverse(self, y):
        return (y - self.b) * torch.exp(-self.a)


class Linear(nn.Module):
    """A probe layer: y = x W^T + c, log_det = log |det W| for every example."""

    def __init__(self, weight, shift):
        super().__init__()
        self.weight = nn.Parameter(torch.as_tensor(weight))
        self.shift = nn.Parameter(torch.as_tensor(shift))

    def forward(self, x):
        log_det = torch.linalg.slogdet(self.weight)[1].expand(x.shape[0])  # (B,)
        return x @ self.weight.T + self.shift, log_det

    def inverse(self, y):
        return torch.linalg.solve(self.weight, (y - self.shift).T).T


def _affine_layer_inputs(rng, dim):
    weight = np.eye(dim) + rng.normal(scale=0.6, size=(dim, dim))
    return {
        "a0": rng.uniform(-0.8, 0.8, size=dim), "b0": rng.normal(size=dim),
        "W": weight, "c": rng.normal(size=dim),
        "a2": rng.uniform(-0.8, 0.8, size=dim), "b2": rng.normal(size=dim),
    }


def affine_layers(inputs, device):
    """[ElementwiseAffine, Linear, ElementwiseAffine]: three maps that do not commute."""
    layers = [ElementwiseAffine(inputs["a0"], inputs["b0"]), Linear(inputs["W"], inputs["c"]),
              ElementwiseAffine(inputs["a2"], inputs["b2"])]
    return [layer.to(device) for layer in layers]


def _log_prob_inputs(rng):
    dim = 3
    return {"x": rng.normal(scale=2.0, size=(16, dim)), **_affine_layer_inputs(rng, dim)}


@PROBES.probe(inputs=_log_prob_inputs)
def log_prob_affine(flows, inputs, device):
    """flow_log_prob through three affine layers (float64), where log p(x) has a closed form."""
    torch.set_num_threads(1)
    with torch.no_grad():
        value = flows.flow_log_prob(affine_layers(inputs, device), torch.as_tensor(inputs["x"], device=device))
    return {"log_prob": value}


def _grid_inputs(rng):
    out = {}
    for k in range(GRID_LAYERS):
        for j, array in enumerate(_conditioner_weights(rng, 2, HIDDEN, gain=1.0, out_gain=GRID_OUT_GAIN)):
            out[f"{k}_w{j}"] = array
    return out


@PROBES.probe(inputs=_grid_inputs)
def log_prob_grid(flows, inputs, device):
    """flow_log_prob with the student's couplings (alternating masks) on a 2-D grid."""
    from genmodels.flows import coupling_mask, grid

    torch.set_num_threads(1)
    layers = [_coupling(flows, 2, coupling_mask(2, k).tolist(), _weights_of(inputs, f"{k}_"), device)
              for k in range(GRID_LAYERS)]
    points, _, _ = grid(GRID_LIMIT, GRID_POINTS)
    with torch.no_grad():
        value = flows.flow_log_prob(layers, torch.as_tensor(points, device=device))
    return {"log_prob": value}


def _sample_inputs(rng):
    return _affine_layer_inputs(rng, 3)


@PROBES.probe(inputs=_sample_inputs)
def sample_affine(flows, inputs, device):
    """Two calls of flow_sample through three affine layers: samples of a known Gaussian, drawn fresh."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers = affine_layers(inputs, device)
    first = flows.flow_sample(layers, SAMPLES, 3)
    second = flows.flow_sample(layers, 5, 3)
    return {"samples": first, "second": second}


# ---------------------------------------------------------------- devices


@PROBES.probe(inputs=_sample_inputs)
def devices(flows, inputs, device):
    """Every function with its inputs and layers on PyTorch's meta device: a tensor created on the CPU inside
    them (torch.randn(n, dim), torch.zeros(B) without device=) fails there as it would on a GPU.

    flow_log_prob and flow_sample get the probe's elementwise layers, so that each is judged apart from the coupling.
    """
    meta = torch.device("meta")
    dim, mask, batch = COUPLING_CASES[1]
    x = torch.empty(batch, dim, dtype=torch.float64, device=meta)

    def coupling():
        return flows.AffineCoupling(dim, torch.tensor(mask, dtype=torch.float32), hidden=HIDDEN).to(meta, torch.float64)

    def layers():
        return [ElementwiseAffine(inputs["a0"], inputs["b0"]).to(meta), ElementwiseAffine(inputs["a2"], inputs["b2"]).to(meta)]

    x3 = torch.empty(batch, 3, dtype=torch.float64, device=meta)
    return {
        "forward_meta": meta_result(lambda: coupling()(x)),
        "inverse_meta": meta_result(lambda: coupling().inverse(x)),
        "flow_log_prob_meta": meta_result(lambda: flows.flow_log_prob(layers(), x3)),
        "flow_sample_meta": meta_result(lambda: flows.flow_sample(layers(), 4, 3)),
    }


# ---------------------------------------------------------------- training smoke test


@PROBES.probe(reference=False, time_s=90)
def train(flows, inputs, device):
    """Train the course flow built from the student's AffineCoupling with their flow_log_prob."""
    from genmodels.flows import SMOKE, make_flow, train_flow, two_moons
    from genmodels.weights import linear_parameters

    if device == "cpu":
        torch.set_num_threads(1)  # a tiny model: one thread is fastest, and fair on a shared machine
    layers = make_flow(flows.AffineCoupling, SMOKE.model, seed=SMOKE.train.seed)
    layers = train_flow(layers, two_moons(SMOKE.n_train, seed=SMOKE.data_seed), flows.flow_log_prob, SMOKE.train,
                        device=device)
    return {"weights": linear_parameters(layers)}

"""Hidden checks of the flows exercise: each judges one behaviour and names the likely mistake.

Judges run on the trusted side only. A trusted coupling layer (below) rebuilt from the
same conditioner weights the probe loaded gives the correct output, and autograd on it
the correct log-determinant; central differences of the student's own outputs give the
Jacobian of the map the student actually computed. Known-wrong variants are computed
here from the same weights so that feedback can name the mistake. The smoke test
evaluates the returned trained weights with the trusted coupling: nothing the sandbox
reports about its own training is believed.
"""

import math

import numpy as np
import torch
from torch import nn

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.flows import probes
from autograder.checks.diagnostics import describe_difference, smallest_case
from autograder.checks.judging import as_array, close, judge_meta, named_mistake, require_finite

CHECKS = CheckSet("autograder.checks.flows.probes")

# Smoke-test pass bar, held-out NLL in nats per point (docs/flows.md): in SMOKE's budget the reference reaches
# 1.81-2.20 over training seeds 0-15; one Gaussian fitted to the moons scores 2.84; broken couplings 3.9 and worse.
SMOKE_BAR_NLL = 2.50
LOG_2PI = math.log(2 * math.pi)
VALUE_TOL = dict(rtol=1e-7, atol=1e-9)  # float64 throughout
LOG_DET_TOL = dict(rtol=1e-5, atol=1e-6)  # against a finite-difference Jacobian


# ---------------------------------------------------------------- the trusted coupling


class TrustedCoupling(nn.Module):
    """The trusted side's affine coupling: y = m x + (1 - m)(x exp(s) + t), (s, t) = conditioner(m x)."""

    def __init__(self, dim, mask, hidden=64):
        from genmodels.flows import Conditioner

        super().__init__()
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32))
        self.conditioner = Conditioner(dim, hidden)

    def scale_shift(self, kept):
        s, t = self.conditioner(kept)
        return s * (1 - self.mask), t * (1 - self.mask)

    def forward(self, x):
        s, t = self.scale_shift(x * self.mask)  # (B, D) each, zero where kept
        return x * torch.exp(s) + t, s.sum(dim=1)

    def inverse(self, y):
        s, t = self.scale_shift(y * self.mask)
        return (y - t) * torch.exp(-s)


def trusted_log_prob(layers, x):
    """log p(x) under N(0, I) pushed through `layers` (trusted couplings), (B,)."""
    z, total = x, torch.zeros(x.shape[0], dtype=x.dtype)
    for layer in layers:
        z, log_det = layer(z)
        total = total + log_det
    return -0.5 * (z**2).sum(dim=1) - 0.5 * z.shape[1] * LOG_2PI + total


def trusted_layer(dim, mask, weights, hidden=probes.HIDDEN):
    from genmodels.weights import load_linear_parameters

    return load_linear_parameters(TrustedCoupling(dim, mask, hidden), [np.asarray(w) for w in weights]).double()


def _case_layer(ev, i):
    dim, mask, _ = probes.COUPLING_CASES[i]
    return trusted_layer(dim, mask, [ev.inputs[f"{i}_w{j}"] for j in range(6)])


def autograd_log_det(layer, x):
    """log |det ∂y/∂x| of every example by autograd: (B,). Rows are independent, so one Jacobian of the sum does."""
    x = torch.as_tensor(x)
    jacobian = torch.autograd.functional.jacobian(lambda v: layer(v)[0].sum(dim=0), x)  # (D, B, D)
    return torch.linalg.slogdet(jacobian.permute(1, 0, 2))[1].numpy()  # (B,)


def _conditioner_outputs(layer, x):
    """(s, t) of the conditioner on the kept coordinates m x, and on the whole x, as arrays."""
    with torch.no_grad():
        x = torch.as_tensor(x)
        s, t = layer.conditioner(x * layer.mask)
        s_all, t_all = layer.conditioner(x)
    return s.numpy(), t.numpy(), s_all.numpy(), t_all.numpy()


# ---------------------------------------------------------------- forward


def _student_y(ev, i, name="y", label="AffineCoupling.forward's y"):
    x = ev.inputs[f"{i}_x"]
    y = as_array(ev.student[f"{i}_{name}"], label, x.shape, ev.types[f"{i}_{name}"])
    require_finite(y, label)
    return y


def _forward_terms(layer, x):
    """The terms of y = m x + (1 - m)(x exp(s) + t), each shaped like y: a difference that is a multiple of one names it."""
    m = layer.mask.numpy()
    s, t, _, _ = _conditioner_outputs(layer, x)
    return {"the shift t": (1 - m) * t, "x * exp(s) on the transformed coordinates": (1 - m) * x * np.exp(s),
            "x on the kept coordinates": m * x}


SMALLEST = len(probes.COUPLING_CASES) - 1  # the batch of one


def _smallest(ev, name, call, expected_of):
    """The smallest-case sentence for output `name` (the probe's batch of one), when the student's value is wrong there."""
    dim, mask, _ = probes.COUPLING_CASES[SMALLEST]
    got = ev.student.get(f"{SMALLEST}_{name}")
    want = expected_of(_case_layer(ev, SMALLEST))
    if got is None or np.shape(got) != want.shape or close(got, want, **VALUE_TOL):
        return ""
    x = np.round(ev.inputs[f"{SMALLEST}_{'y' if name == 'inverse' else 'x'}"], 3).tolist()
    return "; " + smallest_case(f"{call}(x={x}) with mask {list(mask)}", got, want)


def _forward_variants(layer, x):
    """Known-wrong outputs of forward, from the trusted conditioner."""
    m = layer.mask.numpy()
    s, t, s_all, t_all = _conditioner_outputs(layer, x)
    with torch.no_grad():
        inverted = TrustedCoupling(x.shape[1], 1 - m, probes.HIDDEN)
        inverted.conditioner.load_state_dict(layer.conditioner.state_dict())
        inverted_y = inverted.double()(torch.as_tensor(x))[0].numpy()
    return {
        "the mask is used the wrong way round: coordinates where the mask is 1 must pass through unchanged and "
        "condition the network; those where it is 0 are transformed": inverted_y,
        "every coordinate is transformed (x * exp(s) + t everywhere): the kept coordinates (mask 1) must pass "
        "through unchanged — multiply the transformed part by (1 - mask)": x * np.exp(s) + t,
        "the kept coordinates (mask 1) are shifted by t: they must pass through unchanged — multiply the "
        "transformed part, shift included, by (1 - mask)": x * np.exp((1 - m) * s) + t,
        "the conditioner sees the whole x: give it only the kept coordinates, mask * x, or the Jacobian is no "
        "longer triangular and the layer cannot be inverted": m * x + (1 - m) * (x * np.exp(s_all) + t_all),
        "the shift is added before scaling ((x + t) * exp(s)); the layer is x * exp(s) + t":
            m * x + (1 - m) * ((x + t) * np.exp(s)),
        "s is used as the scale itself (x * s + t); the scale is exp(s), so that it is always positive":
            m * x + (1 - m) * (x * s + t),
        "the transformed coordinates use exp(-s): that is the inverse's scale; forward multiplies by exp(s)":
            m * x + (1 - m) * (x * np.exp(-s) + t),
    }


@CHECKS.check("AffineCoupling.forward: coordinates where the mask is 1 pass through unchanged", points=1.5,
              probe="coupling_forward")
def masked_untouched(ev):
    """y[:, m == 1] must equal x[:, m == 1] exactly: the kept half is the identity."""
    for i, (dim, mask, _) in enumerate(probes.COUPLING_CASES):
        x, y = ev.inputs[f"{i}_x"], _student_y(ev, i)
        kept = np.asarray(mask) == 1
        if np.allclose(y[:, kept], x[:, kept], rtol=0, atol=1e-12):
            continue
        if np.allclose(y[:, ~kept], x[:, ~kept], rtol=0, atol=1e-12):
            raise Mistake("the mask is used the wrong way round: coordinates where the mask is 1 must pass through "
                          "unchanged (and condition the network); yours are transformed, and those where it is 0 "
                          "are left alone")
        changed = describe_difference(y[:, kept], x[:, kept], "yours", sizes={"D": dim})
        raise Mistake(f"for mask {list(mask)}, y should equal x on the coordinates where the mask is 1, but {changed}: "
                      "they must pass through unchanged — y = mask * x + (1 - mask) * (x * exp(s) + t)")


@CHECKS.check("AffineCoupling.forward: y = m x + (1 - m)(x exp(s) + t) with (s, t) from the conditioner on m x",
              points=2, probe="coupling_forward")
def forward_values(ev):
    for i, (dim, mask, _) in enumerate(probes.COUPLING_CASES):
        layer, x = _case_layer(ev, i), ev.inputs[f"{i}_x"]
        y = _student_y(ev, i)
        with torch.no_grad():
            expected = layer(torch.as_tensor(x))[0].numpy()
        if close(y, expected, **VALUE_TOL):
            continue
        mistake = named_mistake(y, _forward_variants(layer, x), **VALUE_TOL)
        if mistake:
            raise Mistake(mistake)
        with torch.no_grad():
            smallest = _smallest(ev, "y", "forward", lambda layer: layer(torch.as_tensor(ev.inputs[f"{SMALLEST}_x"]))[0].numpy())
        raise Mistake(describe_difference(y, expected, f"for dim {dim} and mask {list(mask)}, y",
                                          terms=_forward_terms(layer, x), sizes={"D": dim}) + smallest)


def _fd_log_det(ev, i):
    """log |det| of the student's own map at x, from central differences of its outputs: (B,), or None."""
    dim, _, batch = probes.COUPLING_CASES[i]
    try:
        plus = as_array(ev.student[f"{i}_y_plus"], "y", (batch * dim, dim)).reshape(batch, dim, dim)
        minus = as_array(ev.student[f"{i}_y_minus"], "y", (batch * dim, dim)).reshape(batch, dim, dim)
    except Mistake:
        return None
    jacobian = ((plus - minus) / (2 * probes.FD_STEP)).transpose(0, 2, 1)  # (B, D_out, D_in)
    if not np.all(np.isfinite(jacobian)):
        return None
    return np.linalg.slogdet(jacobian)[1]


def _log_det_variants(layer, x):
    m = layer.mask.numpy()
    s = _conditioner_outputs(layer, x)[0]
    correct = ((1 - m) * s).sum(axis=1)
    return {
        "log_det has the wrong sign: it is the log-determinant of the inverse (-sum of s); forward returns "
        "+sum of (1 - mask) * s": -correct,
        "log_det is averaged over dimensions: the log-determinant is the sum of the log-scales, not their mean":
            correct / x.shape[1],
        "log_det is averaged over the transformed coordinates: sum them": correct / max((1 - m).sum(), 1),
        "log_det sums s over every coordinate: the kept coordinates (mask 1) have scale 1, so only "
        "(1 - mask) * s counts": s.sum(axis=1),
        "log_det sums the scales exp(s): the log of the determinant is the sum of the log-scales s":
            ((1 - m) * np.exp(s)).sum(axis=1),
    }


@CHECKS.check("AffineCoupling.forward: log_det (B,) equals log |det ∂y/∂x| (autograd Jacobian)", points=3,
              probe="coupling_forward")
def log_det_values(ev):
    """Right when it is the autograd log-determinant of the correct layer, or of the student's own map."""
    for i, (dim, mask, batch) in enumerate(probes.COUPLING_CASES):
        layer, x = _case_layer(ev, i), ev.inputs[f"{i}_x"]
        value, kind = ev.student[f"{i}_log_det"], ev.types[f"{i}_log_det"]
        if np.shape(value) == (batch, dim) and (batch, dim) != (batch,):
            raise Mistake(f"log_det has shape {np.shape(value)}: sum the log-scales over the dimensions to get "
                          f"one value per example, shape ({batch},)")
        if np.size(value) == 1 and batch > 1:
            raise Mistake(f"log_det is a single number: return one value per example, shape ({batch},) "
                          "(is it summed or averaged over the batch?)")
        log_det = as_array(value, "log_det", (batch,), kind)
        require_finite(log_det, "log_det")
        expected = autograd_log_det(layer, x)
        own = _fd_log_det(ev, i)
        if close(log_det, expected, **LOG_DET_TOL) or (own is not None and close(log_det, own, **LOG_DET_TOL)):
            continue
        mistake = named_mistake(log_det, _log_det_variants(layer, x), **LOG_DET_TOL)
        if mistake:
            raise Mistake(mistake)
        s = _conditioner_outputs(layer, x)[0]
        m = layer.mask.numpy()
        terms = {"the sum of s over the kept coordinates": (m * s).sum(axis=1)}
        raise Mistake(describe_difference(log_det, expected, f"for dim {dim} and mask {list(mask)}, log_det",
                                          terms=terms, sizes={"D": dim, "the number of transformed coordinates":
                                                              float((1 - m).sum())})
                      + "; it should be log |det ∂y/∂x|: the Jacobian of a coupling is triangular with diagonal "
                        "exp(s) on the transformed coordinates and 1 on the kept ones")


# ---------------------------------------------------------------- inverse


def _inverse_variants(layer, y):
    m = layer.mask.numpy()
    s, t, s_all, t_all = _conditioner_outputs(layer, y)
    return {
        "inverse multiplies by exp(s): undo the scale with exp(-s), x = (y - t) * exp(-s)":
            m * y + (1 - m) * (y - t) * np.exp(s),
        "inverse undoes the scale before the shift: forward scales then shifts, so the inverse subtracts t "
        "first, x = (y - t) * exp(-s)": m * y + (1 - m) * (y * np.exp(-s) - t),
        "inverse computes s and t from the whole y: the conditioner must see only mask * y (equal to mask * x)":
            m * y + (1 - m) * (y - t_all) * np.exp(-s_all),
    }


@CHECKS.check("AffineCoupling.inverse: inverse(forward(x)) = x and forward(inverse(y)) = y", points=2.5,
              probe="coupling_inverse")
def inverse_round_trip(ev):
    for i, (dim, mask, _) in enumerate(probes.COUPLING_CASES):
        layer, x, y = _case_layer(ev, i), ev.inputs[f"{i}_x"], ev.inputs[f"{i}_y"]
        inverted = _student_y(ev, i, "inverse", "inverse(y)")
        with torch.no_grad():
            expected = layer.inverse(torch.as_tensor(y)).numpy()
        if not close(inverted, expected, **VALUE_TOL):
            mistake = named_mistake(inverted, _inverse_variants(layer, y), **VALUE_TOL)
            if mistake:
                raise Mistake(mistake)
            with torch.no_grad():
                smallest = _smallest(ev, "inverse", "inverse",
                                     lambda layer: layer.inverse(torch.as_tensor(ev.inputs[f"{SMALLEST}_y"])).numpy())
            s, t, _, _ = _conditioner_outputs(layer, y)
            m = layer.mask.numpy()
            terms = {"the shift t": (1 - m) * t, "t * exp(-s)": (1 - m) * t * np.exp(-s),
                     "y * exp(-s) on the transformed coordinates": (1 - m) * y * np.exp(-s)}
            raise Mistake(describe_difference(inverted, expected, f"for dim {dim} and mask {list(mask)}, inverse(y)",
                                              terms=terms, sizes={"D": dim}) + smallest)
        round_trip = _student_y(ev, i, "round_trip", "inverse(forward(x))")
        if not close(round_trip, x, **VALUE_TOL):
            raise Mistake(f"inverse(forward(x)) should give back x, but {describe_difference(round_trip, x, 'yours')}: "
                          "your inverse is right but forward is not its inverse — see the checks of forward")
        back = _student_y(ev, i, "forward_of_inverse", "forward(inverse(y))")
        if not close(back, y, **VALUE_TOL):
            raise Mistake(f"forward(inverse(y)) should give back y, but {describe_difference(back, y, 'yours')}: see the "
                          "checks of forward")


# ---------------------------------------------------------------- gradients


@CHECKS.check("AffineCoupling.forward: differentiable, gradients reach the conditioner through y and log_det",
              points=1, probe="coupling_gradient")
def gradients(ev):
    """The gradients of sum(y²) and of sum(log_det) match the trusted layer's: nothing detached, nothing in-place.

    A log_det whose values are wrong is charged by its own check; here its gradient need only reach
    every weight and x, finite.
    """
    if not ev.student["differentiable"]:
        part = "log_det" if ev.student.get("y_grad") else "y"
        raise Mistake(f"{part} carries no gradient: training could not fit the flow (no .detach(), .item(), "
                      "numpy or torch.no_grad() in forward)")
    dim, mask, batch = probes.COUPLING_CASES[1]
    layer = trusted_layer(dim, mask, [ev.inputs[f"w{j}"] for j in range(6)])
    x = torch.as_tensor(ev.inputs["x"]).requires_grad_(True)
    y, log_det = layer(x)
    params = [p for m in layer.modules() if isinstance(m, nn.Linear) for p in (m.weight, m.bias)]
    log_det_right = np.shape(ev.student["log_det"]) == (batch,) and close(
        np.asarray(ev.student["log_det"], dtype=float), log_det.detach().numpy(), **LOG_DET_TOL)
    for part, value in (("y", (y**2).sum()), ("log_det", log_det.sum())):
        expected = [g.numpy() for g in torch.autograd.grad(value, [x, *params], retain_graph=True)]
        got = ev.student[f"{part}_weight_grads"] or []
        if len(got) != len(expected) - 1 or any(np.shape(g) != e.shape for g, e in zip(got, expected[1:])):
            raise Mistake(f"some of the conditioner's weights get no gradient through {part}: is part of forward "
                          "detached?")
        x_grad = as_array(ev.student[f"{part}_x_grad"], f"the gradient of {part} with respect to x", x.shape)
        if part == "log_det" and not log_det_right:  # wrong values: judged by the log_det check, not again here
            require_finite(x_grad, "the gradient of log_det")
            continue
        if not close(x_grad, expected[0], 1e-6, 1e-8):
            raise Mistake(f"the gradient of {part} with respect to x differs from the coupling's: check forward "
                          "(see its checks)")
        if not all(close(g, e, 1e-6, 1e-8) for g, e in zip(got, expected[1:])):
            raise Mistake(f"the gradients of {part} reaching the conditioner's weights differ from the coupling's: "
                          "check that s and t come from conditioner(mask * x), and nothing is changed in place")
    return 1.0


# ---------------------------------------------------------------- flow_log_prob


def _affine_maps(inputs):
    """The probe's three layers as (matrix, shift) pairs: layer k maps v to A_k v + c_k."""
    return [(np.diag(np.exp(inputs["a0"])), inputs["b0"]), (inputs["W"], inputs["c"]),
            (np.diag(np.exp(inputs["a2"])), inputs["b2"])]


def _push(maps, x):
    """z and the summed log |det| after applying `maps` to the rows of x in order."""
    z, log_det = x, 0.0
    for matrix, shift in maps:
        z = z @ matrix.T + shift
        log_det = log_det + np.linalg.slogdet(matrix)[1]
    return z, np.full(x.shape[0], log_det)


def _log_normal(z):
    return -0.5 * (z**2).sum(axis=1) - 0.5 * z.shape[1] * LOG_2PI


@CHECKS.check("flow_log_prob: log N(f(x); 0, I) + sum of log-determinants, through layers with known Jacobians",
              points=2.5, probe="log_prob_affine")
def log_prob_values(ev):
    x, maps = ev.inputs["x"], _affine_maps(ev.inputs)
    z, log_det = _push(maps, x)
    expected = _log_normal(z) + log_det
    value = ev.student["log_prob"]
    if np.size(value) == 1 and x.shape[0] > 1:
        raise Mistake(f"flow_log_prob returns one number: return log p(x) for every example, shape ({x.shape[0]},)")
    log_prob = as_array(value, "flow_log_prob", expected.shape, ev.types["log_prob"])
    require_finite(log_prob, "flow_log_prob")
    if close(log_prob, expected, **VALUE_TOL):
        return 1.0
    D = x.shape[1]
    z_reversed, _ = _push(maps[::-1], x)
    variants = {
        "the base density's constant is missing: log N(z; 0, I) = -||z||²/2 - (D/2) log(2π)": expected + 0.5 * D * LOG_2PI,
        "the log-determinants are subtracted: log p(x) = log N(f(x)) + sum of log |det ∂f_k| (the change of "
        "variables from z back to x divides by |det ∂f⁻¹|, i.e. multiplies by |det ∂f|)": _log_normal(z) - log_det,
        "the layers are applied in reverse order: flow_log_prob applies layers[0] first": _log_normal(z_reversed) + log_det,
        "the log-determinants are left out": _log_normal(z),
        "the base log-density is averaged over dimensions: sum it over the D coordinates": _log_normal(z) / D + log_det,
        "flow_log_prob returns the negative log-likelihood: return log p(x)": -expected,
    }
    mistake = named_mistake(log_prob, variants, **VALUE_TOL)
    terms = {"the sum of the log-determinants": log_det, "-||z||²/2": -0.5 * (z**2).sum(axis=1)}
    raise Mistake(mistake or describe_difference(log_prob, expected, "flow_log_prob", terms=terms,
                                                 sizes={"D": D, "B": x.shape[0]})
                  + ": log p(x) = log N(f(x); 0, I) + the sum of the layers' log_det")


@CHECKS.check("flow_log_prob: with your couplings, the density integrates to 1 over a 2-D grid", points=2,
              probe="log_prob_grid")
def density_integrates_to_one(ev):
    """The Riemann sum of exp(log p) over the grid matches the exact flow's (1, less the little mass beyond the grid)."""
    from genmodels.flows import coupling_mask, grid

    points, _, area = grid(probes.GRID_LIMIT, probes.GRID_POINTS)
    log_prob = as_array(ev.student["log_prob"], "flow_log_prob on the grid", (len(points),), ev.types["log_prob"])
    if np.any(np.isnan(log_prob)):
        raise Mistake("flow_log_prob gives NaN on part of the grid")
    layers = [trusted_layer(2, coupling_mask(2, k), [ev.inputs[f"{k}_w{j}"] for j in range(6)])
              for k in range(probes.GRID_LAYERS)]
    with torch.no_grad():
        expected = trusted_log_prob(layers, torch.as_tensor(points)).numpy()
    integral = float(np.exp(np.minimum(log_prob, 50.0)).sum() * area)
    exact = float(np.exp(expected).sum() * area)  # a correct flow's sum on this grid: 1 less the mass beyond it
    limit = probes.GRID_LIMIT
    report = (f"exp(flow_log_prob) integrates to {integral:.4g} over [-{limit:g}, {limit:g}]², where the flow's density "
              f"integrates to {exact:.4f}")
    if abs(integral - exact) < 0.01:
        # A wrong density can integrate to about 1 by chance on one draw of couplings (a wrong log_det sign did on
        # one secret seed of the first 194 tried): it must also be the flow's density, point by point (float32
        # arithmetic allowed).
        if close(log_prob, expected, rtol=1e-4, atol=1e-4):
            return 1.0
        raise Mistake(f"{report}, but only by chance: exp(flow_log_prob) is not the flow's density at the grid "
                      "points. A flow's density is the true one only when each log_det is the true log |det ∂y/∂x| "
                      "and flow_log_prob adds them with the full base log-density (see those checks)")
    if close(log_prob, expected + LOG_2PI, **VALUE_TOL):
        raise Mistake(f"{report} (2π too much): the base density's constant -(D/2) log(2π) is missing")
    if close(log_prob, -expected, **VALUE_TOL):
        raise Mistake(f"{report}: flow_log_prob returns the negative log-likelihood; return log p(x)")
    raise Mistake(f"{report}: a flow's density is normalised automatically only when each log_det is the true "
                  "log |det ∂y/∂x| and flow_log_prob adds them with the full base log-density (see those checks)")


# ---------------------------------------------------------------- flow_sample


def _gaussian_of(maps, base_mean=0.0, base_variance=1.0):
    """Mean and covariance of x = (f_K ∘ ... ∘ f_1)^{-1}(z), with f_k(v) = A_k v + c_k, for z of independent
    coordinates with the given mean and variance (N(0, I) by default)."""
    dim = maps[0][0].shape[0]
    mean, cov = np.full(dim, base_mean), base_variance * np.eye(dim)
    for matrix, shift in reversed(maps):
        inverse = np.linalg.inv(matrix)
        mean, cov = inverse @ (mean - shift), inverse @ cov @ inverse.T
    return mean, cov


def _forward_gaussian(maps):
    """Mean and covariance of (f_K ∘ ... ∘ f_1)(z) for z ~ N(0, I)."""
    dim = maps[0][0].shape[0]
    mean, cov = np.zeros(dim), np.eye(dim)
    for matrix, shift in maps:
        mean, cov = matrix @ mean + shift, matrix @ cov @ matrix.T
    return mean, cov


def _matches(samples, mean, cov):
    """Whether the sample mean and covariance agree with (mean, cov) within sampling error."""
    n = len(samples)
    scale = np.sqrt(np.diag(cov))
    mean_error = np.abs(samples.mean(axis=0) - mean) / scale
    corr_error = np.abs(np.cov(samples.T) - cov) / np.outer(scale, scale)
    return bool(np.all(mean_error < 6 / np.sqrt(n)) and np.all(corr_error < 8 * np.sqrt(2 / n)))


@CHECKS.check("flow_sample: (n, D) samples of the base pushed through the inverses in reverse order", points=2,
              probe="sample_affine")
def sample_distribution(ev):
    maps = _affine_maps(ev.inputs)
    samples = as_array(ev.student["samples"], "flow_sample(layers, n, dim)", (probes.SAMPLES, 3), ev.types["samples"])
    require_finite(samples, "flow_sample")
    as_array(ev.student["second"], "flow_sample(layers, 5, dim)", (5, 3), ev.types["second"])
    if np.allclose(samples[:5], ev.student["second"]):
        raise Mistake("two calls of flow_sample return the same samples: draw fresh base noise on every call "
                      "(do not re-seed inside flow_sample)")
    if _matches(samples, *_gaussian_of(maps)):
        return 1.0
    inverse_in_order = _gaussian_of(maps[::-1])
    variants = [
        ("flow_sample applies the layers' forward maps: sampling runs the flow backwards, x = f⁻¹(z), with each "
         "layer's inverse", _forward_gaussian(maps[::-1])),
        ("flow_sample applies the forward maps in list order: sampling needs each layer's inverse, last layer "
         "first", _forward_gaussian(maps)),
        ("flow_sample applies the inverses in list order: invert the last layer first "
         "(x = layers[0].inverse(... layers[-1].inverse(z)))", inverse_in_order),
        ("flow_sample returns the base samples: push z ~ N(0, I) through the layers' inverses",
         (np.zeros(3), np.eye(3))),
        ("the base samples are uniform on [0, 1) (torch.rand): draw z from the standard normal, torch.randn",
         _gaussian_of(maps, base_mean=0.5, base_variance=1 / 12)),
    ]
    for description, (mean, cov) in variants:
        if _matches(samples, mean, cov):
            raise Mistake(description)
    mean, _ = _gaussian_of(maps)
    raise Mistake(f"the samples do not follow the flow's distribution (sample mean {np.round(samples.mean(0), 3)}, "
                  f"expected {np.round(mean, 3)}); is z standard normal (torch.randn), and each layer's inverse "
                  "applied, last layer first?")


# ---------------------------------------------------------------- devices


@CHECKS.check("every function works on any device (checked on PyTorch's meta device, as on a GPU)", points=1,
              probe="devices")
def devices(ev):
    """No GPU needed: a tensor created on the CPU inside a function cannot meet a meta tensor, as on a GPU."""
    for function, key in (("AffineCoupling.forward", "forward_meta"), ("AffineCoupling.inverse", "inverse_meta"),
                          ("flow_log_prob", "flow_log_prob_meta"), ("flow_sample", "flow_sample_meta")):
        judge_meta(ev, function, key)
    return 1.0


# ---------------------------------------------------------------- training smoke test


def held_out_nll(weights) -> float:
    """Held-out NLL (nats per point) of the course flow rebuilt with trusted couplings and the given weights."""
    from genmodels.flows import SMOKE, make_flow, two_moons
    from genmodels.weights import load_linear_parameters

    layers = load_linear_parameters(make_flow(TrustedCoupling, SMOKE.model), weights)
    test = torch.as_tensor(two_moons(SMOKE.n_test, seed=SMOKE.test_seed))
    with torch.no_grad():
        return float(-trusted_log_prob(list(layers), test).mean())


@CHECKS.check(f"training smoke test: the course flow trained with your coupling and flow_log_prob fits two moons "
              f"(held-out NLL ≤ {SMOKE_BAR_NLL})", points=2.5, probe="train")
def training_smoke_test(ev):
    """Trusts no metric from the sandbox: rebuilds the trained flow with trusted couplings and scores it here."""
    weights = ev.student.get("weights") or []
    for k, array in enumerate(weights):
        require_finite(as_array(array, f"trained weight {k}"), f"trained weight {k}",
                       " — training diverged (check log_det's sign and flow_log_prob)")
    try:
        nll = held_out_nll(weights)
    except ValueError as error:
        raise Mistake(f"the trained layers came back malformed ({error}): keep the stub's conditioner") from None
    if not math.isfinite(nll):
        raise Mistake("the trained flow gives a NaN or infinite held-out NLL: training diverged")
    if nll <= SMOKE_BAR_NLL:
        return Verdict(1.0, "")
    from genmodels.flows import SMOKE

    return Verdict(0.0, f"after {SMOKE.train.steps} steps the flow trained with your functions has a held-out NLL of "
                   f"{nll:.2f} nats per point (bar {SMOKE_BAR_NLL}; the reference reaches about 2.05, one Gaussian "
                   "2.84): check log_det (its sign, the sum) and flow_log_prob")

"""Hidden checks of the diffusion exercise: each judges one behaviour and names the likely mistake.

Judges run on the trusted side only. The forward process, the loss and the sampler step
are recomputed here from the inputs (in float64) with the probe models' known formulas;
known-wrong variants (ᾱ_t without the square root, α_t for ᾱ_t, x0 as the target, steps
off by one, noise at the last step, another step's variance) are computed too, so that
feedback can name the mistake. The smoke tests score samples here: a denoiser trained
in the sandbox is sampled with the trusted sampler, and the student's sampler's samples
are scored against the ring's modes.
"""

import math

import numpy as np
import torch

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.diffusion import probes
from autograder.checks.diagnostics import describe_difference
from autograder.checks.judging import as_array, as_float, close, judge_meta, named_mistake, require_finite

CHECKS = CheckSet("autograder.checks.diffusion.probes")

# Smoke-test pass bars (docs/diffusion.md has the reference's numbers across seeds), scored within
# SMOKE.score_radius = 0.3 of a mode. Trained with the reference loss, 8 of 8 modes and 55-81% of the samples
# near a mode over training seeds 0-15 (a blurred ring that misses the modes: 31-38%; x0 as the target: 0%);
# with the exact denoiser, 98-99%.
SMOKE_MIN_MODES = 7
TRAIN_MIN_SHARE = 0.45
EXACT_MIN_SHARE = 0.90
# With the exact denoiser, the spread of the samples around their mode: the data's is 0.1, the reference sampler's
# 0.102-0.105 (T = 100, cosine schedule); too little noise per step gives 0.02-0.095 (β_t as the standard deviation,
# α_t for ᾱ_t, the previous step's variance), too much 0.16 (ᾱ_t without its square root).
EXACT_SPREAD = (0.098, 0.112)
VALUE_TOL = dict(rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- linear_beta_schedule


@CHECKS.check("linear_beta_schedule: T values evenly spaced from beta_start to beta_end", points=1.5, probe="schedule")
def schedule_values(ev):
    cases = (("default", 10, 1e-4, 0.02, "linear_beta_schedule(10)"),
             ("custom", 7, 0.001, 0.05, "linear_beta_schedule(7, beta_start=0.001, beta_end=0.05)"),
             ("ddpm", 1000, 1e-4, 0.02, "linear_beta_schedule(1000)"))
    for key, T, start, end, call in cases:
        value = ev.student[key]
        expected = np.linspace(start, end, T)
        shape = np.shape(value)
        if shape == (T + 1,):
            raise Mistake(f"{call} returns {T + 1} values: one beta per step, T in all (torch.linspace(start, end, T))")
        if shape == (T - 1,):
            raise Mistake(f"{call} returns {T - 1} values: one beta per step, T in all")
        betas = as_array(value, call, (T,), ev.types[key])
        if close(betas, expected, rtol=1e-5, atol=1e-9):
            continue
        variants = {
            f"{call} leaves out beta_end: the schedule runs from beta_start to beta_end, both included "
            "(torch.arange excludes the end; use torch.linspace(beta_start, beta_end, T))":
                start + (end - start) * np.arange(T) / T,
            f"{call} is reversed: the noise grows with t, from beta_start to beta_end": expected[::-1],
            f"{call} ignores its beta_start/beta_end arguments": np.linspace(1e-4, 0.02, T),
        }
        mistake = named_mistake(betas, variants, rtol=1e-5, atol=1e-9)
        raise Mistake(mistake or describe_difference(betas, expected, call, sizes={"T": T})
                      + f": it should be {T} evenly spaced values from beta_start to beta_end, both included")


# ---------------------------------------------------------------- q_sample


def q_sample_reference(x0, t, noise, alphas_cumprod):
    ab = alphas_cumprod[t].reshape(-1, *([1] * (x0.ndim - 1)))
    return np.sqrt(ab) * x0 + np.sqrt(1 - ab) * noise


def _q_variants(x0, t, noise, alphas_cumprod):
    ab = alphas_cumprod[t].reshape(-1, *([1] * (x0.ndim - 1)))
    previous = alphas_cumprod[t - 1].reshape(ab.shape)  # t - 1 wraps to T - 1 at t = 0, as Python indexing does
    following = alphas_cumprod[np.minimum(t + 1, len(alphas_cumprod) - 1)].reshape(ab.shape)
    return {
        "ᾱ_t is used without the square root: x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) noise": ab * x0 + (1 - ab) * noise,
        "the square root is missing on the noise's coefficient: sqrt(1 - ᾱ_t), not (1 - ᾱ_t)":
            np.sqrt(ab) * x0 + (1 - ab) * noise,
        "the square root is missing on x0's coefficient: sqrt(ᾱ_t), not ᾱ_t": ab * x0 + np.sqrt(1 - ab) * noise,
        "the coefficients are swapped: x0 gets sqrt(ᾱ_t) and the noise sqrt(1 - ᾱ_t)":
            np.sqrt(1 - ab) * x0 + np.sqrt(ab) * noise,
        "t is off by one: step t uses alphas_cumprod[t] (t is 0-based), not alphas_cumprod[t - 1]":
            np.sqrt(previous) * x0 + np.sqrt(1 - previous) * noise,
        "t is off by one: step t uses alphas_cumprod[t], not alphas_cumprod[t + 1]":
            np.sqrt(following) * x0 + np.sqrt(1 - following) * noise,
    }


@CHECKS.check("q_sample: sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) noise for points and images, each example at its own t",
              points=2, probe="q_sample")
def q_sample_values(ev):
    alphas_cumprod = ev.inputs["alphas_cumprod"]
    for label, what in (("", "points (B, D)"), ("_image", "images (B, C, H, W)")):
        x0, t, noise = ev.inputs[f"x0{label}"], ev.inputs[f"t{label}"], ev.inputs[f"noise{label}"]
        expected = q_sample_reference(x0, t, noise, alphas_cumprod)
        value = ev.student[f"x_t{label}"]
        if label and np.ndim(value) == 4 and np.shape(value)[:2] == (x0.shape[0], x0.shape[0]):
            raise Mistake("for images, ᾱ_t is broadcast against the wrong axis: reshape it to (B, 1, 1, 1) — one "
                          "value per example over all of its non-batch dimensions")
        x_t = as_array(value, f"q_sample on {what}", x0.shape, ev.types[f"x_t{label}"])
        require_finite(x_t, "q_sample")
        if close(x_t, expected, **VALUE_TOL):
            continue
        mistake = named_mistake(x_t, _q_variants(x0, t, noise, alphas_cumprod), **VALUE_TOL)
        if mistake:
            raise Mistake(mistake)
        ab = alphas_cumprod[t].reshape(-1, *([1] * (x0.ndim - 1)))
        terms = {"sqrt(ᾱ_t) x0": np.sqrt(ab) * x0, "sqrt(1 - ᾱ_t) noise": np.sqrt(1 - ab) * noise}
        raise Mistake(describe_difference(x_t, expected, f"on {what}, x_t", terms=terms)
                      + ": it should be sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) noise, with the `noise` argument and "
                        "ᾱ_t = alphas_cumprod[t] for each example")


@CHECKS.check("q_sample: with fresh standard normal noise, x_t has mean sqrt(ᾱ_t) x0 and variance 1 - ᾱ_t",
              points=0.5, probe="q_sample")
def q_sample_moments(ev):
    alphas_cumprod, x0, t = ev.inputs["alphas_cumprod"], ev.inputs["x0_moments"], ev.inputs["t_moments"]
    rows = probes.STEP_ROWS
    samples = as_array(ev.student["x_t_moments"], "q_sample", (len(t) * rows, x0.shape[1]), ev.types["x_t_moments"])
    samples = samples.reshape(rows, len(t), x0.shape[1])  # rows were repeated example by example
    ab = alphas_cumprod[t][:, None]
    mean_error = np.abs(samples.mean(axis=0) - np.sqrt(ab) * x0) / np.sqrt(1 - ab)
    ratio = samples.var(axis=0) / (1 - ab)
    if np.all(mean_error < 6 / np.sqrt(rows)) and np.all(np.abs(ratio - 1) < 0.12):
        return 1.0
    raise Mistake(f"over {rows} fresh draws the mean and variance of x_t are not sqrt(ᾱ_t) x0 and 1 - ᾱ_t "
                  f"(variance ratio {ratio.min():.3g} to {ratio.max():.3g}; see the check of q_sample's values)")


# ---------------------------------------------------------------- ddpm_loss


def _loss_evidence(ev):
    """(losses (calls,), x_t (calls, B, D), t (calls, B)) from the loss probe, or a Mistake saying what is wrong."""
    if ev.student["loss_type"] != "Tensor" or ev.student["loss_shape"] not in ([], [1]):
        shape = ev.student["loss_shape"]
        if ev.student["loss_type"] == "Tensor" and shape and shape[0] == probes.LOSS_BATCH:
            raise Mistake(f"ddpm_loss returns one value per example (shape {tuple(shape)}): return their mean, "
                          "a scalar tensor")
        raise Mistake(f"ddpm_loss should return a scalar tensor; it returned a {ev.student['loss_type']} "
                      f"of shape {tuple(shape)}")
    if ev.student["calls"] != probes.LOSS_CALLS or ev.student.get("x_t") is None:
        raise Mistake(f"ddpm_loss should call the model once per call, with x_t shaped like x0; over "
                      f"{probes.LOSS_CALLS} calls the model was called {ev.student['calls']} times")
    losses = as_array(ev.student["losses"], "the losses", (probes.LOSS_CALLS,))
    x_t = as_array(ev.student["x_t"], "x_t", (probes.LOSS_CALLS, probes.LOSS_BATCH, 2))
    t = as_array(ev.student["t"], "t", (probes.LOSS_CALLS, probes.LOSS_BATCH))
    return losses, x_t, t


def _require_noised_input(ev, x_t):
    """Raise a Mistake naming it when the model was given the clean x0 instead of x_t."""
    if np.allclose(x_t, ev.inputs["x0"][None], rtol=1e-6, atol=1e-7):
        raise Mistake("the model is given x0, the clean data: give it the noised x_t = q_sample(x0, t, noise, "
                      "alphas_cumprod), the input it will see when sampling")


def _recovered_noise(ev, x_t, t):
    """name -> the noise that made x_t under a hypothesis about how x_t was built: (calls, B, D) each.

    Steps 1 .. T (the paper's 1-based t given to the model) leave only the hypothesis that x_t was made at t - 1.
    """
    alphas_cumprod, x0 = ev.inputs["alphas_cumprod"], ev.inputs["x0"][None]
    T = len(alphas_cumprod)
    if np.any(t < 0) or np.any(t > T) or np.any(t != np.round(t)):
        return {}
    t = t.astype(int)
    previous = alphas_cumprod[t - 1][..., None]  # (calls, B, 1); t = 0 wraps to T - 1, as Python indexing does
    out = {"alphas_cumprod[t - 1], one step before the t the model is given (are steps counted from 1?)":
           (x_t - np.sqrt(previous) * x0) / np.sqrt(1 - previous)}
    if np.any(t == T):
        return out
    ab = alphas_cumprod[t][..., None]  # (calls, B, 1)
    out = {"correct": (x_t - np.sqrt(ab) * x0) / np.sqrt(1 - ab),
           "ᾱ_t without the square root": (x_t - ab * x0) / (1 - ab), **out}
    base, unit = ev.student.get("base"), ev.student.get("unit")
    if base is not None and unit is not None and np.shape(base) == (x_t.size // 2, 2) == np.shape(unit):
        base, unit = np.asarray(base, float).reshape(x_t.shape), np.asarray(unit, float).reshape(x_t.shape)
        if np.all(np.abs(unit) > 1e-6):
            out["your q_sample"] = (x_t - base) / unit
    return out


def _model_out(ev, x_t, t):
    params = {"scale": torch.tensor(float(ev.inputs["scale"]), dtype=torch.float64),
              "offset": torch.as_tensor(ev.inputs["offset"], dtype=torch.float64)}
    flat = probes.model_output(torch.as_tensor(x_t.reshape(-1, x_t.shape[-1])),
                               torch.as_tensor(np.array(t).reshape(-1)).long().clamp(0, len(ev.inputs["offset"]) - 1), params)
    return flat.numpy().reshape(x_t.shape)


@CHECKS.check("ddpm_loss: the mean squared error between the model's output and the noise (not x0), "
              "a mean over batch and dimensions", points=2.5, probe="loss")
def loss_target(ev):
    losses, x_t, t = _loss_evidence(ev)
    _require_noised_input(ev, x_t)
    out = _model_out(ev, x_t, t)
    noises = _recovered_noise(ev, x_t, t)
    if not noises:
        raise Mistake("ddpm_loss calls the model with steps outside 0 .. T - 1 (see the check of t)")
    B, D = probes.LOSS_BATCH, 2
    for noise in noises.values():
        if close(losses, ((out - noise) ** 2).mean(axis=(1, 2)), rtol=1e-5, atol=1e-7):
            return 1.0
    if "correct" not in noises:
        raise Mistake("ddpm_loss calls the model with steps outside 0 .. T - 1 (see the check of t)")
    x0 = ev.inputs["x0"][None]
    noise = noises["correct"]
    squared = (out - noise) ** 2
    variants = {
        "the loss's target is x0: the model predicts the noise, so compare model(x_t, t) with the noise": ((out - x0) ** 2).mean(axis=(1, 2)),
        "the loss's target is x_t: compare model(x_t, t) with the noise that made x_t": ((out - x_t) ** 2).mean(axis=(1, 2)),
        "the loss sums instead of averaging: take the mean over the batch and every dimension": squared.sum(axis=(1, 2)),
        "the loss sums over dimensions and averages over the batch: take the mean over both": squared.sum(axis=2).mean(axis=1),
        "the loss is the root of the mean squared error: return the mean squared error itself": np.sqrt(squared.mean(axis=(1, 2))),
        "the loss is the mean absolute error: use the squared error": np.abs(out - noise).mean(axis=(1, 2)),
    }
    mistake = named_mistake(losses, variants, rtol=1e-5, atol=1e-7)
    raise Mistake(mistake or describe_difference(losses, squared.mean(axis=(1, 2)), "the loss", sizes={"B": B, "D": D})
                  + ": it should be the mean of (model(x_t, t) - noise)² over the batch and dimensions")


@CHECKS.check("ddpm_loss: t drawn uniformly from every step 0 .. T - 1 (no off-by-one), as a (B,) int64 tensor",
              points=2, probe="loss")
def loss_steps(ev):
    T = len(ev.inputs["alphas_cumprod"])
    if ev.student["t_type"] != "tensor":
        raise Mistake(f"the model is called with t of type {ev.student['t_type']}: pass a (B,) int64 tensor of steps")
    if ev.student["t_shape"] != [probes.LOSS_BATCH]:
        raise Mistake(f"the model is called with t of shape {tuple(ev.student['t_shape'])}: draw one step per example, "
                      f"shape (B,) = ({probes.LOSS_BATCH},)")
    if "int64" not in ev.student["t_dtype"]:
        raise Mistake(f"the model is called with t of dtype {ev.student['t_dtype']}: t is an integer step index "
                      "(torch.randint gives int64), not a float or a fraction of T")
    _, _, t = _loss_evidence(ev)
    low, high = int(t.min()), int(t.max())
    if low < 0 or high > T - 1:
        raise Mistake(f"t takes values from {low} to {high}: steps are 0-based, 0 .. T - 1 = {T - 1}")
    if low > 0:
        raise Mistake(f"t never takes the value 0 over {t.size} draws: draw from every step 0 .. T - 1 "
                      "(torch.randint(0, T, ...); steps are 0-based)")
    if high < T - 1:
        raise Mistake(f"t never reaches T - 1 = {T - 1} over {t.size} draws: torch.randint's upper bound is "
                      "exclusive, so draw with torch.randint(0, T, ...)")
    counts = np.bincount(t.astype(int).ravel(), minlength=T)
    expected = t.size / T
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    if chi2 > 3 * T + 30:  # T - 1 degrees of freedom: far beyond chance
        raise Mistake(f"t is not uniform over the steps (counts {counts.tolist()}): draw every step with equal "
                      "probability")
    return 1.0


@CHECKS.check("ddpm_loss: x_t = q_sample(x0, t, noise) with fresh standard normal noise", points=1.5, probe="loss")
def loss_noise(ev):
    _, x_t, t = _loss_evidence(ev)
    _require_noised_input(ev, x_t)
    noises = _recovered_noise(ev, x_t, t)
    if not noises:
        raise Mistake("ddpm_loss calls the model with steps outside 0 .. T - 1 (see the check of t)")

    def standard_normal(noise):
        flat = noise.reshape(-1, noise.shape[-1])
        corr = np.corrcoef(flat.T)[0, 1]
        calls_differ = np.std(noise[:, 0, 0]) > 0.5
        return (abs(flat.mean()) < 0.05 and abs(flat.var() - 1) < 0.06 and abs(corr) < 0.05 and calls_differ
                and abs(np.mean(flat ** 3)) < 0.1)

    if any(name in noises and standard_normal(noises[name]) for name in ("correct", "your q_sample")):
        return 1.0
    for name, noise in noises.items():
        if name not in ("correct", "your q_sample") and standard_normal(noise):
            raise Mistake(f"x_t is built with {name}: x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) noise with ᾱ_t = "
                          "alphas_cumprod[t] at the step t the model is given")
    if "correct" not in noises:
        raise Mistake("ddpm_loss calls the model with steps outside 0 .. T - 1 (see the check of t)")
    noise = noises["correct"].reshape(-1, 2)
    if abs(noise.mean()) > 0.2 and abs(noise.var() - 1 / 12) < 0.03:
        raise Mistake("the noise is uniform on [0, 1): draw standard normal noise (torch.randn_like)")
    if np.std(noises["correct"][:, 0, 0]) < 1e-9:
        raise Mistake("every call uses the same noise: draw fresh noise on every call (do not re-seed)")
    raise Mistake(f"the noise in x_t is not standard normal (mean {noise.mean():.3g}, variance {noise.var():.3g}): "
                  "build x_t with q_sample(x0, t, noise) and noise = torch.randn_like(x0)")


@CHECKS.check("ddpm_loss: differentiable in the model's parameters", points=0.5, probe="loss")
def loss_gradient(ev):
    if not ev.student.get("differentiable"):
        raise Mistake("the loss carries no gradient: training could not learn (no .item(), .detach() or "
                      "torch.no_grad() around the model call)")
    if ev.student.get("grad_scale") is None or ev.student.get("grad_offset") is None:
        raise Mistake("no gradient reaches the model's parameters: is the model's output detached?")
    return 1.0


@CHECKS.check("ddpm_loss: works on image-shaped x0 (B, C, H, W): one model call on x_t shaped like x0, a scalar",
              points=0.5, probe="loss_image")
def loss_images(ev):
    x0, T = ev.inputs["x0_image"], len(ev.inputs["alphas_cumprod"])
    if ev.student["calls"] != 1:
        raise Mistake(f"on images the model is called {ev.student['calls']} times per loss: call it once")
    if np.size(ev.student["loss"]) != 1:
        raise Mistake(f"on images the loss has shape {np.shape(ev.student['loss'])}: return the mean, a scalar")
    value = as_float(ev.student["loss"], "ddpm_loss on images", ev.types["loss"])
    if not math.isfinite(value) or value < 0:
        raise Mistake(f"on images the loss is {value}: a mean squared error is finite and never negative")
    x_t = as_array(ev.student["x_t"], "the model's x_t for images", x0.shape, ev.types["x_t"])
    require_finite(x_t, "x_t")
    t = np.asarray(ev.student["t"]).reshape(-1)
    if t.shape != (x0.shape[0],) or np.any(t < 0) or np.any(t > T - 1):
        raise Mistake(f"on images the model gets t = {t.tolist()}: one step in 0 .. T - 1 per example, shape (B,)")
    return 1.0


# ---------------------------------------------------------------- p_sample_step


def step_reference(x, t, betas, eps, noise):
    """(x_{t-1}, its mean, known-wrong variants) of DDPM's step from x_t with predicted noise eps and given noise."""
    alphas, ab = 1 - betas, np.cumprod(1 - betas)
    tm1, tp1 = t - 1, min(t + 1, len(betas) - 1)  # t - 1 wraps to T - 1 at t = 0, as Python indexing would

    def step(beta, alpha, alpha_bar, divisor=None, coefficient=None, sigma=None):
        coefficient = beta / np.sqrt(1 - alpha_bar) if coefficient is None else coefficient
        mean = (x - coefficient * eps) / (np.sqrt(alpha) if divisor is None else divisor)
        sigma = np.sqrt(beta) if sigma is None else sigma
        return mean + (sigma * noise if t > 0 else 0.0)

    mean = (x - betas[t] / np.sqrt(1 - ab[t]) * eps) / np.sqrt(alphas[t])
    ab_previous = ab[tm1] if t > 0 else 1.0
    posterior = (1 - ab_previous) / (1 - ab[t]) * betas[t]
    b, a, abar = betas[t], alphas[t], ab[t]
    variants = {
        "α_t is used where ᾱ_t belongs: the noise's coefficient is β_t / sqrt(1 - ᾱ_t), with ᾱ_t the cumulative "
        "product (torch.cumprod(1 - betas, 0)[t])": step(b, a, a),
        "ᾱ_t is used without the square root: the noise's coefficient is β_t / sqrt(1 - ᾱ_t), not β_t / (1 - ᾱ_t)":
            step(b, a, abar, coefficient=b / (1 - abar)),
        "the mean is divided by sqrt(ᾱ_t): divide by sqrt(α_t), this step's own α": step(b, a, abar, divisor=np.sqrt(abar)),
        "the division by sqrt(α_t) is missing from the mean": step(b, a, abar, divisor=1.0),
        "the noise is scaled by β_t: its standard deviation is sqrt(β_t) (the variance is β_t)": step(b, a, abar, sigma=b),
        "the noise's variance is another step's: step t adds sqrt(β_t) noise, not sqrt(β_{t-1})":
            step(b, a, abar, sigma=np.sqrt(betas[tm1])),
        "the noise's variance is another step's: step t adds sqrt(β_t) noise, not sqrt(β_{t+1})":
            step(b, a, abar, sigma=np.sqrt(betas[tp1])),
        "the noise's variance is the posterior variance β̃_t = (1 - ᾱ_{t-1}) / (1 - ᾱ_t) β_t: this exercise's "
        "sampler uses σ_t² = β_t (DDPM's other choice)": step(b, a, abar, sigma=np.sqrt(posterior)),
        "t is off by one: step t uses betas[t] and ᾱ_t, not index t - 1": step(betas[tm1], alphas[tm1], ab[tm1]),
    }
    if t == 0:
        variants = {"noise is added at the last step (t = 0): the last step returns the mean, with no noise":
                    mean + np.sqrt(betas[0]) * noise, **variants}
    return step(b, a, abar), mean, variants


def _eps(ev, x, t):
    return _model_out(ev, x.reshape(x.shape[0], -1), np.full(x.shape[0], t)).reshape(x.shape)


def _judge_step(ev, label, suffix, t):
    x, noise, betas = ev.inputs[f"x{suffix}"], ev.inputs[f"noise{suffix}"], ev.inputs["betas"]
    expected, _, variants = step_reference(x, t, betas, _eps(ev, x, t), noise)
    value = as_array(ev.student[label], f"p_sample_step at t = {t}", x.shape, ev.types[label])
    require_finite(value, "p_sample_step")
    if close(value, expected, **VALUE_TOL):
        return
    mistake = named_mistake(value, variants, **VALUE_TOL)
    if mistake:
        raise Mistake(mistake)
    alphas, ab = 1 - betas, np.cumprod(1 - betas)
    eps = _eps(ev, x, t)
    predicted = betas[t] / np.sqrt(1 - ab[t]) * eps / np.sqrt(alphas[t])
    terms = {"sqrt(β_t) noise": np.sqrt(betas[t]) * noise, "β_t / sqrt(1 - ᾱ_t) eps / sqrt(α_t)": predicted,
             "x_t / sqrt(α_t)": x / np.sqrt(alphas[t]),
             "mean (x_t - β_t / sqrt(1 - ᾱ_t) eps) / sqrt(α_t)": x / np.sqrt(alphas[t]) - predicted}
    raise Mistake(describe_difference(value, expected, f"at t = {t}, x_(t-1)", terms=terms)
                  + "; the mean is (x_t - β_t / sqrt(1 - ᾱ_t) eps) / sqrt(α_t) and the noise sqrt(β_t) * noise")


@CHECKS.check("p_sample_step: the mean (x_t - β_t / sqrt(1 - ᾱ_t) eps) / sqrt(α_t) plus sqrt(β_t) noise, with given noise",
              points=2.5, probe="step")
def step_values(ev):
    mid, again = ev.student.get("mid"), ev.student.get("mid_again")
    if mid is not None and again is not None and np.shape(mid) == np.shape(again) and not close(mid, again, **VALUE_TOL):
        raise Mistake("two calls with the same x_t, t and `noise` give different results: use the noise argument "
                      "(draw fresh noise only when noise is None)")
    for label, suffix, t in probes.STEP_CASES:
        if t != 0:
            _judge_step(ev, label, suffix, t)
    return 1.0


@CHECKS.check("p_sample_step: nothing is added at t = 0 (the last step returns the mean)", points=1.5, probe="step")
def step_last(ev):
    """At t = 0 the output must not depend on the noise: given noise, zero noise and noise=None agree."""
    x, noise, betas = ev.inputs["x"], ev.inputs["noise"], ev.inputs["betas"]
    given = as_array(ev.student["last"], "p_sample_step at t = 0", x.shape, ev.types["last"])
    zero = as_array(ev.student["last_zero_noise"], "p_sample_step at t = 0 with zero noise", x.shape)
    if not close(given, zero, **VALUE_TOL):
        if close(given - zero, np.sqrt(betas[0]) * noise, **VALUE_TOL):
            raise Mistake("noise is added at the last step (t = 0): the last step returns the mean, with no noise")
        raise Mistake("at t = 0 the result depends on the noise: the last step returns the mean, with no noise")
    fresh = as_array(ev.student["fresh_last"], "p_sample_step at t = 0 with noise=None", (8, 2))
    if not close(fresh[0::2], np.tile(fresh[0], (4, 1)), **VALUE_TOL):  # rows 0, 2, 4, 6 had the same x_t
        raise Mistake("at t = 0 with noise=None, p_sample_step adds noise: the last step returns the mean, with no "
                      "noise")
    return 1.0


@CHECKS.check("p_sample_step: with noise=None, fresh standard normal noise of variance β_t around the mean",
              points=1, probe="step")
def step_moments(ev):
    betas, x = ev.inputs["betas"], ev.inputs["x_moments"]
    t, rows = 4, probes.STEP_ROWS
    fresh = as_array(ev.student["fresh"], "p_sample_step with noise=None", (len(x) * rows, 2), ev.types["fresh"])
    require_finite(fresh, "p_sample_step")
    samples = fresh.reshape(rows, len(x), 2)  # row r of the input was x[r % len(x)]
    spread = samples - samples.mean(axis=0)  # the mean is judged with given noise; here only the noise
    variance = spread.var(axis=0)  # (len(x), 2)
    if np.all(variance < 1e-12):
        raise Mistake("with noise=None no noise is added: draw it fresh (torch.randn_like(x_t)) when noise is None")
    ratio = variance / betas[t]
    if np.all(np.abs(ratio - 1) < 0.1):
        corr = np.corrcoef(spread.reshape(-1, 2).T)[0, 1]
        if abs(corr) > 0.1:
            raise Mistake("the noise is shared between dimensions: draw it for every element (torch.randn_like(x_t))")
        return 1.0
    ab = np.cumprod(1 - betas)
    named = {"β_t²: the noise is scaled by β_t, not sqrt(β_t)": betas[t] ** 2,
             "β_{t-1}: another step's variance": betas[t - 1], "β_{t+1}: another step's variance": betas[t + 1],
             "the posterior variance β̃_t = (1 - ᾱ_{t-1}) / (1 - ᾱ_t) β_t, DDPM's other choice: this exercise's "
             "sampler uses σ_t² = β_t": (1 - ab[t - 1]) / (1 - ab[t]) * betas[t],
             "1/12 of β_t: the noise is uniform (torch.rand_like), not standard normal": betas[t] / 12}
    misfit = {description: float(np.max(np.abs(variance / value - 1))) for description, value in named.items()}
    closest = min(misfit, key=misfit.get)  # neighbouring candidates can lie within sampling error of each other
    if misfit[closest] < 0.1:
        raise Mistake(f"the variance of the step is {closest}; it should be β_t")
    raise Mistake(f"with fresh noise the step's variance is {variance.mean():.4g}, not β_t = {betas[t]:.4g}")


@CHECKS.check("p_sample_step: calls the model with t as a (B,) int64 tensor", points=0.5, probe="step")
def step_model_call(ev):
    B = ev.inputs["x"].shape[0]
    if ev.student["t_type"] != "tensor" or ev.student["t_shape"] != [B] or "int64" not in ev.student["t_dtype"]:
        raise Mistake(f"the model is called with t as {ev.student['t_type']} {ev.student['t_dtype']} of shape "
                      f"{tuple(ev.student['t_shape'])}: pass torch.full((B,), t, dtype=torch.long), one step per example")
    given = np.asarray(ev.student["t_given"]).reshape(-1)
    if not np.all(given == 5):
        raise Mistake(f"at step t = 5 the model is given t = {given[:3].tolist()}...: give it the current step t")
    return 1.0


# ---------------------------------------------------------------- ddpm_sample


def step_coefficients(betas, coef):
    """(k_t, sigma_t) for every t: with eps(x, t) = coef[t] x, DDPM's step is x <- k_t x + sigma_t z."""
    alphas, ab = 1 - betas, np.cumprod(1 - betas)
    scale = (1 - betas / np.sqrt(1 - ab) * coef) / np.sqrt(alphas)
    sigma = np.sqrt(betas) * (np.arange(len(betas)) > 0)
    return scale, sigma


def chain_variance(scale, sigma, start_variance=1.0):
    """Variance of the chain x <- scale[t] x + sigma[t] z for t = T - 1, ..., 0, from x ~ N(0, start_variance)."""
    variance = start_variance
    for t in reversed(range(len(scale))):
        variance = scale[t] ** 2 * variance + sigma[t] ** 2
    return variance


def _own_step(ev):
    """(k_t, sigma_t) of the student's own p_sample_step, measured by the probe, or None."""
    try:
        scale = np.array([as_array(v, "k_t", (1, 2)) for v in ev.student["own_scale"]])  # (T, 1, 2)
        sigma = np.array([as_array(v, "sigma_t", (1, 2)) for v in ev.student["own_sigma"]])
    except (Mistake, TypeError):
        return None
    if not (np.allclose(scale, scale[:, :, :1]) and np.allclose(sigma, sigma[:, :, :1])):
        return None
    return scale[:, 0, 0], np.abs(sigma[:, 0, 0])


@CHECKS.check("ddpm_sample: T steps from t = T - 1 down to 0, samples shaped (n, *shape), fresh on every call",
              points=2, probe="sample")
def sample_steps(ev):
    T = len(ev.inputs["betas"])
    steps = [int(s) for s in (ev.student["steps"] or [])]
    expected = list(range(T - 1, -1, -1))
    as_array(ev.student["images"], "ddpm_sample(model, 3, (1, 2, 2), betas)", (3, 1, 2, 2), ev.types["images"])
    if steps != expected:
        if steps == expected[::-1]:
            raise Mistake(f"the steps run upwards (t = {steps[:3]} ...): sampling goes from t = T - 1 down to 0")
        if steps == expected[:-1]:
            raise Mistake("the loop stops before t = 0: the last step, t = 0, turns x_0's level into data "
                          "(range(T - 1, -1, -1))")
        raise Mistake(f"the model is called at steps {steps[:10]}{'...' if len(steps) > 10 else ''}: "
                      f"expected {T} calls with t = {T - 1}, ..., 0")
    if np.allclose(ev.student["images"], ev.student["again"]):
        raise Mistake("two calls of ddpm_sample return the same samples: draw fresh noise on every call")
    return 1.0


@CHECKS.check("ddpm_sample: samples distributed as the chain from N(0, I) noise through every step", points=1,
              probe="sample")
def sample_distribution(ev):
    betas, coef = ev.inputs["betas"], ev.inputs["coef"]
    samples = as_array(ev.student["samples"], "ddpm_sample(model, n, (2,), betas)", (probes.SAMPLE_N, 2),
                       ev.types["samples"])
    require_finite(samples, "ddpm_sample")
    n = len(samples)
    variance = samples.var(axis=0)

    def matches(expected):
        return bool(np.all(np.abs(variance / expected - 1) < 0.06) and np.all(np.abs(samples.mean(0)) < 6 * np.sqrt(expected / n)))

    scale, sigma = step_coefficients(betas, coef)
    expected = chain_variance(scale, sigma)
    own = _own_step(ev)
    if matches(expected) or (own is not None and matches(chain_variance(*own))):
        return 1.0  # right, or a right chain of the student's own (separately judged) step
    variants = {"the chain starts from zeros: start from standard normal noise (torch.randn)": chain_variance(scale, sigma, 0.0),
                "the chain starts from uniform noise: start from standard normal noise (torch.randn)":
                    chain_variance(scale, sigma, 1 / 12)}
    if own is not None:
        variants["the chain starts from zeros: start from standard normal noise (torch.randn)"] = chain_variance(*own, 0.0)
    for description, value in variants.items():
        if np.all(np.abs(variance / value - 1) < 0.04):
            raise Mistake(description)
    raise Mistake(f"the samples' variance is {variance.round(4).tolist()}, not {expected:.4g} as the chain from "
                  "N(0, I) gives: start from torch.randn(n, *shape) and apply p_sample_step for t = T - 1, ..., 0")


# ---------------------------------------------------------------- devices


@CHECKS.check("every function works on any device (checked on PyTorch's meta device, as on a GPU)", points=1,
              probe="devices")
def devices(ev):
    """No GPU needed: a tensor created on the CPU inside a function cannot meet a meta tensor, as on a GPU."""
    for function in ("q_sample", "ddpm_loss", "p_sample_step", "ddpm_sample"):
        judge_meta(ev, function)
        given = ev.student.get(f"{function}_t_device")
        if given and given != "meta":
            raise Mistake(f"{function} calls the model with t on {given} while x_t is on another device (PyTorch's meta "
                          "device here, a GPU in training): a model that embeds t needs it beside x_t — make t with "
                          "device=x_t.device")
    return 1.0


# ---------------------------------------------------------------- smoke tests on the ring


def reference_sample(model, n, betas, seed):
    """The trusted DDPM sampler (σ_t² = β_t): n (2-D) samples from `model`, noise drawn from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    betas = torch.as_tensor(betas, dtype=torch.float64)
    alphas, ab = 1 - betas, torch.cumprod(1 - betas, 0)
    x = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        for t in reversed(range(len(betas))):
            eps = model(x.float(), torch.full((n,), t, dtype=torch.long)).double()
            x = (x - betas[t] / torch.sqrt(1 - ab[t]) * eps) / torch.sqrt(alphas[t])
            if t > 0:
                x = x + torch.sqrt(betas[t]) * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return x.numpy()


def mode_spread(samples) -> float:
    """Standard deviation of the samples around their nearest ring mode (per coordinate)."""
    from genmodels.data import ring_centres

    centres = ring_centres()
    nearest = np.linalg.norm(samples[:, None] - centres[None], axis=-1).argmin(axis=1)
    return float((samples - centres[nearest]).std())


def _ring_score(samples):
    from genmodels.data import ring_centres
    from genmodels.diffusion import SMOKE
    from genmodels.gan import score_modes

    return score_modes(samples, ring_centres(), radius=SMOKE.score_radius)


@CHECKS.check("training smoke test: the course denoiser trained with your ddpm_loss, sampled by the reference "
              "sampler, covers the ring of 8 Gaussians", points=2.5, probe="train")
def training_smoke_test(ev):
    """Trusts no metric from the sandbox: loads the trained weights and samples them here."""
    from genmodels.diffusion import SMOKE, new_model
    from genmodels.weights import load_linear_parameters

    weights = ev.student.get("weights") or []
    for k, array in enumerate(weights):
        require_finite(as_array(array, f"trained weight {k}"), f"trained weight {k}", " — training diverged")
    try:
        model = load_linear_parameters(new_model(SMOKE.model), weights)
    except ValueError as error:
        raise Mistake(f"the trained denoiser came back malformed ({error})") from None
    samples = reference_sample(model.eval(), SMOKE.n_samples, ev.inputs["betas"], SMOKE.sample_seed)
    if not np.all(np.isfinite(samples)):
        raise Mistake("sampling the trained denoiser gives NaN or infinite points: training diverged")
    score = _ring_score(samples)
    if score.modes_covered >= SMOKE_MIN_MODES and score.share_near_mode >= TRAIN_MIN_SHARE:
        return 1.0
    return Verdict(0.0, f"after {SMOKE.train.steps} steps the denoiser trained with your loss covers "
                   f"{score.modes_covered} of 8 modes (bar {SMOKE_MIN_MODES}) with {score.share_near_mode:.0%} of the "
                   f"reference sampler's samples within {SMOKE.score_radius} of a mode (bar {TRAIN_MIN_SHARE:.0%}; the "
                   "reference reaches 55-81%): check the loss's target (the noise) and x_t")


@CHECKS.check("sampling smoke test: your ddpm_sample with the exact denoiser of the ring covers its 8 modes",
              points=2, probe="sample_ring")
def sampling_smoke_test(ev):
    from genmodels.diffusion import SMOKE

    samples = as_array(ev.student["samples"], "ddpm_sample(model, n, (2,), betas)", (SMOKE.n_samples, 2),
                       ev.types["samples"])
    if not np.all(np.isfinite(samples)):
        raise Mistake("your sampler produces NaN or infinite points with an exact denoiser")
    score, spread = _ring_score(samples), mode_spread(samples)
    low, high = EXACT_SPREAD
    if score.modes_covered >= SMOKE_MIN_MODES and score.share_near_mode >= EXACT_MIN_SHARE and low <= spread <= high:
        return 1.0
    report = (f"with the exact noise predictor of the ring (what a perfectly trained model computes) your sampler's "
              f"{SMOKE.n_samples} samples cover {score.modes_covered} of 8 modes (bar {SMOKE_MIN_MODES}) with "
              f"{score.share_near_mode:.0%} within {SMOKE.score_radius} of a mode (bar {EXACT_MIN_SHARE:.0%}; the reference "
              "sampler: 8 modes, 98-99%)")
    if score.modes_covered >= SMOKE_MIN_MODES and score.share_near_mode >= EXACT_MIN_SHARE:
        way = "narrower" if spread < low else "wider"
        return Verdict(0.0, f"{report}, but each mode is {way} than the data's: the samples' spread around their mode "
                       f"is {spread:.3f}, the data's 0.1 (the reference sampler gives 0.102-0.105 with {len(ev.inputs['betas'])} "
                       "steps): check the variance of p_sample_step's noise (β_t) and the mean's coefficients")
    return Verdict(0.0, f"{report}: check p_sample_step's mean and variance and the order of the steps")

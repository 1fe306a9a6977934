"""Hidden checks of the GAN exercise: each judges one behaviour and names the likely mistake.

Judges run on the trusted side only. Reference values come from running the same
probes on solutions/gan/gan.py; known-wrong variants (of the losses and of the
training step) are computed here from the inputs, so that feedback can say which
mistake a student made. The smoke test's judge samples the trained generator itself.
"""

import numpy as np
import torch
import torch.nn.functional as F

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.diagnostics import describe_difference, smallest_case
from autograder.checks.gan import probes
from autograder.checks.judging import (as_array, as_float, close, judge_dtypes, judge_given, named_mistake,
                                       require_finite)
from genmodels.optim import SGD

CHECKS = CheckSet("autograder.checks.gan.probes")

# Smoke-test pass bar (docs/gan.md has the reference's numbers across seeds): a margin below
# the worst of several reference seeds, far above what a broken loss or step reaches.
SMOKE_MIN_MODES = 6  # of 8; every reference seed covers all 8
SMOKE_MIN_SHARE = 0.15  # of samples within SMOKE.score_radius of a mode; reference seeds 0.27-0.72
LOSS_RTOL, LOSS_ATOL = 1e-5, 1e-6
STABLE_HINT = (": the loss is not stable for confident logits — sigmoid(x) rounds to exactly 0 or 1 there, so "
               "log(sigmoid(x)) or log(1 - sigmoid(x)) is log(0) = -inf (and exp(x) overflows to inf); use "
               "F.logsigmoid / F.softplus or F.binary_cross_entropy_with_logits")


# ---------------------------------------------------------------- the three losses


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)  # log σ(x), exact for any finite x


def _loss_variants(real, fake):
    """Known-wrong values of (discriminator_loss, generator_loss, generator_loss_minimax)."""
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    nl_real, nl_fake = -_log_sigmoid(real), -_log_sigmoid(-fake)  # -log σ(real), -log(1 - σ(fake))
    s_real, s_fake = 1 / (1 + np.exp(-real)), 1 / (1 + np.exp(-fake))
    twice_real, twice_fake = -_log_sigmoid(s_real), -_log_sigmoid(-s_fake)  # sigmoid applied before a logits loss
    d_ref = nl_real.mean() + nl_fake.mean()
    non_saturating, saturating = (-_log_sigmoid(fake)).mean(), _log_sigmoid(-fake).mean()
    d = {
        "the real and fake labels are swapped (real logits should be pushed up, fake logits down)":
            (-_log_sigmoid(-real)).mean() + (-_log_sigmoid(fake)).mean(),
        "the discriminator loss is halved: use mean(-log σ(real)) + mean(-log(1 - σ(fake))) without the ½":
            0.5 * d_ref,
        "sums instead of means: average each term over its batch": nl_real.sum() + nl_fake.sum(),
        "the two terms are averaged over the concatenated batch: average each term over its own batch "
        "(real and fake batches may differ in size)":
            (nl_real.sum() + nl_fake.sum()) / (real.size + fake.size),
        "the sigmoid is applied twice: the discriminator outputs logits, so pass them straight to a "
        "logits loss (no torch.sigmoid first)": twice_real.mean() + twice_fake.mean(),
        "the discriminator loss has the wrong sign": -d_ref,
    }
    g = {
        "generator_loss is the saturating minimax loss mean(log(1 - σ(fake))); it should be the "
        "non-saturating mean(-log σ(fake))": saturating,
        "generator_loss has the wrong sign (it should be mean(-log σ(fake)), which G minimises)": -non_saturating,
        "generator_loss uses the discriminator's objective: mean(-log(1 - σ(fake))) pushes fakes towards "
        "'fake'; the generator minimises mean(-log σ(fake))": -saturating,
        "sums instead of means in generator_loss": (-_log_sigmoid(fake)).sum(),
        "the sigmoid is applied twice in generator_loss: pass the logits straight to a logits loss":
            (-_log_sigmoid(s_fake)).mean(),
    }
    minimax = {
        "generator_loss_minimax holds the non-saturating loss — are the two generator losses' names swapped?":
            non_saturating,
        "generator_loss_minimax has the wrong sign: G minimises mean(log(1 - σ(fake)))": -saturating,
        "sums instead of means in generator_loss_minimax": _log_sigmoid(-fake).sum(),
        "the sigmoid is applied twice in generator_loss_minimax: pass the logits straight to a logits loss":
            _log_sigmoid(-s_fake).mean(),
    }
    return {"d": d, "g": g, "minimax": minimax}


INPUT_PAIRS = {"random": ("real", "fake"), "flat": ("real_flat", "fake_flat"), "extreme": ("real_extreme", "fake_extreme")}
LOSS_NAMES = {"d": "discriminator_loss", "g": "generator_loss", "minimax": "generator_loss_minimax"}


def _judge_loss(ev, which, labels, stable_hint=""):
    """Fraction of `labels` on which loss `which` matches the reference, with named mistakes."""
    name = LOSS_NAMES[which]
    correct, problems, unnamed = 0, [], []
    for label in labels:
        key = f"{label}_{which}"
        real, fake = (ev.inputs[k] for k in INPUT_PAIRS[label])
        try:
            value = as_float(ev.student[key], name, ev.types[key])
            if not np.isfinite(value):
                raise Mistake(f"{name} returned {value} for logits of ±200{stable_hint}" if stable_hint
                              else f"{name} returned {value}")
        except Mistake as mistake:
            problems.append(str(mistake))
            continue
        reference = float(ev.reference[key])
        if np.isclose(value, reference, rtol=LOSS_RTOL, atol=LOSS_ATOL):
            correct += 1
            continue
        mistake = named_mistake(np.float64(value), _loss_variants(real, fake)[which], rtol=1e-4, atol=1e-5)
        if mistake:
            problems.append(mistake)
        else:
            unnamed.append((value, reference, real.size, fake.size))
    if unnamed:  # diagnosed across the input pairs at once: a factor or offset shared by all of them shows
        values, references = np.array([u[0] for u in unnamed]), np.array([u[1] for u in unnamed])
        sizes = {"B": unnamed[0][3]} if len(unnamed) == 1 else {}
        problems.append(describe_difference(values, references, name, sizes=sizes))
    if correct < len(labels):
        tiny = ev.student.get(f"tiny_{which}")
        call = {"d": "discriminator_loss([1.0], [-1.0])", "g": "generator_loss([-1.0])",
                "minimax": "generator_loss_minimax([-1.0])"}[which]
        if tiny is not None and np.size(tiny) == 1 and f"tiny_{which}" in ev.reference:
            problems.append(smallest_case(call, np.asarray(tiny).reshape(()), ev.reference[f"tiny_{which}"]))
    return Verdict(correct / len(labels), "; ".join(dict.fromkeys(problems)))


@CHECKS.check("discriminator_loss: matches the reference on random logits, real and fake batches of different sizes",
              points=2, probe="losses")
def d_loss_values(ev):
    return _judge_loss(ev, "d", ("random", "flat"))


@CHECKS.check("generator_loss: the non-saturating loss, matches the reference", points=1.5, probe="losses")
def g_loss_values(ev):
    return _judge_loss(ev, "g", ("random", "flat"))


@CHECKS.check("generator_loss_minimax: the saturating loss, matches the reference", points=1.5, probe="losses")
def minimax_values(ev):
    return _judge_loss(ev, "minimax", ("random", "flat"))


@CHECKS.check("all three losses: finite and correct for confident logits of ±200", points=2, probe="losses")
def losses_stable(ev):
    verdicts = [_judge_loss(ev, which, ("extreme",), STABLE_HINT) for which in ("d", "g", "minimax")]
    return Verdict(sum(v.fraction for v in verdicts) / 3, "; ".join(v.feedback for v in verdicts if v.feedback))


@CHECKS.check("losses: each returns a 0-d tensor that carries the gradient", points=1, probe="losses")
def losses_scalar(ev):
    for which, name in LOSS_NAMES.items():
        key = f"random_{which}"
        if not ev.types[key].startswith("torch.Tensor"):
            raise Mistake(f"{name} should return a torch tensor (so that .backward() works); it returned {ev.types[key]}")
        if ev.student.get(f"{key}_shape") != []:
            raise Mistake(f"{name} should return a scalar (0-d) tensor, the mean over the batch; "
                          f"it returned shape {tuple(ev.student.get(f'{key}_shape') or ())}")
        if not ev.student.get(f"{key}_grad"):
            raise Mistake(f"{name}'s result does not require grad: the loss was detached (.item(), .detach(), NumPy) "
                          "and cannot train anything")


@CHECKS.check("losses: each returns a tensor with the dtype and device of the logits (float32 and float64)", points=0.5,
              probe="dtypes")
def losses_dtypes(ev):
    return judge_dtypes(ev, tuple(LOSS_NAMES.values()))


@CHECKS.check("generator losses: the non-saturating one keeps a large gradient where D rejects the fakes, "
              "the minimax one saturates", points=1.5, probe="gradients")
def saturation(ev):
    """With fake logits of -6..-12, d/dl mean(-log σ(l)) ≈ -1/B, while d/dl mean(log(1-σ(l))) ≈ -σ(l)/B ≈ 0."""
    fake = ev.inputs["fake"]
    non_sat = as_array(ev.student["generator_loss"], "gradient of generator_loss", fake.shape)
    minimax = as_array(ev.student["generator_loss_minimax"], "gradient of generator_loss_minimax", fake.shape)
    require_finite(non_sat, "gradient of generator_loss")
    require_finite(minimax, "gradient of generator_loss_minimax")
    big, small = np.abs(non_sat).mean() * fake.size, np.abs(minimax).mean() * fake.size  # per-sample scale
    if big < 0.1 and small > 0.5:
        raise Mistake("the names are swapped: generator_loss saturates (tiny gradient when D confidently rejects "
                      "the fakes) and generator_loss_minimax does not; generator_loss must be the non-saturating "
                      "mean(-log σ(fake))")
    if big < 0.1:
        raise Mistake(f"generator_loss saturates: its gradient is {big:.2g} per sample when D rejects the fakes "
                      "(logits -6..-12); the non-saturating mean(-log σ(fake)) has gradient ≈ -1 there — is it "
                      "the saturating loss, or is a sigmoid applied twice?")
    if small > 0.1:
        raise Mistake(f"generator_loss_minimax does not saturate: its gradient is {small:.2g} per sample where "
                      "mean(log(1 - σ(fake))) has gradient ≈ -σ(l) ≈ 0 — it should be the saturating minimax loss")
    if np.any(non_sat > 0) or np.any(minimax > 0):
        raise Mistake("a generator loss's gradient has the wrong sign: lowering either loss must raise the fake "
                      "logits (gradients ≤ 0)")
    if not close(non_sat, ev.reference["generator_loss"], rtol=1e-4, atol=1e-7):
        raise Mistake(describe_difference(non_sat, ev.reference["generator_loss"], "generator_loss's gradient",
                                          sizes={"B": fake.size}))
    return 1.0


# ---------------------------------------------------------------- gan_train_step, replayed on the trusted side


def _reference_losses(variant):
    def d_loss(real, fake):
        if variant.get("sigmoid_twice"):
            real, fake = torch.sigmoid(real), torch.sigmoid(fake)
        ones, zeros = torch.ones_like(real), torch.zeros_like(fake)
        if variant.get("labels_swapped"):
            loss = (F.binary_cross_entropy_with_logits(real, torch.zeros_like(real))
                    + F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)))
        else:
            reduction = "sum" if variant.get("sum") else "mean"
            loss = (F.binary_cross_entropy_with_logits(real, ones, reduction=reduction)
                    + F.binary_cross_entropy_with_logits(fake, zeros, reduction=reduction))
        return 0.5 * loss if variant.get("d_half") else loss

    def g_loss(fake):
        if variant.get("sigmoid_twice"):
            fake = torch.sigmoid(fake)
        if variant.get("minimax"):
            return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake),
                                                  reduction="sum" if variant.get("sum") else "mean")

    return d_loss, g_loss


def _replay(inputs, variant):
    """Two training steps as a (possibly wrong) `variant` takes them: (generator, discriminator) arrays."""
    from genmodels.gan import MLPGANConfig, linear_parameters, make_mlp_gan

    d_loss_fn, g_loss_fn = _reference_losses(variant)
    generator, discriminator = make_mlp_gan(MLPGANConfig(**probes.STEP_MODEL), seed=7)
    g_opt = SGD(generator.parameters(), lr=probes.STEP_LR)  # the probe's optimizer: the same arithmetic
    d_opt = SGD(discriminator.parameters(), lr=probes.STEP_LR)
    zero_d = not (variant.get("no_zero_grad") or variant.get("no_zero_grad_d"))
    zero_g = not (variant.get("no_zero_grad") or variant.get("no_zero_grad_g"))

    def d_step(real, z):
        if zero_d:
            d_opt.zero_grad()
        fake = generator(z)
        loss = d_loss_fn(discriminator(real), discriminator(fake if variant.get("no_detach") else fake.detach()))
        loss.backward()
        d_opt.step()

    def g_step(z):
        if zero_g:
            g_opt.zero_grad()
        g_loss_fn(discriminator(generator(z))).backward()
        g_opt.step()

    for call in (1, 2):
        real = torch.as_tensor(inputs[f"real{call}"])
        z = torch.as_tensor(inputs[f"z{call}"])
        if variant.get("g_first"):
            g_step(z)
            d_step(real, z)
        else:
            d_step(real, z)
            g_step(z)
    return ([p.numpy() for p in linear_parameters(generator)],
            [p.numpy() for p in linear_parameters(discriminator)])


STEP_VARIANTS = {
    "the generator is updated first: take the discriminator step, then the generator step against the "
    "updated discriminator": {"g_first": True},
    "gradients are not zeroed (no zero_grad() before each backward pass), so they accumulate across "
    "steps and calls": {"no_zero_grad": True},
    "the fakes are not detached in the discriminator step and the generator's gradients are not zeroed: "
    "the discriminator loss's gradient reaches the generator": {"no_detach": True, "no_zero_grad_g": True},
    "the fakes are not detached in the discriminator step and gradients are not zeroed: the discriminator "
    "loss's gradient reaches the generator": {"no_detach": True, "no_zero_grad": True},
    "the generator's gradients are not zeroed before its backward pass, so they accumulate across calls":
        {"no_zero_grad_g": True},
    "the discriminator's gradients are not zeroed before its backward pass: the generator step's backward "
    "pass left gradients on it": {"no_zero_grad_d": True},
    "the generator step uses the saturating minimax loss; use the non-saturating generator_loss":
        {"minimax": True},
    "the discriminator loss is halved in the discriminator step": {"d_half": True},
    "the real and fake labels are swapped in the discriminator loss": {"labels_swapped": True},
    "the losses sum instead of averaging over the batch": {"sum": True},
    "the sigmoid is applied twice (the losses already take logits)": {"sigmoid_twice": True},
}


def _parameters(ev, key, count):
    values = ev.student.get(key)
    if not isinstance(values, list) or len(values) != count:
        raise Mistake(f"the {key}'s parameters could not be read back after gan_train_step")
    return [np.asarray(v, dtype=np.float64) for v in values]


def _same(a, b) -> bool:
    return all(close(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(a, b))


def _judge_steps(ev):
    ref_g, ref_d = ev.reference["generator"], ev.reference["discriminator"]
    g = _parameters(ev, "generator", len(ref_g))
    d = _parameters(ev, "discriminator", len(ref_d))
    g_ok, d_ok = _same(g, ref_g), _same(d, ref_d)
    if g_ok and d_ok:
        return Verdict(1.0)
    for description, variant in STEP_VARIANTS.items():
        var_g, var_d = _replay(ev.inputs, variant)
        if _same(g, var_g) and _same(d, var_d):
            return Verdict(0.0, description)
    return Verdict(0.0, _bisect(ev) or "after two steps the parameters differ from the reference's")


def _bisect(ev) -> str | None:
    """Which optimizer step first applies a gradient other than the reference's, and how it differs."""
    order, reference_order = ev.student.get("step_order") or "", ev.reference.get("step_order") or ""
    grads, reference_grads = ev.student.get("step_grads") or [], ev.reference.get("step_grads") or []
    names = {"d": "discriminator", "g": "generator"}
    for index, (tag, expected_tag) in enumerate(zip(order, reference_order)):
        call = index // 2 + 1
        if tag != expected_tag:
            return (f"step {index + 1} (call {call}) is a {names.get(tag, tag)} update where the reference takes a "
                    f"{names.get(expected_tag, expected_tag)} update: one discriminator update, then one generator "
                    "update, per call")
        if index >= min(len(grads), len(reference_grads)):
            break
        got, want = np.asarray(grads[index], dtype=float), np.asarray(reference_grads[index], dtype=float)
        if not close(got, want, rtol=1e-4, atol=1e-6):
            net = names[tag]
            before = ("every earlier update matches the reference's" if index else "it is the first update")
            return (f"the first update that differs is the {net} update of call {call} ({before}): "
                    f"{describe_difference(got, want, 'the gradient it applies')} — check the {net} loss and what "
                    f"reaches the {net}'s .grad before its step (zero_grad(), detach())")
    return None


@CHECKS.check("gan_train_step: parameters after two SGD steps equal the reference's", points=3, probe="train_step")
def step_parameters(ev):
    """From identical weights and data; the real and fake batches differ in size."""
    return judge_given(ev, _judge_steps, probes.GIVEN_LOSSES)


@CHECKS.check("gan_train_step: returns (d_loss, g_loss) as Python floats equal to the reference's", points=1,
              probe="train_step")
def step_returns(ev):
    return judge_given(ev, _judge_returns, probes.GIVEN_LOSSES)


def _judge_returns(ev):
    for key in ("d_loss1", "g_loss1", "d_loss2", "g_loss2"):
        if ev.types[key] != "float":
            raise Mistake(f"gan_train_step should return the losses as Python floats (loss.item()); "
                          f"it returned {ev.types[key]}")
    problems = []
    for key, what in (("d_loss1", "the discriminator loss returned by call 1"),
                      ("g_loss1", "the generator loss returned by call 1"),
                      ("d_loss2", "the discriminator loss returned by call 2"),
                      ("g_loss2", "the generator loss returned by call 2")):
        value, expected = np.array([float(ev.student[key])]), np.array([float(ev.reference[key])])
        if not np.allclose(value, expected, rtol=1e-4, atol=1e-6):
            problems.append(describe_difference(value, expected, what))
            break  # later losses start from other weights: the first difference is the one to read
    if problems:
        return Verdict(0.0, "; ".join(problems))
    return 1.0


@CHECKS.check("gan_train_step: the discriminator step comes first and leaves the generator untouched", points=1.5,
              probe="train_step")
def step_order(ev):
    return judge_given(ev, _judge_order, probes.GIVEN_LOSSES)


def _judge_order(ev):
    order = ev.student.get("step_order") or ""
    if order.startswith("g"):
        raise Mistake("the generator is updated first: take the discriminator step, then the generator step")
    if order != "dgdg":
        raise Mistake(f"over two calls the optimizers stepped in the order {order or '(never)'} "
                      "(d = d_optimizer, g = g_optimizer); expected one D step then one G step per call: dgdg")
    before = ev.student.get("generator_before_g_step")
    if not isinstance(before, list):
        raise Mistake("the generator's parameters could not be read back")
    from genmodels.gan import MLPGANConfig, linear_parameters, make_mlp_gan

    initial = [p.numpy() for p in linear_parameters(make_mlp_gan(MLPGANConfig(**probes.STEP_MODEL), seed=7)[0])]
    if not all(close(b, i, rtol=0, atol=1e-7) for b, i in zip(before, initial)):
        raise Mistake("the discriminator step changed the generator's parameters")
    return 1.0


@CHECKS.check("gan_train_step: zeroes gradients before each backward pass (no accumulation across calls)",
              points=1.5, probe="train_step")
def step_no_accumulation(ev):
    """Every parameter starts with a stale .grad of 3.0: a step that zeroes before each backward pass ignores it,
    so the stale run ends where the clean run does (whatever else the step does)."""
    return judge_given(ev, _judge_zeroing, probes.GIVEN_LOSSES)


def _judge_zeroing(ev):
    count_g, count_d = len(ev.reference["generator"]), len(ev.reference["discriminator"])
    fresh_g, fresh_d = _parameters(ev, "generator", count_g), _parameters(ev, "discriminator", count_d)
    stale_g, stale_d = _parameters(ev, "stale_generator", count_g), _parameters(ev, "stale_discriminator", count_d)
    if _same(stale_d, fresh_d) and _same(stale_g, fresh_g):
        return 1.0
    # Each network's update moves the other's next one, so both end elsewhere: the first update that applied a
    # different gradient says which optimizer's zero_grad() is missing.
    first = _first_stale_update(ev)
    if first == "d":
        raise Mistake("with a stale .grad left on every parameter before the call, the discriminator's first update "
                      "applies it: call d_optimizer.zero_grad() before the discriminator's backward pass (gradients "
                      "accumulate in .grad until zeroed)")
    if first == "g":
        raise Mistake("with a stale .grad left on every parameter before the call, the generator's first update "
                      "applies it (the discriminator's does not): call g_optimizer.zero_grad() before the generator's "
                      "backward pass (gradients accumulate in .grad until zeroed, and the discriminator step's "
                      "backward pass may leave some on the generator)")
    raise Mistake("with a stale .grad left on every parameter before the call, the networks end elsewhere: call each "
                  "optimizer's zero_grad() before its network's backward pass (gradients accumulate in .grad until "
                  "zeroed)")


def _first_stale_update(ev) -> str | None:
    """'d' or 'g': the optimizer whose step first applied another gradient in the run with a stale .grad."""
    order = ev.student.get("step_order") or ""
    fresh, stale = ev.student.get("step_grads") or [], ev.student.get("stale_step_grads") or []
    for tag, got, want in zip(order, stale, fresh):
        if not close(got, want, rtol=1e-4, atol=1e-6):
            return tag if tag in ("d", "g") else None
    return None


# ---------------------------------------------------------------- training smoke test


@CHECKS.check("training smoke test: the course GAN trained with your step covers the ring of 8 Gaussians",
              points=3, probe="smoke_ring")
def smoke_ring(ev):
    """Trusts no metric from the sandbox: loads the trained generator and samples it here."""
    return judge_given(ev, _judge_ring, {"given_losses": probes.GIVEN_LOSSES["given_losses"]})


def _judge_ring(ev):
    from genmodels.data import ring_centres
    from genmodels.gan import SMOKE, load_linear_parameters, make_mlp_gan, sample, score_modes

    generator, _ = make_mlp_gan(SMOKE.model, seed=0)
    try:
        load_linear_parameters(generator, ev.student.get("generator") or [])
    except ValueError as error:
        raise Mistake(f"the trained generator could not be read back ({error})") from None
    samples = sample(generator, SMOKE.n_samples, SMOKE.model.z_dim, seed=SMOKE.sample_seed)
    if not np.all(np.isfinite(samples)):
        raise Mistake("training diverged: the generator produces NaN or infinite samples (unstable losses?)")
    score = score_modes(samples, ring_centres(), radius=SMOKE.score_radius)
    summary = (f"after {SMOKE.train.steps} steps the generator covers {score.modes_covered} of 8 modes "
               f"(bar {SMOKE_MIN_MODES}) with {score.share_near_mode:.0%} of samples within "
               f"{SMOKE.score_radius} of a mode (bar {SMOKE_MIN_SHARE:.0%})")
    if score.modes_covered >= SMOKE_MIN_MODES and score.share_near_mode >= SMOKE_MIN_SHARE:
        return Verdict(1.0, "")
    return Verdict(0.0, summary + ": the GAN does not learn the ring — check the losses and the training step")

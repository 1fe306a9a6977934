"""Hidden checks of the VAE exercise: each judges one behaviour and names the likely mistake.

Judges run on the trusted side only. The referee is `torch.distributions`
(computed here from the inputs, in float64); known-wrong variants are computed
here too, so that feedback can say which mistake a student made. The training
smoke test evaluates the returned weights itself: nothing the sandbox reports
about its own training is believed.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.bernoulli import (FROM_LOGITS, NOT_FINITE_CAUSES, ON_PROBABILITIES, PRECISION_CAUSES,
                                         nll_through_probabilities)
from autograder.checks.judging import (as_array, close, judge_dtypes, judge_given, matches_reference, named_mistake,
                                       require_finite)
from autograder.checks.diagnostics import describe_difference, smallest_case
from autograder.checks.vae import probes

CHECKS = CheckSet("autograder.checks.vae.probes", warm_imports=("scipy.stats",))  # what the judges import

# Smoke-test pass bar, in nats per held-out image (docs/vae.md has the reference's measured numbers): after
# probes.SMOKE_STEPS the reference reaches 20.1-21.5 (negative ELBO) and 19.3-20.7 (IW) over training seeds 0-15; a
# collapsed posterior scores 25.3 and the best independent-pixel model 25.2, so a VAE whose decoder ignores z cannot
# pass. Each bar sits about halfway between.
BAR_NEGATIVE_ELBO = 23.5
BAR_IW_NLL = 23.0
COLLAPSED_KL = 0.1  # nats per image: a posterior this close to the prior carries no information about x
IW_SAMPLES = 64
KS_BAR = 0.02  # Kolmogorov-Smirnov distance of 36,000 standard-normal draws from N(0, 1): exceeded with p < 1e-12


def _t(array):
    return torch.as_tensor(np.asarray(array, dtype=np.float64))


# ---------------------------------------------------------------- reparameterize


def _draws(ev):
    mu, logvar = ev.inputs["mu"], ev.inputs["logvar"]
    as_array(ev.student["first"], "reparameterize(mu, logvar)", mu.shape, ev.types["first"])
    z = ev.student["z"]
    if z is None:
        raise Mistake("reparameterize returned results of different shapes on repeated calls; z must have mu's shape")
    z = as_array(z, "z", None)
    require_finite(z, "z")
    std = np.exp(0.5 * logvar)
    return z, mu, logvar, (z - mu) / std  # eps: (N, B, D), standard normal when correct


@CHECKS.check("reparameterize: over many draws z ~ N(mu, diag exp(logvar)): mean, variance, Gaussian shape, "
              "independent latent dimensions", points=3, probe="reparameterize_draws")
def reparameterize_statistics(ev):
    """Over 2,000 calls, z has mean mu and variance exp(logvar) element by element, and (z - mu) / std is N(0, 1)."""
    z, mu, logvar, eps = _draws(ev)
    n = z.shape[0]
    var = z.var(axis=0)  # (B, D)
    if np.all(var < 1e-12):
        if np.allclose(z[0], mu, atol=1e-6):
            raise Mistake("z is always equal to mu: no noise is added (z = mu + exp(logvar / 2) * eps)")
        raise Mistake("every call returns the same z: draw fresh noise on each call (do not re-seed inside reparameterize)")
    ratio = var / np.exp(logvar)  # 1 when the variance is exp(logvar)
    if np.all(np.abs(np.log(ratio / np.exp(logvar))) < 0.25):
        raise Mistake("the variance of z is exp(logvar)²: exp(logvar) is used as the standard deviation; "
                      "the standard deviation is exp(logvar / 2) (missing the ½)")
    if np.all(np.abs(np.log(ratio * np.exp(logvar))) < 0.25):
        raise Mistake("the variance of z is 1: the noise is not scaled by the standard deviation exp(logvar / 2)")
    problems = []
    if np.any(np.abs(np.log(ratio)) > 0.25):
        problems.append(f"the variance of z differs from exp(logvar) (ratio between {ratio.min():.3g} and {ratio.max():.3g})")
    if np.any(np.abs(eps.mean(axis=0)) > 6 / math.sqrt(n)):
        problems.append("the mean of z differs from mu (is the noise centred, eps ~ N(0, I)?)")
    if problems:
        raise Mistake("; ".join(problems))
    _require_gaussian(eps)
    # Within one example, the latent dimensions get independent noise.
    D = eps.shape[2]
    for b in range(eps.shape[1]):
        corr = np.corrcoef(eps[:, b, :].T) if D > 1 else np.ones((1, 1))
        if np.any(np.abs(corr - np.eye(D)) > 6 / math.sqrt(n)):
            raise Mistake("the noise is correlated across latent dimensions: eps must be drawn independently "
                          "for every element (torch.randn_like(mu))")
    return 1.0


def _require_gaussian(eps):
    """The standardised noise must be N(0, 1) in shape too, not only in its first two moments."""
    from scipy import stats

    flat = eps.ravel()
    distance = float(stats.kstest(flat, "norm").statistic)
    if distance <= KS_BAR:
        return
    kurtosis = float(stats.kurtosis(flat))
    known = {-1.2: "uniform noise (torch.rand) has -1.2", -2.0: "random signs ±1 have -2", 3.0: "Laplace noise has 3"}
    nearest = min(known, key=lambda k: abs(k - kurtosis))
    hint = f"; {known[nearest]}" if abs(nearest - kurtosis) < 0.3 else ""
    raise Mistake(f"the noise has the right mean and variance but is not Gaussian: its distribution is {distance:.3f} "
                  f"from N(0, 1) in Kolmogorov–Smirnov distance (Gaussian noise stays under {KS_BAR} over these "
                  f"{flat.size:,} draws), with excess kurtosis {kurtosis:.2f} where a Gaussian has 0{hint}. Draw eps "
                  "with torch.randn_like(mu)")


@CHECKS.check("reparameterize: independent noise for every example in the batch", points=2,
              probe="reparameterize_draws")
def reparameterize_independent(ev):
    """The noise of one example says nothing about another's (no eps shared across the batch)."""
    z, mu, logvar, eps = _draws(ev)
    n, B, D = eps.shape
    if np.all(z.var(axis=0) < 1e-12):
        raise Mistake("z has no randomness at all (see the statistics check)")
    flat = eps.transpose(0, 2, 1).reshape(n * D, B)  # columns: examples
    corr = np.corrcoef(flat.T)
    off = np.abs(corr - np.eye(B))
    if np.max(off) > 0.9:
        raise Mistake("the same noise is used for every example in the batch: draw eps with the shape of mu "
                      "(torch.randn_like(mu)), not of one example")
    if np.max(off) > 6 / math.sqrt(n * D):
        raise Mistake(f"the noise of different examples is correlated (up to {np.max(off):.2f}); "
                      "draw it independently per element")
    return 1.0


@CHECKS.check("reparameterize: differentiable, with dz/dmu = 1 and dz/dlogvar = (z - mu) / 2", points=3,
              probe="reparameterize_grad")
def reparameterize_gradients(ev):
    mu = ev.inputs["mu"]
    if not ev.student["differentiable"]:
        raise Mistake("z is not differentiable in mu and logvar: no gradient reaches the encoder. Use the "
                      "reparameterisation trick (mu + std * eps, or Normal(...).rsample(), never .sample() "
                      "or torch.normal(mu, std))")
    z = as_array(ev.student["z"], "z", mu.shape, ev.types["z"])
    problems = []
    if ev.student["mu_grad"] is None:
        problems.append("no gradient reaches mu (is it detached?)")
    else:
        mu_grad = as_array(ev.student["mu_grad"], "dz/dmu", mu.shape)
        if not close(mu_grad, np.ones_like(mu), rtol=1e-6, atol=1e-6):
            problems.append("dz/dmu should be exactly 1: " + describe_difference(mu_grad, np.ones_like(mu), "yours"))
    if ev.student["logvar_grad"] is None:
        problems.append("no gradient reaches logvar (is the standard deviation detached?)")
    else:
        logvar_grad = as_array(ev.student["logvar_grad"], "dz/dlogvar", mu.shape)
        expected = (z - mu) / 2
        if close(logvar_grad, 2 * expected, rtol=1e-5, atol=1e-6):
            problems.append("dz/dlogvar is (z - mu), not (z - mu) / 2: exp(logvar) is used as the standard "
                            "deviation; use exp(logvar / 2) (missing the ½)")
        elif not close(logvar_grad, expected, rtol=1e-5, atol=1e-6):
            problems.append("dz/dlogvar should be (z - mu) / 2: " + describe_difference(
                logvar_grad, expected, "yours", terms={"(z − mu)": z - mu, "logvar": ev.inputs["logvar"]}))
    if problems:
        raise Mistake("; ".join(problems))
    return 1.0


@CHECKS.check("every function returns a tensor with the dtype and device of its inputs (float32 and float64)",
              points=1, probe="dtypes")
def dtypes(ev):
    """The course-wide contract: computing in float64 inside is fine, but what comes back keeps the inputs' dtype."""
    hint = " (create the noise with torch.randn_like(mu), which keeps dtype and device)"
    return judge_dtypes(ev, ("reparameterize", "kl_to_standard_normal", "bernoulli_log_likelihood", "elbo"),
                        {"reparameterize": hint})


# ---------------------------------------------------------------- kl_to_standard_normal


def reference_kl(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) summed over the last dimension, via torch.distributions."""
    q = Normal(_t(mu), torch.exp(0.5 * _t(logvar)))
    return kl_divergence(q, Normal(0.0, 1.0)).sum(-1).numpy()


def _kl_variants(mu, logvar, reference):
    D = mu.shape[1]
    return {
        "the KL term has the wrong sign (KL = ½ Σ (exp(logvar) + mu² − 1 − logvar) is never negative)": -reference,
        "the KL is averaged over latent dimensions; sum it over them": reference / D,
        "the constant −1 is missing from the KL (½ Σ (exp(logvar) + mu² − 1 − logvar))": reference + 0.5 * D,
        "the factor ½ is missing from the KL": 2 * reference,
        "the KL uses exp(logvar) as the standard deviation; the variance is exp(logvar)":
            0.5 * np.sum(np.exp(2 * logvar) + mu**2 - 1 - 2 * logvar, axis=1),
        "the mu² term is missing from the KL": reference - 0.5 * np.sum(mu**2, axis=1),
        "the −logvar term is missing from the KL": reference + 0.5 * np.sum(logvar, axis=1),
    }


def _judge_kl(ev, label, rtol=1e-4, atol=1e-4):
    mu, logvar = ev.inputs[f"{label}mu"], ev.inputs[f"{label}logvar"]
    reference = reference_kl(mu, logvar)
    value = ev.student[f"{label}kl"]
    if value is None or isinstance(value, (str, list)):
        as_array(value, "kl_to_standard_normal", reference.shape, ev.types[f"{label}kl"])
    shape = np.shape(value)
    if np.size(value) == 1 and reference.size > 1:  # a 0-d scalar crosses the boundary as shape (1,)
        total = float(np.asarray(value).reshape(()))
        if np.isclose(total, reference.mean(), rtol=rtol):
            raise Mistake("the KL is averaged over the batch: return one value per example, shape (B,)")
        raise Mistake(f"kl_to_standard_normal should return shape {reference.shape}, one value per example; got a scalar")
    if shape == mu.shape and shape != reference.shape:
        raise Mistake(f"the KL has shape {shape}: sum it over the latent dimensions to get shape {reference.shape}")
    kl = as_array(value, "kl_to_standard_normal", reference.shape, ev.types[f"{label}kl"])
    require_finite(kl, "kl_to_standard_normal")
    if close(kl, reference, rtol=rtol, atol=atol):
        return 1.0
    mistake = named_mistake(kl, _kl_variants(mu, logvar, reference), rtol=rtol, atol=atol)
    if mistake:
        raise Mistake(mistake)
    terms = {"Σ exp(logvar)": np.exp(logvar).sum(1), "Σ mu²": (mu**2).sum(1), "Σ logvar": logvar.sum(1)}
    raise Mistake(describe_difference(kl, reference, "the KL", terms=terms, sizes={"D": mu.shape[1], "B": len(mu)})
                  + "; " + _tiny(ev, "kl_to_standard_normal(mu=[[0.5]], logvar=[[1.0]])",
                                 reference_kl(np.array(probes.TINY["mu"]), np.array(probes.TINY["logvar"]))))


def _tiny(ev, call, expected):
    """The smallest-case sentence, when the probe returned the tiny case's value."""
    got = ev.student.get("tiny")
    return smallest_case(call, got, expected) if got is not None and np.size(got) == np.size(expected) else ""


@CHECKS.check("kl_to_standard_normal: matches torch.distributions on random inputs", points=3, probe="kl")
def kl_values(ev):
    return _judge_kl(ev, "")


@CHECKS.check("kl_to_standard_normal: matches torch.distributions for extreme mu and logvar", points=1, probe="kl")
def kl_extreme(ev):
    """mu up to ±30, logvar from −40 to 30: exp(logvar) spans 1e-18 .. 1e13."""
    return _judge_kl(ev, "extreme_", rtol=1e-4, atol=1e-3)


@CHECKS.check("kl_to_standard_normal: shape (B,), summed over latent dimensions (also for D = 1)", points=1,
              probe="kl")
def kl_shape(ev):
    for label in ("", "one_dim_"):
        B = ev.inputs[f"{label}mu"].shape[0]
        if np.shape(ev.student[f"{label}kl"]) != (B,):
            raise Mistake(f"for mu of shape {ev.inputs[f'{label}mu'].shape} the KL should have shape ({B},); "
                          f"yours has shape {np.shape(ev.student[f'{label}kl'])}")
    return _judge_kl(ev, "one_dim_")


# ---------------------------------------------------------------- bernoulli_log_likelihood


def reference_log_likelihood(x, logits):
    """log p(x | logits) summed over the non-batch dimensions, via torch.distributions."""
    return Bernoulli(logits=_t(logits)).log_prob(_t(x)).flatten(1).sum(1).numpy()


def _judge_bernoulli(ev, label, rtol=1e-5, atol=1e-4):
    x, logits = ev.inputs[f"x_{label}"], ev.inputs[f"logits_{label}"]
    reference = reference_log_likelihood(x, logits)
    value = ev.student[label]
    if value is None or isinstance(value, (str, list)):
        as_array(value, "bernoulli_log_likelihood", reference.shape, ev.types[label])
    shape = np.shape(value)
    if np.size(value) == 1 and reference.size > 1:  # a 0-d scalar crosses the boundary as shape (1,)
        total = float(np.asarray(value).reshape(()))
        if np.isclose(total, reference.mean(), rtol=1e-4):
            raise Mistake("the log-likelihood is averaged over the batch: return one value per example, shape (B,)")
        if np.isclose(-total, reference.mean(), rtol=1e-4):
            raise Mistake("this is the batch-mean loss (negative log-likelihood): return log p(x | z) per example, shape (B,)")
        raise Mistake(f"bernoulli_log_likelihood should return shape {reference.shape}; got a scalar")
    if shape == x.shape:
        raise Mistake(f"the log-likelihood has shape {shape}: sum it over every non-batch dimension to get {reference.shape}")
    ll = as_array(value, "bernoulli_log_likelihood", reference.shape, ev.types[label])
    P = int(np.prod(x.shape[1:]))
    if label == "extreme" and not np.all(np.isfinite(ll)):
        where = " (and right for moderate logits)" if _bernoulli_right_on_moderate(ev) else ""
        raise Mistake(f"the log-likelihood is NaN or infinite for logits of ±150{where}: {NOT_FINITE_CAUSES} "
                      f"{FROM_LOGITS}")
    require_finite(ll, "bernoulli_log_likelihood")
    if close(ll, reference, rtol=rtol, atol=atol):
        return 1.0
    variants = {
        "the log-likelihood has the wrong sign: return log p(x | z) (≤ 0), not the binary cross-entropy": -reference,
        "the log-likelihood is averaged over pixels; sum it over all non-batch dimensions": reference / P,
        "the binary cross-entropy is averaged over pixels and has the wrong sign; return the log-likelihood "
        "summed over pixels": -reference / P,
    }
    mistake = named_mistake(ll, variants, rtol=1e-4, atol=1e-4)
    if mistake:
        raise Mistake(mistake)
    if label == "extreme":  # each explanation tested before it is given (autograder/checks/bernoulli.py)
        if close(ll, -nll_through_probabilities(x, logits), rtol=rtol, atol=atol):
            raise Mistake(f"wrong for confident logits (±150): your log-likelihood is minus {ON_PROBABILITIES}; "
                          f"{FROM_LOGITS}")
        difference = describe_difference(ll, reference, "for logits of ±150, the log-likelihood")
        if _bernoulli_right_on_moderate(ev):
            raise Mistake(f"right for moderate logits but wrong for confident ones: {difference}; {PRECISION_CAUSES} "
                          f"{FROM_LOGITS}")
        raise Mistake(f"{difference}; the log-likelihood is wrong for moderate logits as well (see the check of its "
                      "values), so fix that first")
    tiny = reference_log_likelihood(np.array(probes.TINY["x"]), np.array(probes.TINY["logits"]))
    raise Mistake(describe_difference(ll, reference, "the log-likelihood", sizes={"P": P, "B": len(x)}) + "; "
                  + _tiny(ev, "bernoulli_log_likelihood(x=[[1, 0]], logits=[[2, -1]])", tiny))


def _bernoulli_right_on_moderate(ev) -> bool:
    """Whether bernoulli_log_likelihood is right on the probe's inputs with moderate logits."""
    try:
        return all(_judge_bernoulli(ev, label) == 1.0 for label in ("image", "flat"))
    except Mistake:
        return False


@CHECKS.check("bernoulli_log_likelihood: matches the reference for image-shaped and flat inputs", points=3,
              probe="bernoulli")
def bernoulli_values(ev):
    problems = []
    for label in ("image", "flat"):
        try:
            _judge_bernoulli(ev, label)
        except Mistake as mistake:
            problems.append(f"{label} inputs {ev.inputs[f'x_{label}'].shape}: {mistake}")
    return Verdict((2 - len(problems)) / 2, "; ".join(problems))


@CHECKS.check("bernoulli_log_likelihood: stable for logits of ±150", points=2, probe="bernoulli")
def bernoulli_extreme(ev):
    """A loss on probabilities clamps log(0) at −100 (or returns inf/NaN) where the answer is −150."""
    return _judge_bernoulli(ev, "extreme", rtol=1e-5, atol=1e-3)


# ---------------------------------------------------------------- elbo


def _elbo_terms(ev):
    ll = reference_log_likelihood(ev.inputs["x"], ev.inputs["logits"])
    kl = reference_kl(ev.inputs["mu"], ev.inputs["logvar"])
    return ll, kl


def _swapped_log_likelihood(x, logits):
    """bernoulli_log_likelihood(logits, x): the log-likelihood formula x·l − softplus(l) with x and the logits swapped."""
    x, logits = np.asarray(x, dtype=float), np.asarray(logits, dtype=float)
    return (logits * x - np.logaddexp(0.0, x)).reshape(len(x), -1).sum(axis=1)


def _elbo_value(ev, reference):
    value = ev.student["elbo"]
    if value is None or isinstance(value, (str, list)):
        as_array(value, "elbo", reference.shape, ev.types["elbo"])
    if np.size(value) == 1 and reference.size > 1:  # a 0-d scalar crosses the boundary as shape (1,)
        total = float(np.asarray(value).reshape(()))
        if np.isclose(total, reference.mean(), rtol=1e-4) or np.isclose(-total, reference.mean(), rtol=1e-4):
            raise Mistake("the ELBO is averaged over the batch: return one value per example, shape (B,) "
                          "(the training loop takes the mean)")
        raise Mistake(f"elbo should return shape {reference.shape}, one value per example; got a scalar")
    elbo = as_array(value, "elbo", reference.shape, ev.types["elbo"])
    require_finite(elbo, "elbo")
    return elbo


@CHECKS.check("elbo: per-example log-likelihood − KL, shape (B,)", points=2, probe="elbo")
def elbo_values(ev):
    """Judged given correct terms: a mistake in bernoulli_log_likelihood or the KL costs only in their own checks."""
    return judge_given(ev, _judge_elbo_values, probes.ELBO_GIVEN, given_judge=matches_reference("elbo"))


def _judge_elbo_values(ev):
    ll, kl = _elbo_terms(ev)
    reference = ll - kl
    elbo = _elbo_value(ev, reference)
    if close(elbo, reference, rtol=1e-5, atol=1e-4):
        return 1.0
    variants = {
        "elbo returns the negative ELBO (the loss); return log-likelihood − KL": -reference,
        "the KL is added instead of subtracted: ELBO = log-likelihood − KL": ll + kl,
        "elbo returns only the log-likelihood: subtract the KL": ll,
        "elbo returns only the negative KL: add the log-likelihood": -kl,
        "elbo calls bernoulli_log_likelihood with its arguments swapped: it takes (x, logits)":
            _swapped_log_likelihood(ev.inputs["x"], ev.inputs["logits"]) - kl,
        "elbo calls kl_to_standard_normal with its arguments swapped: it takes (mu, logvar)":
            ll - reference_kl(ev.inputs["logvar"], ev.inputs["mu"]),
    }
    mistake = named_mistake(elbo, variants, rtol=1e-5, atol=1e-4)
    raise Mistake(mistake or describe_difference(elbo, reference, "the ELBO", terms={"the log-likelihood": ll, "the KL": kl},
                                                 sizes={"B": len(reference)}))


@CHECKS.check("elbo: gradients reach the logits, mu and logvar (∂/∂logits = x − σ(logits), ∂/∂mu = −mu, "
              "∂/∂logvar = (1 − exp(logvar)) / 2)", points=1, probe="elbo")
def elbo_gradients(ev):
    """What trains the decoder and the encoder; judged given correct terms, like the values."""
    return judge_given(ev, _judge_elbo_gradients, probes.ELBO_GIVEN,
                       given_judge=matches_reference("logits_grad", "mu_grad", "logvar_grad", what="the ELBO's gradient"))


def _judge_elbo_gradients(ev):
    x, logits = ev.inputs["x"], ev.inputs["logits"]
    mu, logvar = ev.inputs["mu"], ev.inputs["logvar"]
    expected = {"logits": x - 1 / (1 + np.exp(-logits)), "mu": -mu, "logvar": 0.5 * (1 - np.exp(logvar))}
    problems = []
    for name, want in expected.items():
        got = ev.student.get(f"{name}_grad")
        if got is None:
            problems.append(f"no gradient reaches {name} (is the result detached, or computed with NumPy / .item()?)")
            continue
        got = as_array(got, f"the gradient of the ELBO w.r.t. {name}", want.shape)
        if close(got, want, rtol=1e-4, atol=1e-5):
            continue
        named = named_mistake(got, {"the gradient has the wrong sign: is the loss (−ELBO) returned?": -want,
                                    "the gradient is 1/B of the expected: the ELBO is averaged over the batch":
                                        want / x.shape[0]}, rtol=1e-4, atol=1e-6)
        problems.append(f"∂ELBO/∂{name}: {named}" if named else
                        describe_difference(got, want, f"∂ELBO/∂{name}", sizes={"B": x.shape[0]}))
    if problems:
        raise Mistake("; ".join(dict.fromkeys(problems)))
    return 1.0


# ---------------------------------------------------------------- training smoke test


@dataclass(frozen=True)
class HeldOut:
    """Held-out bounds of a trained VAE, nats per image."""

    negative_elbo: float
    iw_nll: float  # importance-weighted negative log-likelihood (a tighter bound)
    kl: float  # mean KL(q(z|x) || p(z)): ≈ 0 when the posterior has collapsed onto the prior


def evaluate_vae(model, images, samples=IW_SAMPLES, seed=0) -> HeldOut:
    """Held-out negative ELBO, importance-weighted NLL and KL, nats per image, computed with trusted code only."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (B, D)
        std = torch.exp(0.5 * logvar)
        z = mu + std * torch.randn((samples, *mu.shape), generator=generator)  # (S, B, D)
        logits = model.decode(z.reshape(-1, mu.shape[1])).view(samples, *x.shape)  # (S, B, C, H, W)
        log_px = Bernoulli(logits=logits, validate_args=False).log_prob(x.expand_as(logits)).flatten(2).sum(-1)  # (S, B)
        q = Normal(mu, std, validate_args=False)  # a broken training run may leave std at 0 or inf
        prior = Normal(torch.zeros_like(mu), torch.ones_like(mu), validate_args=False)
        log_w = log_px + prior.log_prob(z).sum(-1) - q.log_prob(z).sum(-1)  # (S, B)
        kl = kl_divergence(q, prior).sum(-1)  # (B,)
        negative_elbo = -(log_px.mean(0) - kl).mean()
        iw_nll = -(torch.logsumexp(log_w, 0) - math.log(samples)).mean()
    return HeldOut(float(negative_elbo), float(iw_nll), float(kl.mean()))


@CHECKS.check("training smoke test: the course VAE trained with your reparameterize and elbo fits held-out digits",
              points=3, probe="train")
def training_smoke_test(ev):
    """Judged given correct pieces: where one of the student's functions behaves differently from the reference's,
    the probe also trained with the reference's in its place, so a mistake costs only in that function's checks."""
    return judge_given(ev, _judge_training, probes.SMOKE_GIVEN)


def _judge_training(ev):
    from genmodels.data import digits
    from genmodels.vae import VAEConfig, load_layer_weights, new_model

    weights = {key: np.asarray(value) for key, value in ev.student.items() if value is not None}
    for key, value in weights.items():
        require_finite(value, f"trained weight {key}", " — training diverged (check the signs and the KL)")
    try:
        model = load_layer_weights(new_model(VAEConfig()), weights)
    except (ValueError, TypeError) as error:
        raise Mistake(f"the trained weights came back malformed ({error})") from None
    try:
        held_out = evaluate_vae(model, digits().test)
    except (ValueError, RuntimeError) as error:  # never let a broken model crash the grader
        raise Mistake(f"the trained VAE cannot be evaluated ({type(error).__name__}): training diverged") from None
    if not (math.isfinite(held_out.negative_elbo) and math.isfinite(held_out.iw_nll)):
        raise Mistake("the trained VAE gives NaN or infinite held-out bounds: training diverged")
    report = (f"after {probes.SMOKE_STEPS} steps: held-out negative ELBO {held_out.negative_elbo:.2f} nats "
              f"(pass ≤ {BAR_NEGATIVE_ELBO:g}), importance-weighted NLL {held_out.iw_nll:.2f} nats "
              f"(pass ≤ {BAR_IW_NLL:g}), KL {held_out.kl:.2f} nats")
    passed = (held_out.negative_elbo <= BAR_NEGATIVE_ELBO) + (held_out.iw_nll <= BAR_IW_NLL)
    if passed == 2:
        return Verdict(1.0, "")
    if held_out.kl < COLLAPSED_KL:
        return Verdict(passed / 2, f"the posterior has collapsed ({report}): q(z | x) equals the prior for every x, "
                                   "so the decoder ignores z and the model is no better than independent pixels "
                                   "(about 25.2 nats). Does the gradient reach the encoder through z "
                                   "(reparameterize differentiable), and is the KL weighted like the log-likelihood?")
    return Verdict(passed / 2, f"the VAE trained with your functions fits held-out digits poorly ({report}); "
                               "the reference reaches about 20.5 nats in this budget")

"""Figures and tables of the evaluation lecture, computed from the course's own models: the
independent-Bernoulli baseline, the VAE (genmodels/vae.py with the reference ELBO and IWAE bound),
the PixelCNN (genmodels/pixelcnn.py with the reference masks and sampler), the MLP GAN and
DCGAN of the GAN lecture, a dequantised flow (genmodels/flows.py with the reference coupling) and a
DDPM (genmodels/diffusion.py with the reference loss and sampler), all trained and cached by
autograder/site/trained.py. Everything is
measured on the 359 held-out binarised digits of genmodels.data.digits().

Other lectures' models join the tables by adding a row function to LIKELIHOOD_ROWS (a model with a
likelihood or a bound) or to SAMPLERS (any model that samples); see the notes' section on flows and
diffusion.
"""

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import logsumexp
import torch

from autograder.site import trained as course_models
from genmodels.data import digits

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["lectures/09-evaluation/figures.py", "genmodels/vae.py", "genmodels/pixelcnn.py", "genmodels/gan.py",
           "genmodels/flows.py", "genmodels/diffusion.py", "solutions/vae/vae.py", "solutions/iwae/iwae.py",
           "solutions/pixelcnn/pixelcnn.py", "solutions/gan/gan.py", "solutions/dcgan/dcgan.py",
           "solutions/flows/flows.py", "solutions/diffusion/diffusion.py"]
D = 64  # pixels per digit
IWAE_K = 1000  # importance samples for the VAE's log-likelihood estimate
SAMPLE_SEED = 0


def held_out() -> torch.Tensor:
    return torch.as_tensor(digits().test)  # (359, 1, 8, 8) in {0, 1}


# --- likelihoods: one function per row, returning (model, kind, per-image log-likelihoods in nats) ----------

def uniform_row():
    x = held_out()
    return "uniform (every image equally likely)", "exact", np.full(len(x), -D * math.log(2))


def bernoulli_row():
    theta = torch.as_tensor(course_models.pixel_marginals())  # (1, 8, 8)
    x = held_out()
    log_p = (x * torch.log(theta) + (1 - x) * torch.log1p(-theta)).flatten(1).sum(1)  # (N,)
    return "independent Bernoulli pixels", "exact", log_p.numpy()


def vae_elbo_row():
    model = course_models.vae(ROOT)
    with torch.no_grad():  # the ELBO is an expectation over q: average many one-sample estimates
        bound = torch.stack([course_models.vae_bound(ROOT, model, held_out(), k=1, seed=s) for s in range(16)]).mean(0)
    return "VAE, ELBO", "lower bound", bound.numpy()


def vae_iwae_row():
    model = course_models.vae(ROOT)
    bound = course_models.vae_bound(ROOT, model, held_out(), k=IWAE_K, seed=1)
    return f"VAE, importance-weighted (k = {IWAE_K})", "estimate (a bound in expectation)", bound.numpy()


def pixelcnn_row():
    model = course_models.pixelcnn(ROOT)
    x = held_out()
    with torch.no_grad():
        nll = torch.nn.functional.binary_cross_entropy_with_logits(model(x), x, reduction="none")
    return "PixelCNN", "exact", -nll.flatten(1).sum(1).numpy()


def flow_row():
    layers = course_models.digit_flow(ROOT)
    bound = course_models.flow_bound(ROOT, layers, held_out().reshape(-1, D))
    return "flow (8 affine couplings), dequantised", "lower bound (uniform dequantisation)", bound.numpy()


def diffusion_bound_terms():
    """(N, T + 1) terms of the DDPM's negative ELBO on the held-out digits (see trained.diffusion_bound_terms)."""
    model, betas = course_models.digit_diffusion(ROOT)
    return course_models.diffusion_bound_terms(ROOT, model, held_out().reshape(-1, D) * 2 - 1, betas)


def diffusion_row():
    terms = _diffusion_terms()["terms"]
    return "DDPM (MLP denoiser), ELBO", "lower bound", -terms.sum(1)


LIKELIHOOD_ROWS = [uniform_row, bernoulli_row, vae_elbo_row, vae_iwae_row, pixelcnn_row, flow_row, diffusion_row]


def _diffusion_terms():
    return course_models.cached_arrays(ROOT, "evaluation-diffusion-terms", SOURCES, "terms",
                                       lambda: {"terms": diffusion_bound_terms()})


def table_diffusion_bound():
    """Where the DDPM's negative ELBO comes from, in nats per held-out image."""
    terms = _diffusion_terms()["terms"].mean(0)  # (T + 1,): L_T, L_0, then steps 1 .. T - 1
    T = len(terms) - 1
    _, betas = course_models.digit_diffusion(ROOT)
    ab = torch.cumprod(1 - betas.double(), 0)
    ratio = ((1 - ab[:-1]) / (1 - ab[1:])).numpy()  # posterior variance / beta at steps 1 .. T - 1
    fixed_variance = 0.5 * D * float(np.sum(ratio - 1 - np.log(ratio)))  # the part no network can remove
    parts = [("prior term L_T", terms[0]), ("decoder L_0", terms[1]), ("steps 1-10 (least noise)", terms[2:12].sum()),
             (f"steps 11-{T - 1}", terms[12:].sum()), ("of these, the fixed variances σ² = β", fixed_variance)]
    lines = ["| part of the bound | nats per image |", "|---|---:|"]
    lines += [f"| {name} | {value:.1f} |" for name, value in parts]
    lines.append(f"| **total** | **{terms.sum():.1f}** |")
    return "\n".join(lines) + "\n"


def _likelihoods():
    rows = [row() for row in LIKELIHOOD_ROWS]
    return {"names": [name for name, _, _ in rows], "kinds": [kind for _, kind, _ in rows],
            "mean": [float(np.mean(values)) for _, _, values in rows],
            "sem": [float(np.std(values) / np.sqrt(len(values))) for _, _, values in rows]}


def likelihoods():
    return course_models.cached_arrays(ROOT, "evaluation-likelihoods", SOURCES, IWAE_K, _likelihoods)


def table_likelihoods():
    """Held-out negative log-likelihood of each course model, in nats per image and bits per dimension."""
    rows = likelihoods()
    lines = ["| model | what is computed | nats per image | bits per dimension |", "|---|---|---:|---:|"]
    for name, kind, mean, sem in zip(rows["names"], rows["kinds"], rows["mean"], rows["sem"]):
        lines.append(f"| {name} | {kind} | {-mean:.2f} ± {sem:.2f} | {-mean / (D * math.log(2)):.3f} |")
    return "\n".join(lines) + "\n"


# --- samples: one function per model, returning (n, 1, 8, 8) binary images ---------------------------------

def bernoulli_samples(n, seed):
    theta = torch.as_tensor(course_models.pixel_marginals())
    return torch.bernoulli(theta.expand(n, 1, 8, 8), generator=torch.Generator().manual_seed(seed))


def vae_samples(n, seed):
    model = course_models.vae(ROOT)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        probs = torch.sigmoid(model.decode(torch.randn(n, model.config.z_dim, generator=generator)))
    return torch.bernoulli(probs, generator=generator)  # real samples of p(x | z), not pixel probabilities


def pixelcnn_samples(n, seed):
    torch.manual_seed(seed)
    return course_models.solution(ROOT, "pixelcnn").sample(course_models.pixelcnn(ROOT), n, (1, 8, 8))


def _binarise_gan(images):
    """GAN outputs in [-1, 1] -> binary images, with the course's binarisation (grey level >= 1/2)."""
    return (torch.as_tensor(np.asarray(images)).reshape(-1, 1, 8, 8) >= 0).float()


def mlp_gan_samples(n, seed):
    from genmodels import gan

    generator = course_models.digit_gan(ROOT)
    return _binarise_gan(gan.sample(generator, n, course_models.DigitGAN().z_dim, seed=seed))


def dcgan_samples(n, seed):
    generator, _ = course_models.dcgan(ROOT)
    z = torch.randn(n, course_models.DCGANBudget().z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return _binarise_gan(generator(z))


def training_digits(n, seed):
    train = torch.as_tensor(digits().train)
    return train[torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n]]


def flow_samples(n, seed):
    torch.manual_seed(seed)
    y = course_models.solution(ROOT, "flows").flow_sample(list(course_models.digit_flow(ROOT)), n, D)
    return torch.floor(y).clamp(0, 1).reshape(n, 1, 8, 8)  # the integer part undoes the dequantisation


def diffusion_samples(n, seed):
    model, betas = course_models.digit_diffusion(ROOT)
    torch.manual_seed(seed)
    x = course_models.solution(ROOT, "diffusion").ddpm_sample(model, n, (D,), betas)
    return (x > 0).float().reshape(n, 1, 8, 8)  # the model works in {-1, 1}


SAMPLERS = {"training digits (real)": training_digits, "independent Bernoulli": bernoulli_samples,
            "VAE": vae_samples, "PixelCNN": pixelcnn_samples, "MLP GAN": mlp_gan_samples, "DCGAN": dcgan_samples,
            "flow": flow_samples, "DDPM": diffusion_samples}


# --- sample-based metrics ---------------------------------------------------------------------------------

def classifier_outputs(images):
    """(features (N, H), class probabilities (N, 10)) of the course's digit classifier."""
    classifier = course_models.digit_classifier(ROOT)
    with torch.no_grad():
        features = classifier.features(images)
        return features.numpy().astype(np.float64), torch.softmax(classifier.head(features), 1).numpy()


def inception_score(probs):
    """exp(E_x KL(p(y|x) || p(y))): between 1 and the number of classes."""
    marginal = probs.mean(0, keepdims=True)
    return float(np.exp(np.mean(np.sum(probs * (np.log(probs + 1e-12) - np.log(marginal + 1e-12)), axis=1))))


def frechet_distance(a, b):
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two feature sets."""
    from scipy.linalg import sqrtm

    mu_a, mu_b = a.mean(0), b.mean(0)
    ridge = 1e-6 * np.eye(a.shape[1])  # dead ReLU features make the covariances singular
    s_a, s_b = np.cov(a, rowvar=False) + ridge, np.cov(b, rowvar=False) + ridge
    root = sqrtm(s_a @ s_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * root))


def precision_recall(real, fake, k=3):
    """k-NN precision and recall (Kynkäänniemi et al., 2019): the share of fake points inside the union
    of real k-NN balls, and of real points inside the union of fake k-NN balls."""
    def radii(points):
        distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
        return np.sort(distances, axis=1)[:, k]  # distance to the k-th neighbour (index 0 is the point)

    def coverage(reference, queries):
        distances = np.linalg.norm(queries[:, None] - reference[None], axis=-1)  # (Q, R)
        return float(np.mean(np.any(distances <= radii(reference)[None], axis=1)))

    return coverage(real, fake), coverage(fake, real)


def two_sample_accuracy(real, fake, seed=0):
    """Held-out accuracy of a logistic regression telling real from generated images (5-fold): 0.5 = indistinguishable."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    x = np.concatenate([real.reshape(len(real), -1), fake.reshape(len(fake), -1)])
    y = np.concatenate([np.ones(len(real)), np.zeros(len(fake))])
    order = np.random.default_rng(seed).permutation(len(x))
    return float(cross_val_score(LogisticRegression(C=1.0, max_iter=2000), x[order], y[order], cv=5).mean())


def _sample_metrics():
    real = held_out()
    real_features, _ = classifier_outputs(real)
    result = {"names": list(SAMPLERS), "is": [], "fd": [], "precision": [], "recall": [], "c2st": []}
    for name, sampler in SAMPLERS.items():
        fake = sampler(len(real), SAMPLE_SEED)
        features, probs = classifier_outputs(fake)
        precision, recall = precision_recall(real_features, features)
        result["is"].append(inception_score(probs))
        result["fd"].append(frechet_distance(real_features, features))
        result["precision"].append(precision)
        result["recall"].append(recall)
        result["c2st"].append(two_sample_accuracy(real.numpy(), fake.numpy()))
    return result


def sample_metrics():
    return course_models.cached_arrays(ROOT, "evaluation-samples", SOURCES, list(SAMPLERS), _sample_metrics)


def table_samples():
    """Sample-based metrics of every course model against the held-out digits."""
    m = sample_metrics()
    lines = ["| samples (359 each) | Inception-style score ↑ | Fréchet distance ↓ | precision ↑ | recall ↑ | "
             "two-sample accuracy (0.5 best) |", "|---|---:|---:|---:|---:|---:|"]
    for i, name in enumerate(m["names"]):
        lines.append(f"| {name} | {m['is'][i]:.2f} | {m['fd'][i]:.1f} | {m['precision'][i]:.2f} | "
                     f"{m['recall'][i]:.2f} | {m['c2st'][i]:.2f} |")
    return "\n".join(lines) + "\n"


# --- figures -------------------------------------------------------------------------------------------------

def fig_samples():
    """Samples of every course model next to held-out digits: which looks best?"""
    fig, axes = plt.subplots(len(SAMPLERS), 12, figsize=(8, 0.75 * len(SAMPLERS) + 0.3))
    for row, (name, sampler) in enumerate(SAMPLERS.items()):
        images = sampler(12, seed=5)[:, 0].numpy()
        for col, ax in enumerate(axes[row]):
            ax.imshow(images[col], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.subplots_adjust(left=0.2, wspace=0.1, hspace=0.1)
    return fig


def fig_likelihoods():
    """The held-out likelihood table as bars, with the kind of each number."""
    rows = likelihoods()
    colours = {"exact": "#2a6f97", "lower bound": "#c8a200"}
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows["names"]) + 1.2))
    names, values = rows["names"], [-m for m in rows["mean"]]
    limit = 1.25 * sorted(values)[-2] if len(values) > 1 else 1.12 * max(values)  # one loose bound may run off
    ax.barh(names, [min(v, limit) for v in values],
            color=[colours.get(k.split(" (")[0], "#8e6c8a") for k in rows["kinds"]])
    for y, value in enumerate(values):
        ax.text(min(value, limit) + 0.3, y, f"{value:.2f}" + (" (off the scale)" if value > limit else ""),
                va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("held-out negative log-likelihood, nats per image (lower is better)")
    ax.set_title("blue: exact; gold: a lower bound on log p (an upper bound on the NLL); purple: an estimate", fontsize=9)
    ax.set_xlim(0, limit * 1.25)
    fig.tight_layout()
    return fig


def _mixture_with_noise():
    """Log-likelihoods of the PixelCNN and of 1 % PixelCNN + 99 % uniform noise (Theis et al., 2016)."""
    model = course_models.pixelcnn(ROOT)
    x = held_out()
    with torch.no_grad():
        log_p = -torch.nn.functional.binary_cross_entropy_with_logits(model(x), x, reduction="none").flatten(1).sum(1)
    noise = torch.full_like(log_p, -D * math.log(2))
    mixture = torch.logsumexp(torch.stack([math.log(0.01) + log_p, math.log(0.99) + noise]), 0)
    return {"pixelcnn": float(log_p.mean()), "mixture": float(mixture.mean())}


def fig_likelihood_vs_samples():
    """A model that is 99 % noise loses at most log 100 = 4.6 nats per image: likelihood and samples disagree."""
    values = course_models.cached_arrays(ROOT, "evaluation-mixture", SOURCES, "1% pixelcnn", _mixture_with_noise)
    good = pixelcnn_samples(20, seed=3)[:, 0].numpy()
    noise = torch.bernoulli(torch.full((20, 8, 8), 0.5), generator=torch.Generator().manual_seed(3)).numpy()
    pick = np.random.default_rng(3).random(20) < 0.01  # which samples of the mixture come from the PixelCNN
    mixture = np.where(pick[:, None, None], good, noise)
    fig, axes = plt.subplots(2, 20, figsize=(11, 1.9))
    for row, (images, label) in enumerate(((good, f"PixelCNN: {-float(values['pixelcnn']):.1f} nats"),
                                           (mixture, f"0.01 PixelCNN + 0.99 noise: {-float(values['mixture']):.1f} nats"))):
        for ax, image in zip(axes[row], images):
            ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
            ax.set_axis_off()
        axes[row, 0].set_title(label, fontsize=9, loc="left")
    fig.subplots_adjust(hspace=0.45, wspace=0.08)
    return fig


def _parzen():
    """Parzen-window log-likelihood of held-out digits under samples, against the bandwidth."""
    real = held_out().flatten(1).numpy().astype(np.float64)
    sets = {"training digits as 'samples'": training_digits(1000, 1), "VAE samples": vae_samples(1000, 1),
            "PixelCNN samples": pixelcnn_samples(1000, 1), "independent Bernoulli": bernoulli_samples(1000, 1)}
    widths = np.logspace(-1, 0.3, 14)
    curves = {}
    for name, samples in sets.items():
        centres = samples.flatten(1).numpy().astype(np.float64)
        d2 = ((real[:, None] - centres[None]) ** 2).sum(-1)  # (N, S)
        curves[name] = [float(np.mean(logsumexp(-d2 / (2 * h * h), axis=1) - math.log(len(centres))
                                      - 0.5 * D * math.log(2 * math.pi * h * h))) for h in widths]
    return {"widths": widths, "names": list(curves), "values": [curves[n] for n in curves]}


def fig_parzen():
    """Parzen-window estimates on 64 binary pixels: they rank a copy of the training set first."""
    data = course_models.cached_arrays(ROOT, "evaluation-parzen", SOURCES, "1000 samples", _parzen)
    fig, ax = plt.subplots(figsize=(6.8, 3.4))
    for name, values in zip(data["names"], data["values"]):
        ax.plot(data["widths"], values, marker="o", ms=3, label=str(name))
    exact = likelihoods()
    ax.axhline(exact["mean"][-1], color="#555", ls=":", label="PixelCNN, exact log-likelihood")
    ax.set_xscale("log")
    ax.set_xlabel("Parzen bandwidth h")
    ax.set_ylabel("held-out log-likelihood, nats")
    ax.set_ylim(bottom=-90)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _fd_bias():
    """Fréchet distance between two disjoint sets of real digits, as the number of samples grows."""
    split = digits()
    everything = torch.as_tensor(np.concatenate([split.train, split.test]))
    features, _ = classifier_outputs(everything)
    rng = np.random.default_rng(0)
    sizes = [50, 100, 200, 400, 800]
    values = []
    for n in sizes:
        runs = []
        for _ in range(5):
            order = rng.permutation(len(features))
            runs.append(frechet_distance(features[order[:n]], features[order[n:2 * n]]))
        values.append(runs)
    return {"sizes": sizes, "values": values}


def fig_fd_bias():
    """FD is biased upward for small samples: two halves of the same real data are 'far apart'."""
    data = course_models.cached_arrays(ROOT, "evaluation-fd-bias", SOURCES, "5 runs", _fd_bias)
    values = np.asarray(data["values"])
    fig, ax = plt.subplots(figsize=(6, 3.1))
    ax.errorbar(data["sizes"], values.mean(1), yerr=values.std(1), marker="o", color="#c0392b", capsize=3)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(data["sizes"], [str(s) for s in data["sizes"]])
    ax.set_xlabel("samples in each set")
    ax.set_ylabel("Fréchet distance")
    ax.set_title("two disjoint sets of real digits: the true distance is 0", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def fig_precision_recall():
    """k-NN precision and recall on the ring of 8 Gaussians, for a collapsed and a blurry generator."""
    from genmodels.data import ring_of_gaussians

    real = ring_of_gaussians(600, std=0.1, seed=0).astype(np.float64)
    rng = np.random.default_rng(1)
    collapsed = ring_of_gaussians(600, std=0.1, seed=2).astype(np.float64)
    collapsed = collapsed[np.arctan2(collapsed[:, 1], collapsed[:, 0]) > 1.0]  # keeps 3 of the 8 modes
    blurry = ring_of_gaussians(600, std=0.45, seed=3).astype(np.float64)
    generators = {"collapsed: 3 of 8 modes": collapsed, "blurry: all modes, too wide": blurry,
                  "good": ring_of_gaussians(600, std=0.1, seed=4).astype(np.float64) + 0.02 * rng.normal(size=(600, 2))}
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.7), sharex=True, sharey=True)
    for ax, (name, fake) in zip(axes, generators.items()):
        precision, recall = precision_recall(real, fake)
        ax.scatter(*real.T, s=3, color="#173f5f", label="data")
        ax.scatter(*fake.T, s=3, color="#c0392b", alpha=0.6, label="generator")
        ax.set_title(f"{name}\nprecision {precision:.2f}, recall {recall:.2f}", fontsize=10)
        ax.set_aspect("equal")
        ax.set_xticks([]), ax.set_yticks([])
    axes[0].legend(frameon=False, fontsize=8, loc="center")
    fig.tight_layout()
    return fig

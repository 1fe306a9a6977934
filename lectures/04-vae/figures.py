"""Figures of lecture 4 (autoencoders, the Bayesian view and VAEs), made with the course VAE
(genmodels/vae.py), the reference losses and bounds (solutions/vae, solutions/iwae,
solutions/autoencoder), trained on the real digits. Slow results are cached under build/."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from autograder.site import trained as course_models
from genmodels.data import digits

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["lectures/04-vae/figures.py", "genmodels/vae.py", "solutions/vae/vae.py",
           "solutions/iwae/iwae.py", "solutions/autoencoder/autoencoder.py"]
STEPS, BATCH, LR = 300, 64, 3e-3  # the course VAE's budget (genmodels.vae.TrainConfig), for the extra models


def _solution(name):
    return course_models.solution(ROOT, name)


def trained(z_dim=16):
    """The course VAE after its fixed training budget (genmodels.vae.TrainConfig) with the reference ELBO."""
    return course_models.vae(ROOT, z_dim)


def _grid(ax_rows, images):
    for ax, image in zip(ax_rows, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()


def _mlp(sizes, last=None):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _train_autoencoder(code, linear=False, corrupt=0.0, seed=0):
    """An autoencoder 64 -> code -> 64 trained with the reference reconstruction loss; with
    corrupt > 0 a denoising one (that share of input pixels flipped). Returns (encoder, decoder)."""
    loss_fn = _solution("autoencoder").reconstruction_loss
    torch.manual_seed(seed)
    sizes = [64, code] if linear else [64, 128, code]
    encoder, decoder = _mlp(sizes), _mlp(sizes[::-1])
    data = torch.as_tensor(digits().train).flatten(1)  # (N, 64)
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=LR)
    order = torch.Generator().manual_seed(seed)
    for _ in range(STEPS):
        x = data[torch.randint(len(data), (BATCH,), generator=order)]  # (B, 64)
        flips = (torch.rand(x.shape, generator=order) < corrupt).float()
        noisy = (x + flips) % 2  # flip the chosen pixels
        loss = loss_fn(x, decoder(encoder(noisy)))  # reconstruct the clean image
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return encoder.eval(), decoder.eval()


CODES = [2, 4, 8, 16]


def _autoencoder_errors():
    """Held-out reconstruction errors (pixels wrong per image) of PCA and of a nonlinear autoencoder."""
    split = digits()
    train, test = split.train.reshape(len(split.train), -1), split.test.reshape(len(split.test), -1)
    mean = train.mean(axis=0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    result = {"pca": [], "nonlinear": []}
    x = torch.as_tensor(test)
    for code in CODES:
        projected = (test - mean) @ vt[:code].T @ vt[:code] + mean  # (N, 64): PCA reconstruction
        result["pca"].append(np.mean(np.sum((projected > 0.5) != (test > 0.5), axis=1)))
        encoder, decoder = _train_autoencoder(code, linear=False)
        with torch.no_grad():
            guess = (decoder(encoder(x)) > 0).numpy()
        result["nonlinear"].append(np.mean(np.sum(guess != (test > 0.5), axis=1)))
    return result


def fig_autoencoders():
    """Reconstruction errors on held-out digits against the code size: PCA and a nonlinear autoencoder."""
    errors = course_models.cached_arrays(ROOT, "vae-autoencoders", SOURCES, CODES, _autoencoder_errors)
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    styles = {"pca": ("PCA: the best linear code (a linear autoencoder's optimum)", "#777", "--"),
              "nonlinear": ("autoencoder, 128 ReLU units, reference loss", "#c0392b", "-")}
    for name, (label, colour, line) in styles.items():
        ax.plot(CODES, errors[name], marker="o", ms=4, color=colour, ls=line, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(CODES, [str(c) for c in CODES])
    ax.set_xlabel("code size")
    ax.set_ylabel("wrong pixels per held-out digit")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _denoised():
    encoder, decoder = _train_autoencoder(16, linear=False, corrupt=0.15)
    x = torch.as_tensor(digits().test[:12]).flatten(1)  # (12, 64)
    flips = (torch.rand(x.shape, generator=torch.Generator().manual_seed(1)) < 0.15).float()
    noisy = (x + flips) % 2
    with torch.no_grad():
        clean = torch.sigmoid(decoder(encoder(noisy)))
    return {"x": x.numpy(), "noisy": noisy.numpy(), "clean": clean.numpy()}


def fig_denoising():
    """A denoising autoencoder on held-out digits with 15 % of the pixels flipped."""
    images = course_models.cached_arrays(ROOT, "vae-denoising", SOURCES, "flip 0.15", _denoised)
    fig, axes = plt.subplots(3, 12, figsize=(9, 2.5))
    for row, name in enumerate(("noisy", "clean", "x")):
        _grid(axes[row], images[name].reshape(-1, 8, 8))
    fig.suptitle("input with 15 % of pixels flipped (top), denoised (middle), original (bottom)", fontsize=9)
    return fig


def fig_estimators():
    """Two unbiased estimators of d/dmu E_{z ~ N(mu, 1)}[z^2] = 2 mu: their spread from one sample."""
    rng = np.random.default_rng(0)
    mus = np.linspace(-2, 2, 9)
    eps = rng.standard_normal((20000, 1))
    z = mus[None] + eps  # (S, 9)
    score = z**2 * (z - mus[None])  # f(z) d/dmu log q(z): the score-function (REINFORCE) estimator
    reparam = 2 * z  # d/dmu f(mu + eps): the reparameterisation estimator
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    ax.plot(mus, score.std(0), marker="o", ms=4, color="#c0392b", label="score function: $z^2 (z - \\mu)$")
    ax.plot(mus, reparam.std(0), marker="o", ms=4, color="#2a6f97", label="reparameterisation: $2(\\mu + \\epsilon)$")
    ax.plot(mus, np.sqrt(mus**4 + 14 * mus**2 + 15), color="#c0392b", lw=0.8, ls=":")
    ax.set_xlabel(r"$\mu$")
    ax.set_ylabel("standard deviation of one sample")
    ax.set_title(r"both estimate $2\mu$; dotted: $\sqrt{\mu^4 + 14\mu^2 + 15}$", fontsize=10)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def fig_reconstructions():
    """Held-out digits (top) and the decoder's pixel probabilities at the encoder mean (bottom)."""
    model = trained()
    x = torch.as_tensor(digits().test[:16])  # (16, 1, 8, 8)
    with torch.no_grad():
        mu, _ = model.encode(x)
        recon = torch.sigmoid(model.decode(mu))[:, 0].numpy()  # (16, 8, 8)
    fig, axes = plt.subplots(2, 16, figsize=(10, 1.6))
    _grid(axes[0], x[:, 0].numpy())
    _grid(axes[1], recon)
    fig.suptitle("held-out digits (top) and reconstructions p(x | z = mu(x)) (bottom)", fontsize=9)
    return fig


def fig_samples():
    """Decoder probabilities for z drawn from the prior N(0, I)."""
    model = trained()
    torch.manual_seed(0)
    with torch.no_grad():
        probs = torch.sigmoid(model.decode(torch.randn(48, model.config.z_dim)))[:, 0].numpy()  # (48, 8, 8)
    fig, axes = plt.subplots(3, 16, figsize=(10, 2.1))
    _grid(axes.flat, probs)
    fig.suptitle("samples: z ~ N(0, I), pixel probabilities of p(x | z)", fontsize=9)
    return fig


def fig_latent_space():
    """A VAE with a 2-D latent space: encoder means of held-out digits, coloured by label."""
    model = trained(z_dim=2)
    split = digits()
    with torch.no_grad():
        mu, _ = model.encode(torch.as_tensor(split.test))  # (N, 2)
        grid = torch.linspace(-2.5, 2.5, 9)
        z = torch.stack(torch.meshgrid(grid, -grid, indexing="xy"), dim=-1).reshape(-1, 2)  # (81, 2)
        tiles = torch.sigmoid(model.decode(z))  # (81, 1, 8, 8), row by row from the top left
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
    points = axes[0].scatter(*mu.numpy().T, c=split.test_labels, cmap="tab10", s=10)
    axes[0].legend(*points.legend_elements(), fontsize=7, ncol=2, frameon=False, loc="upper right")
    axes[0].set_title("encoder means of held-out digits")
    from torchvision.utils import make_grid

    mosaic = make_grid(tiles, nrow=9, padding=1, pad_value=0.0)[0].numpy()  # (82, 82)
    axes[1].imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, extent=(-2.8, 2.8, -2.8, 2.8))
    axes[1].set_title("decoder over a grid of z")
    fig.tight_layout()
    return fig


def fig_active_units():
    """KL to the prior per latent dimension on held-out digits: unused dimensions have collapsed."""
    model = trained()
    ref = _solution("vae")
    x = torch.as_tensor(digits().test)
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (N, D)
        per_dim = 0.5 * (logvar.exp() + mu**2 - 1 - logvar).mean(0).numpy()  # (D,)
        total = float(ref.kl_to_standard_normal(mu, logvar).mean())
        activity = mu.var(0).numpy()  # Cov_x E_q[z_u]: Burda et al.'s "active units" (> 0.01)
    order = np.argsort(per_dim)[::-1]
    fig, ax = plt.subplots(figsize=(7, 3.1))
    colours = ["#2a6f97" if activity[u] > 0.01 else "#bbb" for u in order]
    ax.bar(np.arange(len(order)), per_dim[order], color=colours)
    ax.set_xticks(np.arange(len(order)), [str(u) for u in order], fontsize=8)
    ax.set_xlabel("latent dimension (sorted); grey: inactive, variance of the encoder mean < 0.01")
    ax.set_ylabel("mean KL, nats")
    ax.set_title(f"{int(np.sum(activity > 0.01))} of {len(order)} dimensions active; total KL {total:.1f} nats", fontsize=10)
    fig.tight_layout()
    return fig


BETAS = [0.25, 0.5, 1.0, 2.0, 4.0]


def _rate_distortion():
    """Held-out distortion -E_q log p(x|z) and rate KL(q||p) of VAEs trained on D + beta * R."""
    from genmodels import vae

    ref = _solution("vae")
    x = torch.as_tensor(digits().test)
    rates, distortions = [], []
    for beta in BETAS:
        def objective(batch, logits, mu, logvar, beta=beta):  # the beta-VAE objective, to maximise
            return ref.bernoulli_log_likelihood(batch, logits) - beta * ref.kl_to_standard_normal(mu, logvar)

        model = vae.train_vae(vae.new_model(vae.VAEConfig(), seed=0), digits().train, ref.reparameterize, objective,
                              vae.TrainConfig())
        with torch.no_grad():
            torch.manual_seed(0)
            logits, mu, logvar = model(x, ref.reparameterize)
            distortions.append(float(-ref.bernoulli_log_likelihood(x, logits).mean()))
            rates.append(float(ref.kl_to_standard_normal(mu, logvar).mean()))
    return {"rate": rates, "distortion": distortions}


def fig_rate_distortion():
    """Rate against distortion on held-out digits for beta-VAEs: lines of constant ELBO are diagonals."""
    points = course_models.cached_arrays(ROOT, "vae-rate-distortion", SOURCES, BETAS, _rate_distortion)
    rate, distortion = points["rate"], points["distortion"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(rate, distortion, marker="o", color="#2a6f97")
    for beta, r, d in zip(BETAS, rate, distortion):
        ax.annotate(f"β = {beta:g}", (r, d), textcoords="offset points", xytext=(6, 4), fontsize=9)
    low, high = 0, max(rate) * 1.15
    for elbo in np.linspace(min(rate + distortion) , max(rate + distortion), 4):
        ax.plot([low, high], [elbo - low, elbo - high], color="#ccc", lw=0.8, zorder=0)
    ax.set_xlim(low, high)
    ax.set_ylim(min(distortion) * 0.9, max(distortion) * 1.08)
    ax.set_xlabel("rate R = KL(q(z|x) || p(z)), nats")
    ax.set_ylabel(r"distortion D = $-E_q \log p(x|z)$, nats")
    ax.set_title("held-out digits; grey: equal -ELBO = D + R", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _amortisation():
    """Held-out ELBO with the encoder's q, with q optimised per image, and an IWAE estimate of log p(x)."""
    model = trained()
    ref = _solution("vae")
    x = torch.as_tensor(digits().test[:120])  # (N, 1, 8, 8)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    with torch.no_grad():
        mu0, logvar0 = model.encode(x)
    mu, logvar = mu0.clone().requires_grad_(True), logvar0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([mu, logvar], lr=0.05)
    torch.manual_seed(0)

    def elbo(m, lv, samples=32):  # (N,) ELBO with a many-sample reconstruction term
        z = m + torch.exp(0.5 * lv) * torch.randn(samples, *m.shape)  # (S, N, D)
        logits = model.decode(z.reshape(-1, m.shape[1])).reshape(samples, *x.shape)
        recon = torch.stack([ref.bernoulli_log_likelihood(x, logits[s]) for s in range(samples)]).mean(0)
        return recon - ref.kl_to_standard_normal(m, lv)

    for _ in range(150):  # stochastic variational inference per image, from the encoder's q
        loss = -elbo(mu, logvar, samples=8).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        result = {"encoder": float(elbo(mu0, logvar0, 256).mean()), "optimised": float(elbo(mu, logvar, 256).mean()),
                  "log_p": float(course_models.vae_bound(ROOT, model, x, k=2000).mean())}
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return result


def fig_amortisation_gap():
    """The gap between log p(x) and the encoder's ELBO, split into the amortisation and approximation gaps."""
    values = course_models.cached_arrays(ROOT, "vae-amortisation", SOURCES, "120 images, 150 steps", _amortisation)
    encoder, optimised, log_p = (float(values[name]) for name in ("encoder", "optimised", "log_p"))
    fig, ax = plt.subplots(figsize=(8, 2.6))
    ax.axhline(0, color="#999", lw=0.8)
    points = [(encoder, "ELBO with the\nencoder's q", "#c0392b"), (optimised, "ELBO with q\noptimised per image", "#c8a200"),
              (log_p, "log p(x), IWAE\nestimate, k = 2000", "#2a6f97")]
    for value, label, colour in points:
        ax.plot(value, 0, "o", ms=10, color=colour)
        ax.annotate(f"{label}\n{value:.2f}", (value, 0), textcoords="offset points", xytext=(0, 14), ha="center", fontsize=9)
    for left, right, label in ((encoder, optimised, "amortisation gap"), (optimised, log_p, "approximation gap")):
        ax.annotate("", (right, -0.5), (left, -0.5), arrowprops=dict(arrowstyle="<->", color="#555"))
        ax.text((left + right) / 2, -0.9, f"{label}\n{right - left:.2f} nats", ha="center", va="top", fontsize=9)
    ax.set_xlim(encoder - 0.4, log_p + 0.4)
    ax.set_ylim(-2.3, 2.2)
    ax.set_yticks([])
    ax.set_xlabel("mean over 120 held-out digits, nats")
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


KS = (1, 5, 50, 500)


def fig_bounds():
    """Held-out ELBO and importance-weighted bounds for growing k (higher is tighter)."""
    model = trained()
    x = torch.as_tensor(digits().test)  # (N, 1, 8, 8)
    bounds = {k: float(course_models.vae_bound(ROOT, model, x, k).mean()) for k in KS}
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ks, values = list(bounds), list(bounds.values())
    ax.plot(ks, values, marker="o", color="#2a6f97")
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    for k, value in bounds.items():
        ax.annotate(f"{value:.2f}", (k, value), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=9)
    ax.set_ylim(min(values) - 0.4, max(values) + 0.5)
    ax.set_xlabel("importance samples k")
    ax.grid(alpha=0.3)
    ax.set_ylabel("mean bound on log p(x), nats")
    ax.set_title("held-out digits: k = 1 is the ELBO")
    fig.tight_layout()
    return fig

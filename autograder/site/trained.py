"""The course's models trained for the lecture figures: once per build, cached under build/.

Several lectures draw the same trained models (the PixelCNN in lectures 3 and 9, the VAE in 4
and 9, the GANs in 5 and 9). Each is trained here from the reference solutions and the
`genmodels` training loops, on the CPU from fixed seeds, at most once per process. Its weights
are then kept in `<course>/build/figure-cache/` under a key that hashes everything that
determines them: the source files of the model, of its training loop and of the reference
solution, the configuration, and torch's version. A rebuild with unchanged sources loads them
in milliseconds; editing any of those files retrains. `rm -rf build/figure-cache` forces it.

    from autograder.site import trained
    model = trained.pixelcnn(ROOT)            # ROOT: the folder holding course.yml
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from autograder.site.figures import load_module

CACHE_FOLDER = Path("build") / "figure-cache"
_MEMORY: dict[str, object] = {}


def solution(root: Path, name: str):
    """The reference solution module solutions/<name>/<name>.py (imported once)."""
    key = f"solution:{Path(root).resolve()}:{name}"
    if key not in _MEMORY:
        _MEMORY[key] = load_module(Path(root) / "solutions" / name / f"{name}.py", f"lecture_{name}_reference")
    return _MEMORY[key]


def _key(root: Path, name: str, sources: list[str], config) -> str:
    digest = hashlib.sha256(f"{name}|{config!r}|torch {torch.__version__}".encode())
    for source in [*sources, "autograder/site/trained.py"]:
        path = Path(root) / source
        digest.update(path.read_bytes() if path.exists() else b"")
    return f"{name}-{digest.hexdigest()[:16]}"


def _load_or_make(path: Path, load: Callable[[Path], object], make: Callable[[], object],
                  save: Callable[[object, Path], None]):
    """load(path) if the cache file exists, else make() and save it there. A file lock makes parallel
    builds (pytest-xdist workers) wait for the one that computes instead of computing it twice."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.exists():
            return load(path)
        result = make()
        partial = path.with_name(path.name + ".part")
        save(result, partial)
        partial.replace(path)  # never leave a half-written file under the final name
        return result


def _cached(root: Path, name: str, sources: list[str], config, fresh: Callable[[], dict[str, nn.Module]],
            train: Callable[[dict[str, nn.Module]], np.ndarray | None]):
    """(modules, history): `fresh()` models trained by `train(modules)` (which may return a
    history array), or loaded from the cache when the same sources and config made them before."""
    key = _key(root, name, sources, config)
    if key in _MEMORY:
        return _MEMORY[key]
    modules = fresh()

    def load(path):
        saved = torch.load(path, weights_only=True)
        for part, module in modules.items():
            module.load_state_dict(saved["modules"][part])
        return None if saved.get("history") is None else saved["history"].numpy()

    def save(history, path):
        torch.save({"modules": {part: module.state_dict() for part, module in modules.items()},
                    "history": None if history is None else torch.as_tensor(np.asarray(history))}, path)

    history = _load_or_make(Path(root) / CACHE_FOLDER / f"{key}.pt", load, lambda: train(modules), save)
    for module in modules.values():
        module.eval()
    _MEMORY[key] = (modules, history)
    return _MEMORY[key]


def cached_arrays(root: Path, name: str, sources: list[str], config, compute: Callable[[], dict]) -> dict:
    """{name: array} from `compute()`, or from the cache when the same sources and config made it
    before: for figure data that takes seconds to compute (many EM runs, long evaluations).
    `sources` (paths relative to the course root) should include the lecture's figures.py."""
    key = _key(root, name, sources, config)
    if key not in _MEMORY:
        def load(path):
            with np.load(path, allow_pickle=False) as saved:
                return {part: saved[part] for part in saved.files}

        def save(result, path):
            with open(path, "wb") as handle:
                np.savez(handle, **result)

        make = lambda: {part: np.asarray(value) for part, value in compute().items()}
        _MEMORY[key] = _load_or_make(Path(root) / CACHE_FOLDER / f"{key}.npz", load, make, save)
    return _MEMORY[key]


def pixel_marginals() -> np.ndarray:
    """(1, 8, 8) maximum-likelihood probabilities of an independent-Bernoulli model of the binarised
    training digits, with add-one smoothing ((count + 1) / (N + 2)) so no held-out pixel gets probability 0."""
    from genmodels.data import digits

    train = digits().train  # (N, 1, 8, 8)
    return (train.sum(axis=0) + 1) / (len(train) + 2)


def pixelcnn(root: Path) -> nn.Module:
    """The course PixelCNN (genmodels.pixelcnn) with the reference masks, after its fixed budget."""
    from genmodels import pixelcnn as course
    from genmodels.data import digits

    masked_conv = solution(root, "pixelcnn").MaskedConv2d
    config = (course.PixelCNNConfig(), course.TrainConfig())

    def train(modules):
        torch.manual_seed(config[1].seed)
        modules["model"].load_state_dict(course.PixelCNN(masked_conv, config[0]).state_dict())
        course.train(modules["model"], digits().train, config[1])

    modules, _ = _cached(root, "pixelcnn", ["genmodels/pixelcnn.py", "solutions/pixelcnn/pixelcnn.py"], config,
                         lambda: {"model": course.PixelCNN(masked_conv, config[0])}, train)
    return modules["model"]


def vae(root: Path, z_dim: int = 16) -> nn.Module:
    """The course VAE (genmodels.vae) trained with the reference ELBO for its fixed budget."""
    from genmodels import vae as course
    from genmodels.data import digits

    ref = solution(root, "vae")
    config = (course.VAEConfig(z_dim=z_dim), course.TrainConfig())

    def train(modules):
        modules["model"].load_state_dict(course.new_model(config[0], seed=0).state_dict())
        course.train_vae(modules["model"], digits().train, ref.reparameterize, ref.elbo, config[1])

    modules, _ = _cached(root, f"vae{z_dim}", ["genmodels/vae.py", "solutions/vae/vae.py"], config,
                         lambda: {"model": course.VAE(config[0])}, train)
    return modules["model"]


@torch.no_grad()
def vae_bound(root: Path, model: nn.Module, x: torch.Tensor, k: int, seed: int = 0, chunk: int = 100) -> torch.Tensor:
    """(N,) importance-weighted bound L_k on log p(x) of each image x (N, 1, 8, 8) under a course
    VAE, with the reference solutions' Bernoulli likelihood and IWAE bound; k = 1 is the ELBO.

    Proposals come from the encoder; a large k makes it an estimate of log p(x) from below."""
    import math

    ref, iwae = solution(root, "vae"), solution(root, "iwae")
    generator = torch.Generator().manual_seed(seed)
    mu, logvar = model.encode(x)  # (N, D) each
    std = torch.exp(0.5 * logvar)
    bounds = []
    for start in range(0, len(x), chunk):
        m, s, lv, xs = mu[start:start + chunk], std[start:start + chunk], logvar[start:start + chunk], x[start:start + chunk]
        z = m + s * torch.randn(k, *m.shape, generator=generator)  # (k, n, D)
        logits = model.decode(z.reshape(-1, m.shape[1])).reshape(k, *xs.shape)  # (k, n, 1, 8, 8)
        log_px = ref.bernoulli_log_likelihood(xs.expand(k, *xs.shape).reshape(-1, *xs.shape[1:]),
                                              logits.reshape(-1, *xs.shape[1:])).reshape(k, -1)  # (k, n)
        log_pz = -0.5 * (z**2 + math.log(2 * math.pi)).sum(-1)  # (k, n)
        log_qz = -0.5 * (((z - m) / s) ** 2 + lv + math.log(2 * math.pi)).sum(-1)  # (k, n)
        bounds.append(iwae.iwae_bound(log_px, log_pz, log_qz))  # (n,)
    return torch.cat(bounds)


class DigitClassifier(nn.Module):
    """An MLP classifier of binarised 8x8 digits; its hidden layer stands in for Inception features."""

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, 10)

    def features(self, x):
        return self.body(x)  # (B, hidden)

    def forward(self, x):
        return self.head(self.body(x))  # (B, 10) logits


@dataclass(frozen=True)
class ClassifierBudget:
    hidden: int = 128
    steps: int = 1500  # 92 % held-out accuracy on the binarised digits (binarising loses detail)
    batch: int = 128
    lr: float = 2e-3
    seed: int = 0


def digit_classifier(root: Path, config: ClassifierBudget = ClassifierBudget()) -> DigitClassifier:
    """A classifier of binarised digits trained on the training split (for sample diagnostics and
    the Inception-score and Fréchet-distance analogues of the evaluation lecture)."""
    from genmodels.data import digits

    def train(modules):
        split = digits()
        x, y = torch.as_tensor(split.train), torch.as_tensor(split.train_labels)
        model = modules["model"]
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=1e-4)
        order = torch.Generator().manual_seed(config.seed)
        for _ in range(config.steps):
            index = torch.randint(len(x), (config.batch,), generator=order)
            loss = nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def fresh():
        torch.manual_seed(config.seed)
        return {"model": DigitClassifier(config.hidden)}

    modules, _ = _cached(root, "digit-classifier", [], config, fresh, train)
    return modules["model"]


def _gan_step(root: Path):
    return solution(root, "gan").gan_train_step


def ring_gan(root: Path):
    """(generator, discriminator, history (steps, 2) of d/g losses): the course GAN on the ring,
    with the autograder smoke test's data, model and budget."""
    from genmodels import gan as course
    from genmodels.data import ring_of_gaussians

    smoke = course.SMOKE

    def train(modules):
        data = ring_of_gaussians(smoke.n_data, std=smoke.ring_std, seed=0)
        generator, discriminator, history = course.train_gan(_gan_step(root), data, smoke.model, smoke.train)
        modules["generator"].load_state_dict(generator.state_dict())
        modules["discriminator"].load_state_dict(discriminator.state_dict())
        return np.array(history)

    def fresh():
        generator, discriminator = course.make_mlp_gan(smoke.model)
        return {"generator": generator, "discriminator": discriminator}

    modules, history = _cached(root, "ring-gan", ["genmodels/gan.py", "solutions/gan/gan.py"], smoke, fresh, train)
    return modules["generator"], modules["discriminator"], history


@dataclass(frozen=True)
class DigitGAN:
    """An MLP GAN on the grey-level digits scaled to [-1, 1] (lecture 5)."""

    z_dim: int = 16
    hidden: int = 128
    layers: int = 2
    steps: int = 800  # enough for digit-like samples at lr 1e-3; about 5 s on one idle core
    batch: int = 64
    lr: float = 1e-3


def digit_gan(root: Path, config: DigitGAN = DigitGAN()) -> nn.Module:
    """The generator of an MLP GAN trained on the digits with the reference training step."""
    from genmodels import gan as course
    from genmodels.data import digits

    model = course.MLPGANConfig(data_dim=64, z_dim=config.z_dim, hidden=config.hidden, layers=config.layers)

    def train(modules):
        data = digits(binarise=False).train.reshape(-1, 64) * 2 - 1  # (N, 64) in [-1, 1]
        budget = course.TrainConfig(steps=config.steps, batch=config.batch, lr=config.lr, betas=(0.5, 0.999))
        generator, _, history = course.train_gan(_gan_step(root), data, model, budget, seed=0)
        modules["generator"].load_state_dict(generator.state_dict())
        return np.array(history)

    modules, _ = _cached(root, "digit-gan", ["genmodels/gan.py", "solutions/gan/gan.py"], config,
                         lambda: {"generator": course.make_mlp_gan(model)[0]}, train)
    return modules["generator"]


@dataclass(frozen=True)
class DCGANBudget:
    """The reference DCGAN (solutions/dcgan) on the grey-level digits in [-1, 1] (lecture 5)."""

    z_dim: int = 32
    base_channels: int = 32
    steps: int = 800  # digit-like samples; about 10 s on one idle core, so cached
    batch: int = 64
    lr: float = 1e-3  # above the paper's 2e-4 so that 800 steps suffice (2e-4 needs about 2,000)
    betas: tuple = (0.5, 0.999)  # the paper's beta1
    seed: int = 0


def dcgan(root: Path, config: DCGANBudget = DCGANBudget()):
    """(generator, history (steps, 2) of d/g losses) of the reference DCGAN trained with the
    reference GAN step: the exercises `dcgan` and `gan` together."""
    from genmodels.data import digits

    blocks = solution(root, "dcgan")

    def fresh():
        torch.manual_seed(config.seed)
        return {"generator": blocks.Generator(config.z_dim, config.base_channels),
                "discriminator": blocks.Discriminator(config.base_channels)}

    def train(modules):
        generator, discriminator = modules["generator"], modules["discriminator"]
        data = torch.as_tensor(digits(binarise=False).train) * 2 - 1  # (N, 1, 8, 8) in [-1, 1]
        g_opt = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=config.betas)
        d_opt = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=config.betas)
        rng = torch.Generator().manual_seed(config.seed + 1)
        history = []
        for _ in range(config.steps):
            real = data[torch.randint(len(data), (config.batch,), generator=rng)]  # (B, 1, 8, 8)
            z = torch.randn(config.batch, config.z_dim, generator=rng)  # (B, z_dim)
            history.append(_gan_step(root)(generator, discriminator, g_opt, d_opt, real, z))
        return np.array(history)

    modules, history = _cached(root, "dcgan", ["solutions/dcgan/dcgan.py", "solutions/gan/gan.py"], config,
                               fresh, train)
    return modules["generator"], history


@dataclass(frozen=True)
class DigitDiffusion:
    """An MLP DDPM on the binarised digits scaled to {-1, 1} (the diffusion and evaluation lectures)."""

    T: int = 200  # diffusion steps: DDPM's linear 1e-4 .. 0.02 over 1,000 steps, compressed 5x
    beta_start: float = 1e-4
    beta_end: float = 0.1
    hidden: int = 256
    layers: int = 3
    steps: int = 2000  # digit-like samples; about 15 s on one idle core, so cached
    batch: int = 128
    lr: float = 2e-3


def digit_diffusion(root: Path, config: DigitDiffusion = DigitDiffusion()):
    """(denoiser, betas (T,)): the course denoiser (genmodels.diffusion) trained with the reference loss."""
    from genmodels import diffusion as course
    from genmodels.data import digits

    ref = solution(root, "diffusion")
    betas = ref.linear_beta_schedule(config.T, config.beta_start, config.beta_end)
    model = course.DenoiserConfig(dim=64, hidden=config.hidden, layers=config.layers)

    def train(modules):
        data = digits().train.reshape(-1, 64) * 2 - 1  # (N, 64) in {-1, 1}
        trained = course.train_denoiser(course.new_model(model, seed=0), data, ref.ddpm_loss,
                                        torch.cumprod(1 - betas, 0),
                                        course.TrainConfig(steps=config.steps, batch_size=config.batch, lr=config.lr))
        modules["model"].load_state_dict(trained.state_dict())

    modules, _ = _cached(root, "digit-diffusion", ["genmodels/diffusion.py", "solutions/diffusion/diffusion.py"],
                         config, lambda: {"model": course.Denoiser(model)}, train)
    return modules["model"], betas


@torch.no_grad()
def diffusion_bound_terms(root: Path, model: nn.Module, x: torch.Tensor, betas: torch.Tensor, seed: int = 0) -> np.ndarray:
    """(N, T + 1) terms of the negative ELBO, in nats, of binary images x (N, 64) in {-1, 1} under a DDPM
    with reverse variances sigma_t^2 = beta_t: column 0 is L_T (the prior), column 1 the decoder L_0,
    and column 1 + i the KL of 0-based step i >= 1 (one sample of x_i per image). Their sum bounds -log P(x).

    The decoder discretises the reverse step's Gaussian at 0: P(x_0 = +1 | x_1) = Phi(mean / sigma_1). The
    reverse means come from the reference p_sample_step (with zero noise it returns the mean)."""
    step = solution(root, "diffusion").p_sample_step
    generator = torch.Generator().manual_seed(seed)
    betas, x = betas.double(), x.double()
    alphas, ab = 1 - betas, torch.cumprod(1 - betas, 0)
    eps = lambda v, t: model(v.float(), t).double()  # noqa: E731 - the model runs in float32
    terms = [0.5 * (ab[-1] * x**2 + (1 - ab[-1]) - 1 - torch.log(1 - ab[-1])).sum(1)]  # KL(q(x_T | x) || N(0, I))
    for i in range(len(betas)):
        x_i = ab[i].sqrt() * x + (1 - ab[i]).sqrt() * torch.randn(x.shape, generator=generator, dtype=torch.float64)
        mean = step(eps, x_i, i, betas, noise=torch.zeros_like(x_i))  # (N, 64)
        if i == 0:
            terms.append(-torch.special.log_ndtr(mean / betas[0].sqrt() * x).sum(1))
            continue
        posterior_mean = (ab[i - 1].sqrt() * betas[i] / (1 - ab[i])) * x + (alphas[i].sqrt() * (1 - ab[i - 1]) / (1 - ab[i])) * x_i
        ratio = (1 - ab[i - 1]) / (1 - ab[i])  # posterior variance / beta_i
        terms.append(((posterior_mean - mean) ** 2 / (2 * betas[i])).sum(1) + 0.5 * x.shape[1] * (ratio - 1 - torch.log(ratio)))
    return torch.stack(terms, 1).numpy()


@dataclass(frozen=True)
class DigitFlow:
    """A RealNVP-style flow of the binarised digits, dequantised with uniform noise (the evaluation lecture)."""

    layers: int = 8
    hidden: int = 128
    steps: int = 1500  # about 10 s on one idle core, so cached
    batch: int = 128
    lr: float = 2e-3


def digit_flow(root: Path, config: DigitFlow = DigitFlow()) -> nn.ModuleList:
    """The course flow (genmodels.flows) of 64-D digits x + u, u ~ U[0, 1), built from the reference coupling."""
    from genmodels import flows as course
    from genmodels.data import digits

    ref = solution(root, "flows")
    model = course.FlowConfig(dim=64, layers=config.layers, hidden=config.hidden)

    def dequantised_log_prob(layers, x):
        return ref.flow_log_prob(layers, x + torch.rand_like(x))  # fresh noise in every batch

    def train(modules):
        trained = course.train_flow(course.make_flow(ref.AffineCoupling, model, seed=0),
                                    digits().train.reshape(-1, 64), dequantised_log_prob,
                                    course.TrainConfig(steps=config.steps, batch_size=config.batch, lr=config.lr))
        modules["model"].load_state_dict(trained.state_dict())

    modules, _ = _cached(root, "digit-flow", ["genmodels/flows.py", "solutions/flows/flows.py"], config,
                         lambda: {"model": course.make_flow(ref.AffineCoupling, model, seed=0)}, train)
    return modules["model"]


@torch.no_grad()
def flow_bound(root: Path, layers: nn.ModuleList, x: torch.Tensor, draws: int = 16, seed: int = 0) -> torch.Tensor:
    """(N,) E_u[log p(x + u)] of binary images x (N, 64), u ~ U[0, 1)^64 averaged over `draws`: a lower
    bound on the log-probability of the discrete x under the dequantised flow (Jensen)."""
    generator = torch.Generator().manual_seed(seed)
    log_prob = solution(root, "flows").flow_log_prob
    return torch.stack([log_prob(list(layers), x + torch.rand(x.shape, generator=generator)) for _ in range(draws)]).mean(0)

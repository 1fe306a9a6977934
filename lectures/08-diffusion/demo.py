"""Demo: train DDPM on the ring of 8 Gaussians and on the 8x8 digits (CPU, about a minute), sample both.

    python lectures/08-diffusion/demo.py [--digit-steps 2000] [--out out/diffusion]

Writes ring.png (data and DDPM samples) and digit_samples.png (a grid of 64 sampled digits).
"""

import argparse
from pathlib import Path

import matplotlib
import torch
from torchvision.utils import save_image
from tqdm import tqdm

from genmodels.data import digits, ring_centres, ring_of_gaussians
from genmodels.diffusion import SMOKE, DenoiserConfig, TrainConfig, cosine_beta_schedule, new_model, train_denoiser
from genmodels.gan import score_modes

ROOT = Path(__file__).resolve().parents[2]


def reference():
    from autograder.site.figures import load_module

    return load_module(ROOT / "solutions" / "diffusion" / "diffusion.py", "diffusion_reference")


def train(loss, data, config, train_config, alphas_cumprod, desc):
    bar = tqdm(total=train_config.steps, desc=desc)

    def progress(step, value):
        bar.update(step - bar.n)
        bar.set_postfix(loss=f"{value:.3f}")

    model = train_denoiser(new_model(config, seed=0), data, loss, alphas_cumprod, train_config, progress=progress)
    bar.close()
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit-steps", type=int, default=2000)
    parser.add_argument("--out", default="out/diffusion")
    args = parser.parse_args()
    torch.set_num_threads(1)  # small MLPs: one thread is fastest and fair to a shared machine
    ref, out = reference(), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    betas = torch.as_tensor(cosine_beta_schedule(SMOKE.steps), dtype=torch.float32)
    ring = ring_of_gaussians(SMOKE.n_data, std=SMOKE.ring_std, seed=0)
    model = train(ref.ddpm_loss, ring, SMOKE.model, SMOKE.train, torch.cumprod(1 - betas, 0), "DDPM, ring")
    samples = ref.ddpm_sample(model, 2000, (2,), betas).numpy()
    score = score_modes(samples, ring_centres(), radius=SMOKE.score_radius)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(*ring[:2000].T, s=2, label="data")
    ax.scatter(*samples.T, s=2, label="DDPM samples")
    ax.set_aspect("equal")
    ax.legend()
    fig.savefig(out / "ring.png", dpi=100)

    data = digits(binarise=False).train.reshape(-1, 64) * 2 - 1  # (N, 64) in [-1, 1]
    digit_betas = ref.linear_beta_schedule(200, 1e-4, 0.1)
    model = train(ref.ddpm_loss, data, DenoiserConfig(dim=64, hidden=256, layers=3),
                  TrainConfig(steps=args.digit_steps, batch_size=128, lr=2e-3), torch.cumprod(1 - digit_betas, 0),
                  "DDPM, digits")
    images = ref.ddpm_sample(model, 64, (64,), digit_betas).view(64, 1, 8, 8)
    save_image((images.clamp(-1, 1) + 1) / 2, out / "digit_samples.png", nrow=8, padding=1, pad_value=0.5)
    print(f"ring: {score.modes_covered} of 8 modes, {score.share_near_mode:.0%} of samples within "
          f"{SMOKE.score_radius} of a mode")
    print(f"wrote {out / 'ring.png'} and {out / 'digit_samples.png'}")


if __name__ == "__main__":
    main()

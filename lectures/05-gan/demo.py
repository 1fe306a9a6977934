"""Demo: train the course GAN on the 2-D ring and an MLP GAN on the digits (CPU, under a minute).

    python lectures/05-gan/demo.py [--steps 800] [--out out/gan]
"""

import argparse
import importlib.util
from pathlib import Path

import matplotlib
import torch
from torchvision.utils import save_image
from tqdm import tqdm

from genmodels import gan
from genmodels.data import digits, ring_centres, ring_of_gaussians

ROOT = Path(__file__).resolve().parents[2]


def reference():
    spec = importlib.util.spec_from_file_location("gan_reference", ROOT / "solutions/gan/gan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train(step, data, config, train_config, desc):
    bar = tqdm(total=train_config.steps, desc=desc)

    def progress(done, losses):
        bar.update(done - bar.n)
        bar.set_postfix(d_loss=f"{losses[0]:.2f}", g_loss=f"{losses[1]:.2f}")

    generator, _, _ = gan.train_gan(step, data, config, train_config, progress=progress)
    bar.close()
    return generator


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--out", default="out/gan")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny models: one thread is fastest and fair to a shared machine
    step, out = reference().gan_train_step, Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    ring = ring_of_gaussians(gan.SMOKE.n_data, std=gan.SMOKE.ring_std)
    generator = train(step, ring, gan.SMOKE.model, gan.SMOKE.train, "GAN, ring")
    samples = gan.sample(generator, 2000, gan.SMOKE.model.z_dim)
    score = gan.score_modes(samples, ring_centres(), radius=gan.SMOKE.score_radius)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(*ring[:2000].T, s=2, label="data")
    ax.scatter(*samples.T, s=2, label="generator")
    ax.set_aspect("equal"), ax.legend()
    fig.savefig(out / "ring.png", dpi=100)

    data = digits(binarise=False).train.reshape(-1, 64) * 2 - 1  # (N, 64) in [-1, 1]
    config = gan.MLPGANConfig(data_dim=64, z_dim=16, hidden=128, layers=2)
    train_config = gan.TrainConfig(steps=args.steps, batch=64, lr=1e-3, betas=(0.5, 0.999))
    generator = train(step, data, config, train_config, "GAN, digits")
    images = torch.as_tensor(gan.sample(generator, 64, config.z_dim)).view(64, 1, 8, 8)
    save_image((images.clamp(-1, 1) + 1) / 2, out / "digit_samples.png", nrow=8, padding=1, pad_value=0.5)
    print(f"ring: {score.modes_covered} of 8 modes covered, {score.share_near_mode:.0%} of samples near a mode")
    print(f"wrote {out / 'ring.png'} and {out / 'digit_samples.png'}")


if __name__ == "__main__":
    main()

"""Demo: train the course VAE on the digits on a CPU (seconds) and save samples and reconstructions.

    python lectures/04-vae/demo.py [--steps 1000] [--out out/vae]
"""

import argparse
import importlib.util
from pathlib import Path

import torch
from torchvision.utils import save_image
from tqdm import trange

from genmodels.data import digits
from genmodels.vae import VAEConfig, new_model

ROOT = Path(__file__).resolve().parents[2]


def reference():
    spec = importlib.util.spec_from_file_location("vae_reference", ROOT / "solutions/vae/vae.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--out", default="out/vae")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny model: one thread is fastest and fair to a shared machine
    torch.manual_seed(0)
    ref, split = reference(), digits()
    model = new_model(VAEConfig(), seed=0)
    data = torch.as_tensor(split.train)  # (N, 1, 8, 8)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in (bar := trange(args.steps, desc="VAE")):
        x = data[torch.randint(len(data), (64,))]  # (64, 1, 8, 8)
        logits, mu, logvar = model(x, ref.reparameterize)
        loss = -ref.elbo(x, logits, mu, logvar).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        bar.set_postfix(elbo=f"{-loss.item():.2f}")
    model.eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        test = torch.as_tensor(split.test[:32])
        recon = torch.sigmoid(model.decode(model.encode(test)[0]))  # (32, 1, 8, 8)
        samples = torch.sigmoid(model.decode(torch.randn(64, model.config.z_dim)))  # (64, 1, 8, 8)
    save_image(samples, out / "samples.png", nrow=8, padding=1, pad_value=0.5)
    save_image(torch.cat([test, recon]), out / "reconstructions.png", nrow=8, padding=1, pad_value=0.5)
    print(f"wrote {out / 'samples.png'} and {out / 'reconstructions.png'}")


if __name__ == "__main__":
    main()

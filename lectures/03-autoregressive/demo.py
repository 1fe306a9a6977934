"""Demo: train the course PixelCNN on the digits on a CPU (well under a minute) and save samples.

    python lectures/03-autoregressive/demo.py [--steps 300] [--out out/pixelcnn]
"""

import argparse
import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.utils import save_image
from tqdm import trange

from genmodels import pixelcnn
from genmodels.data import digits

ROOT = Path(__file__).resolve().parents[2]


def reference():
    spec = importlib.util.spec_from_file_location("pixelcnn_reference", ROOT / "solutions/pixelcnn/pixelcnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default="out/pixelcnn")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny model: one thread is fastest and fair to a shared machine
    torch.manual_seed(0)
    ref, split = reference(), digits()
    model = pixelcnn.PixelCNN(ref.MaskedConv2d)
    data = torch.as_tensor(split.train)  # (N, 1, 8, 8)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in (bar := trange(args.steps, desc="PixelCNN")):
        x = data[torch.randint(len(data), (64,))]  # (64, 1, 8, 8)
        loss = F.binary_cross_entropy_with_logits(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        bar.set_postfix(bits_per_dim=f"{loss.item() / 0.6931:.3f}")
    model.eval()
    print(f"held-out: {pixelcnn.bits_per_dim(model, split.test):.3f} bits/dim")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        samples = ref.sample(model, 64, (1, 8, 8))  # (64, 1, 8, 8)
    save_image(samples, out / "samples.png", nrow=8, padding=1, pad_value=0.5)
    save_image(data[:64], out / "data.png", nrow=8, padding=1, pad_value=0.5)
    print(f"wrote {out / 'samples.png'} and {out / 'data.png'}")


if __name__ == "__main__":
    main()

"""Figures of lecture 3 (auto-regressive models), made with the course's PixelCNN
(genmodels/pixelcnn.py, masks from solutions/pixelcnn/pixelcnn.py) trained on the real digits."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from genmodels.data import digits

from autograder.site import trained as course_models

ROOT = Path(__file__).resolve().parents[2]


def reference():
    """The reference solution module (causal_mask, MaskedConv2d, sample)."""
    return course_models.solution(ROOT, "pixelcnn")


def trained():
    """(model, held-out bits/dim) of the course PixelCNN after its fixed training budget."""
    from genmodels import pixelcnn

    model = course_models.pixelcnn(ROOT)
    return model, pixelcnn.bits_per_dim(model, digits().test)


def fig_masks():
    """Mask A (first layer, centre hidden) and mask B (later layers, centre visible), 5x5."""
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    for ax, kind in zip(axes, "AB"):
        mask = reference().causal_mask(5, kind).numpy()
        ax.imshow(mask, cmap="Blues", vmin=0, vmax=1.3)
        ax.add_patch(plt.Rectangle((1.5, 1.5), 1, 1, fill=False, ec="#c0392b", lw=2.5))
        ax.set_title(f"mask {kind}")
        ax.set_xticks(np.arange(-0.5, 5), minor=True), ax.set_yticks(np.arange(-0.5, 5), minor=True)
        ax.grid(which="minor", color="white", lw=2)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("1 = the weight may see that input pixel; red = the pixel being predicted", fontsize=9)
    fig.tight_layout()
    return fig


def _receptive_field(layers, size=15):
    """Which input pixels the output at the centre depends on, through `layers` masked 3x3 convs."""
    torch.manual_seed(0)
    ref = reference()
    convs = [ref.MaskedConv2d(1, 1, 3, "A", bias=False)] + \
            [ref.MaskedConv2d(1, 1, 3, "B", bias=False) for _ in range(layers - 1)]
    with torch.no_grad():
        for conv in convs:
            conv.weight.fill_(1.0)  # positive weights: no accidental cancellation
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    h = x
    for conv in convs:
        h = conv(h)
    h[0, 0, size // 2, size // 2].backward()
    return (x.grad[0, 0] != 0).float().numpy()


def fig_receptive_field():
    """Stacked masked 3x3 convolutions grow a receptive field with a blind spot to the upper right."""
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    for ax, layers in zip(axes, (1, 3, 6)):
        field = _receptive_field(layers)
        image = np.stack([1 - 0.6 * field] * 3, axis=-1)
        c = field.shape[0] // 2
        image[c, c] = (0.75, 0.22, 0.17)
        ax.imshow(image)
        ax.set_title(f"{layers} layer{'s' if layers > 1 else ''}")
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("grey: inputs the red pixel's prediction depends on (white above-right: the blind spot)",
                 fontsize=9)
    fig.tight_layout()
    return fig


def fig_samples():
    """Samples of the course PixelCNN after its fixed training budget on the digits, next to real digits."""
    model, bpd = trained()
    torch.manual_seed(0)
    samples = reference().sample(model, 32, (1, 8, 8)).numpy()[:, 0]  # (32, 8, 8)
    real = digits().test[:32, 0]
    fig, axes = plt.subplots(4, 17, figsize=(10, 2.7))
    for i, ax in enumerate(axes.flat):
        col, row = i % 17, i // 17
        if col == 8:
            ax.set_axis_off()
            continue
        image = real[row * 8 + col] if col < 8 else samples[row * 8 + col - 9]
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    fig.suptitle(f"left: held-out digits; right: PixelCNN samples ({bpd:.3f} bits/dim held out)", fontsize=10)
    return fig

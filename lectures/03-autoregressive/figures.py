"""Figures of lecture 3 (auto-regressive models), made with the course's PixelCNN
(genmodels/pixelcnn.py, masks and sampler from solutions/pixelcnn/pixelcnn.py, cached under build/)
and the reference skew of solutions/pixelrnn/pixelrnn.py, on the real digits."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from autograder.site import trained as course_models
from genmodels.data import digits

ROOT = Path(__file__).resolve().parents[2]


def reference():
    """The reference solution module (causal_mask, MaskedConv2d, sample)."""
    return course_models.solution(ROOT, "pixelcnn")


def trained():
    """(model, held-out bits/dim) of the course PixelCNN after its fixed training budget."""
    from genmodels import pixelcnn

    model = course_models.pixelcnn(ROOT)
    return model, pixelcnn.bits_per_dim(model, digits().test)


def _digit_grid(ax_grid, images):
    for ax, image in zip(ax_grid, images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()


def made_masks(n_inputs=5, hidden=(6, 6), seed=2):
    """(masks, degrees) of a MADE (Germain et al., 2015) with the natural input order.

    Hidden unit k gets a degree m(k) in [1, D-1] and may see inputs d <= m(k); output d may see
    hidden units with m(k) < d. The product of the masks then connects output d only to inputs < d.
    """
    rng = np.random.default_rng(seed)
    degrees = [np.arange(1, n_inputs + 1)]
    for size in hidden:
        degrees.append(rng.integers(degrees[-1].min(), n_inputs, size=size))
    masks = [(later[:, None] >= earlier[None, :]).astype(float) for earlier, later in zip(degrees[:-1], degrees[1:])]
    masks.append((degrees[0][:, None] > degrees[-1][None, :]).astype(float))  # outputs: strictly greater
    return masks, degrees


def fig_made():
    """MADE's masks and their product: output d depends only on inputs before d."""
    masks, degrees = made_masks()
    connectivity = masks[-1] @ masks[-2] @ masks[0]  # (D, D): paths from input j to output i
    fig, axes = plt.subplots(1, 4, figsize=(11, 3))
    titles = ["input -> hidden 1", "hidden 1 -> hidden 2", "hidden 2 -> output", "paths input -> output"]
    for ax, matrix, title in zip(axes, [masks[0], masks[1], masks[2], connectivity > 0], titles):
        ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1.3)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
    axes[3].set_xticks(range(5), [f"x{d}" for d in degrees[0]])
    axes[3].set_yticks(range(5), [f"out {d}" for d in degrees[0]])
    fig.suptitle("rows: units receiving; columns: units sending; blue = connected. "
                 f"Hidden degrees {degrees[1].tolist()} and {degrees[2].tolist()}", fontsize=9)
    fig.tight_layout()
    return fig


def fig_skew():
    """A digit, skewed by the reference pixelrnn.skew (row i shifted right by i): diagonals become columns."""
    skew = course_models.solution(ROOT, "pixelrnn").skew
    image = torch.as_tensor(digits().test[3:4])  # (1, 1, 8, 8)
    index = torch.arange(8.0)
    diagonals = (index[:, None] + index[None, :])[None, None]  # (1, 1, 8, 8): i + j labels a diagonal
    fig, axes = plt.subplots(1, 4, figsize=(12, 2.8), gridspec_kw={"width_ratios": [8, 15, 8, 15]})
    for ax, (picture, title) in zip(axes, [(image, "a digit (8 x 8)"), (skew(image), "skew(digit): 8 x 15"),
                                           (diagonals, "diagonal index i + j"), (skew(diagonals + 1), "skewed: one column per diagonal")]):
        shown = picture[0, 0].numpy()
        ax.imshow(shown, cmap="viridis" if "diagonal" in title or "column" in title else "gray_r")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


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


def rgb_centre_mask(mask_type):
    """(3, 3) 0/1 matrix: may output channel group (row: R, G, B) see input group (column) at the centre pixel?

    PixelCNN orders the colours R -> G -> B within a pixel: with mask A a group sees only the groups
    before it; mask B also lets it see itself (its own features from the previous layer)."""
    order = np.arange(3)
    return (order[None, :] < order[:, None]).astype(float) + (mask_type == "B") * np.eye(3)


def fig_rgb_masks():
    """The centre pixel's connections between colour groups, for masks A and B."""
    fig, axes = plt.subplots(1, 2, figsize=(6.5, 3))
    for ax, kind in zip(axes, "AB"):
        ax.imshow(rgb_centre_mask(kind), cmap="Blues", vmin=0, vmax=1.3)
        ax.set_xticks(range(3), ["R in", "G in", "B in"]), ax.set_yticks(range(3), ["R out", "G out", "B out"])
        ax.set_title(f"mask {kind} at the centre pixel", fontsize=10)
    fig.suptitle("other kernel positions: as for one channel (all rows above, left on the centre row)", fontsize=9)
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


def fig_per_pixel():
    """Held-out negative log-likelihood of each pixel's conditional, in bits: where the model is unsure."""
    model, bpd = trained()
    x = torch.as_tensor(digits().test)
    with torch.no_grad():
        nll = torch.nn.functional.binary_cross_entropy_with_logits(model(x), x, reduction="none")  # (N, 1, 8, 8)
    bits = (nll.mean(0)[0] / np.log(2)).numpy()  # (8, 8)
    fig, ax = plt.subplots(figsize=(4.6, 3.9))
    shown = ax.imshow(bits, cmap="magma_r", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(bits):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value > 0.55 else "black")
    fig.colorbar(shown, ax=ax, label="bits")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(f"mean -log2 p(x_ij | x_<ij): {bpd:.3f} bits/dim overall", fontsize=10)
    fig.tight_layout()
    return fig


def fig_completions():
    """Conditioning: the top half of held-out digits is given, the PixelCNN samples the bottom half."""
    model, _ = trained()
    given = torch.as_tensor(digits().test[:6])  # (6, 1, 8, 8)
    torch.manual_seed(1)
    rows = [given[:, 0].numpy()]
    for _ in range(4):
        x = given.clone()
        x[:, :, 4:] = 0
        with torch.no_grad():
            for i in range(4, 8):  # continue the reference sampler's raster order from row 4
                for j in range(8):
                    x[:, :, i, j] = torch.bernoulli(torch.sigmoid(model(x)[:, :, i, j]))
        rows.append(x[:, 0].numpy())
    fig, axes = plt.subplots(6, 5, figsize=(5.5, 6.2))
    for col, images in enumerate(rows):
        _digit_grid(axes[:, col], images)
    for ax in axes[:, 1:].flat:
        ax.axhline(3.5, color="#c0392b", lw=1)
    axes[0, 0].set_title("held out", fontsize=9)
    for col in range(1, 5):
        axes[0, col].set_title(f"completion {col}", fontsize=9)
    fig.suptitle("rows 0-3 given (above the red line), rows 4-7 sampled", fontsize=9)
    fig.tight_layout()
    return fig


def fig_wavenet():
    """A stack of dilated causal convolutions (kernel 2, dilations 1, 2, 4, 8): receptive field 16."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    length, dilations = 16, (1, 2, 4, 8)
    for level in range(len(dilations) + 1):
        ax.scatter(range(length), [level] * length, s=22, color="#2a6f97" if level else "#777", zorder=3)
    active = {length - 1}
    for level, dilation in reversed(list(enumerate(dilations, start=1))):
        below = set()
        for t in active:
            for source in (t, t - dilation):
                if source >= 0:
                    ax.plot([source, t], [level - 1, level], color="#c0392b", lw=1.2)
                    below.add(source)
        active = below
    ax.set_yticks(range(len(dilations) + 1), ["input"] + [f"dilation {d}" for d in dilations])
    ax.set_xticks([])
    ax.set_xlabel("time; red: everything the last output depends on")
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig

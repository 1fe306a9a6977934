"""Figures of lecture 6 (papers and references): published results, drawn from the table below."""

import matplotlib.pyplot as plt

# Negative log-likelihood on binarised MNIST in nats (lower is better), as reported in the papers.
# The IWAE paper binarises MNIST stochastically; the others use the fixed binarisation of
# Salakhutdinov & Murray (2008), so the two groups are close but not strictly comparable.
BINARISED_MNIST_NLL = [
    ("VAE, 2 stochastic layers (Burda et al. 2016)", 85.33, "vae"),
    ("IWAE, k = 50, 2 layers (Burda et al. 2016)", 82.90, "vae"),
    ("PixelCNN (van den Oord et al. 2016)", 81.30, "ar"),
    ("DRAW (Gregor et al. 2015), bound", 80.97, "vae"),
    ("Diagonal BiLSTM, 1 layer (van den Oord et al. 2016)", 80.75, "ar"),
    ("Diagonal BiLSTM, 7 layers (van den Oord et al. 2016)", 79.20, "ar"),
]

# CIFAR-10 test bits per dimension (lower is better).
CIFAR10_BPD = [
    ("PixelCNN (2016)", 3.14), ("Row LSTM (2016)", 3.07), ("Diagonal BiLSTM (2016)", 3.00),
    ("Gated PixelCNN (2016)", 3.03), ("PixelCNN++ (2017)", 2.92),
]


def fig_binarised_mnist():
    """Reported test NLL on binarised MNIST, auto-regressive vs latent-variable models."""
    colours = {"ar": "#2a6f97", "vae": "#c8a200"}
    names, values, kinds = zip(*BINARISED_MNIST_NLL)
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    axes[0].barh(names, values, color=[colours[k] for k in kinds])
    axes[0].set_xlim(77, 87)
    axes[0].invert_yaxis()
    axes[0].set_xlabel("test NLL, nats (lower is better)")
    for y, value in enumerate(values):
        axes[0].text(value + 0.1, y, f"{value:.2f}", va="center", fontsize=9)
    axes[0].set_title("binarised MNIST (blue: auto-regressive, gold: VAE family)", fontsize=10)
    names, values = zip(*CIFAR10_BPD)
    axes[1].barh(names, values, color="#2a6f97")
    axes[1].set_xlim(2.8, 3.2)
    axes[1].invert_yaxis()
    axes[1].set_xlabel("bits per dimension")
    axes[1].set_title("CIFAR-10, auto-regressive models", fontsize=10)
    fig.tight_layout()
    return fig

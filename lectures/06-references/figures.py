"""Figures of the references lecture: published results, drawn from the tables below."""

import matplotlib.pyplot as plt

# Test negative log-likelihood on MNIST in nats (lower is better), as reported in the papers,
# split by how MNIST was binarised: the two groups are not comparable (the IWAE authors report
# their models about 2 nats worse on the fixed binarisation than on the dynamic one).
#
# Fixed binarisation (Larochelle & Murray, 2011): one binary test set for everyone.
FIXED_BINARISATION_NLL = [
    ("PixelCNN (van den Oord et al. 2016)", 81.30),
    ("DRAW (Gregor et al. 2015), a bound", 80.97),
    ("Diagonal BiLSTM, 1 layer (van den Oord et al. 2016)", 80.75),
    ("Diagonal BiLSTM, 7 layers (van den Oord et al. 2016)", 79.20),
]
# Dynamic binarisation (pixels resampled as Bernoulli draws of the grey levels), IWAE paper,
# two stochastic layers; each number is a test NLL estimated with k = 5000 importance samples.
DYNAMIC_BINARISATION_NLL = [
    ("VAE, trained with k = 1", 85.33),
    ("VAE, trained with k = 50", 84.78),
    ("IWAE, trained with k = 5", 83.89),
    ("IWAE, trained with k = 50", 82.90),
]

# CIFAR-10 test bits per dimension (lower is better).
CIFAR10_BPD = [
    ("PixelCNN (2016)", 3.14), ("Row LSTM (2016)", 3.07), ("Gated PixelCNN (2016)", 3.03),
    ("Diagonal BiLSTM (2016)", 3.00), ("PixelCNN++ (2017)", 2.92),
]


def _bars(ax, rows, colour, limits, unit):
    names, values = zip(*rows)
    ax.barh(names, values, color=colour)
    ax.set_xlim(*limits)
    ax.invert_yaxis()
    ax.set_xlabel(f"{unit} (lower is better)")
    for y, value in enumerate(values):
        ax.text(value + (limits[1] - limits[0]) * 0.01, y, f"{value:.2f}", va="center", fontsize=9)


def fig_binarised_mnist():
    """Reported test NLL on MNIST in two panels, one per binarisation: compare only within a panel."""
    fig, axes = plt.subplots(2, 1, figsize=(8.5, 4.6))
    _bars(axes[0], FIXED_BINARISATION_NLL, "#2a6f97", (77, 83), "test NLL, nats")
    axes[0].set_title("MNIST, fixed binarisation (auto-regressive models and DRAW)", fontsize=10)
    _bars(axes[1], DYNAMIC_BINARISATION_NLL, "#c8a200", (80, 87), "test NLL, nats (k = 5000 estimate)")
    axes[1].set_title("MNIST, dynamic binarisation (IWAE paper, 2 stochastic layers)", fontsize=10)
    fig.tight_layout()
    return fig


def fig_cifar10():
    """Reported CIFAR-10 test bits per dimension of the auto-regressive models."""
    fig, ax = plt.subplots(figsize=(8.5, 2.6))
    _bars(ax, CIFAR10_BPD, "#2a6f97", (2.8, 3.2), "bits per dimension")
    ax.set_title("CIFAR-10, auto-regressive models", fontsize=10)
    fig.tight_layout()
    return fig

# Generated from the reference solution by `course stubs`. Fill in the parts that raise NotImplementedError.
"""PixelRNN's skew and unskew: the trick that lets the Diagonal BiLSTM run along diagonals.

The Diagonal BiLSTM processes an image one diagonal at a time. Shifting row i
of the input to the right by i positions (skewing) turns every diagonal into a
column, so a column-wise recurrence with a 2x1 convolution covers the
diagonals; unskewing shifts each row back afterwards.

    x (H=3, W=3)        skew(x) (3, 5)          row i starts at column i
    a b c               a b c . .
    d e f               . d e f .
    g h i               . . g h i

Fill in both functions. They must work on any batch of (B, C, H, W) tensors
(H need not equal W) and let gradients flow.

Every tensor a function returns has the dtype and device of the tensors it is
given (float32 in, float32 out; computing in float64 inside is fine if you cast
back).
"""

import torch


def skew(x):
    """Shift row i of every image right by i positions, filling with zeros.

    Inputs:
        x: (B, C, H, W) tensor.
    Returns:
        (B, C, H, W + H - 1) tensor s of x's dtype and device with
        s[..., i, i:i + W] = x[..., i, :] and zeros elsewhere. Differentiable in x.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def unskew(s):
    """Undo skew: take row i of s from column i to column i + W - 1.

    Inputs:
        s: (B, C, H, W + H - 1) tensor (a skewed image).
    Returns:
        (B, C, H, W) tensor x with x[..., i, :] = s[..., i, i:i + W], so that
        unskew(skew(x)) == x. Differentiable in s.
    """
    # YOUR CODE HERE
    raise NotImplementedError

# Generated from the reference solution by `course stubs`. Fill in the parts that raise NotImplementedError.
"""PixelCNN building blocks: causal masks, a masked convolution, bits per dimension, sampling.

An autoregressive model of a binary image x with pixels x_1 .. x_D in raster
order (row by row, left to right) factorises

    p(x) = prod_i p(x_i | x_1, ..., x_{i-1}),

and PixelCNN computes every conditional at once with convolutions whose
kernels are masked so that output pixel i never sees input pixel i or any
later one. The first layer uses mask type 'A' (centre hidden: the pixel being
predicted), every later layer type 'B' (centre visible: by then it only
carries information about earlier pixels).

Fill in the four parts below. Work with Bernoulli logits throughout.

Every tensor a function returns has the dtype and device of the tensors it is
given (float32 in, float32 out; computing in float64 inside is fine if you cast
back).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def causal_mask(kernel_size, mask_type):
    """The (k, k) 0/1 mask of a raster-order causal convolution.

    Inputs:
        kernel_size: odd int k >= 1.
        mask_type:   'A' (centre pixel hidden; the first layer) or 'B' (centre
                     visible; every later layer). Anything else is an error.
    Returns:
        (k, k) float32 tensor: 1 on every row above the centre row and on the
        centre row left of the centre; the centre is 1 for 'B' and 0 for 'A';
        0 everywhere else (the rest of the centre row and every row below).
    Raises:
        ValueError for a mask_type other than 'A' or 'B'.
    """
    # YOUR CODE HERE
    raise NotImplementedError


class MaskedConv2d(nn.Conv2d):
    """A Conv2d whose kernel is multiplied by causal_mask(kernel_size, mask_type) in every forward pass.

    Inputs of __init__:
        in_channels, out_channels: ints, as for nn.Conv2d.
        kernel_size: odd int k (square kernels only).
        mask_type:   'A' or 'B'.
        conv_kwargs: anything else nn.Conv2d accepts (bias=False, ...);
                     padding defaults to k // 2 so that H and W are kept.
    forward(x): x (B, in_channels, H, W) -> (B, out_channels, H, W).

    The mask must hold in every forward pass, also after optimizer steps have
    changed the weights: masking the initial weights once is not enough.
    """

    def __init__(self, in_channels, out_channels, kernel_size, mask_type, **conv_kwargs):
        # YOUR CODE HERE
        raise NotImplementedError

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError


def nll_bits_per_dim(logits, x):
    """Negative log-likelihood of binary images under independent Bernoullis, in bits per dimension.

    Inputs:
        logits: (B, C, H, W) Bernoulli logits (any finite values, e.g. +-100).
        x:      (B, C, H, W) the images, values in {0, 1}.
    Returns:
        scalar tensor: -log2 p(x | logits) summed over C, H, W, divided by
        C * H * W, and averaged over the batch. Differentiable in logits.
    """
    # YOUR CODE HERE
    raise NotImplementedError


@torch.no_grad()
def sample(model, n, image_shape, device=None):
    """Draw n images from an autoregressive model, one pixel at a time in raster order.

    Inputs:
        model:       callable, model(x) -> Bernoulli logits shaped like x (n, C, H, W),
                     where the logits at pixel (i, j) may depend only on pixels
                     before (i, j) in raster order.
        n:           number of images.
        image_shape: (C, H, W).
        device:      where to sample; None means the device of the model's parameters.
    Returns:
        (n, C, H, W) float tensor with values in {0, 1}.
    """
    # YOUR CODE HERE
    raise NotImplementedError

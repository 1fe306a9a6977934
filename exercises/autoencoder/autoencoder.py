# Generated from the reference solution by `course stubs`. Fill in the parts that raise NotImplementedError.
"""A plain (deterministic) autoencoder's reconstruction loss, in PyTorch.

An autoencoder maps x to a code h = encoder(x) and back to logits = decoder(h);
it is trained to reconstruct its input. For binary pixels the natural loss is
the Bernoulli negative log-likelihood (binary cross-entropy) of x under the
decoder's logits: summed over the pixels of an image, averaged over the batch.
There is no prior and no KL: that is what a VAE adds.

Every tensor a function returns has the dtype and device of the tensors it is
given (float32 in, float32 out; computing in float64 inside is fine if you cast
back).
"""

import torch.nn.functional as F


def reconstruction_loss(x, logits):
    """Mean over the batch of the binary cross-entropy summed over each example's pixels.

    Inputs:
        x:      (B, ...) targets in {0, 1}, e.g. (B, C, H, W) images or (B, P).
        logits: decoder output, same shape as x; p(pixel = 1) = sigmoid(logits).
    Returns:
        scalar tensor (0-d), differentiable in logits, finite for any finite
        logits (never take the log of a probability).
    """
    # YOUR CODE HERE
    raise NotImplementedError

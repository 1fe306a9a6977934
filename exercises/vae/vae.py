# Generated from the reference solution by `course stubs`. Fill in the parts that raise NotImplementedError.
"""The evidence lower bound (ELBO) of a variational autoencoder, in PyTorch.

A VAE has a prior p(z) = N(0, I), a decoder p(x | z) (Bernoulli pixels whose
logits come from a network) and an encoder q(z | x) = N(mu, diag exp(logvar)).
For every example it maximises

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))  <=  log p(x),

estimating the first term with one reparameterised sample z = mu + sigma * eps.

Fill in the four functions below. Sum over latent and pixel dimensions; return
one value per example (the training loop averages over the batch).

Every tensor a function returns has the dtype and device of the tensors it is
given (float32 in, float32 out; computing in float64 inside is fine if you cast
back).
"""

import torch
import torch.nn.functional as F


def reparameterize(mu, logvar):
    """Draw z ~ N(mu, diag exp(logvar)) so that gradients flow into mu and logvar.

    Inputs:
        mu:     (B, D) means of q(z | x).
        logvar: (B, D) log-variances of q(z | x).
    Returns:
        z: (B, D) = mu + exp(logvar / 2) * eps, with eps ~ N(0, I) drawn
           independently for every element; same dtype and device as mu.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def kl_to_standard_normal(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) for every example.

    Inputs:
        mu:     (B, D) means.
        logvar: (B, D) log-variances.
    Returns:
        (B,) tensor: the KL divergence, summed over the D latent dimensions.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def bernoulli_log_likelihood(x, logits):
    """log p(x | logits) of independent Bernoulli pixels, for every example.

    Inputs:
        x:      (B, ...) targets in {0, 1}, e.g. (B, C, H, W) images or (B, P).
        logits: same shape as x; p(pixel = 1) = sigmoid(logits).
    Returns:
        (B,) tensor: the log-likelihood summed over all non-batch dimensions;
        finite for any finite logits (never take the log of a probability).
    """
    # YOUR CODE HERE
    raise NotImplementedError


def elbo(x, logits, mu, logvar):
    """The per-example ELBO with a one-sample reconstruction term.

    Inputs:
        x:      (B, ...) binary targets.
        logits: decoder logits for x, same shape as x.
        mu:     (B, D) encoder means.
        logvar: (B, D) encoder log-variances.
    Returns:
        (B,) tensor: bernoulli_log_likelihood(x, logits) - kl_to_standard_normal(mu, logvar).
    """
    # YOUR CODE HERE
    raise NotImplementedError

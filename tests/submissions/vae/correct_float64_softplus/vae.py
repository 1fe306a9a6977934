"""A correct VAE loss computed in float64 with softplus, cast back to the input dtype."""
import torch
import torch.nn.functional as F


def reparameterize(mu, logvar):
    eps = torch.randn(mu.shape, dtype=mu.dtype, device=mu.device)
    return mu + eps * (logvar / 2).exp()


def kl_to_standard_normal(mu, logvar):
    mu64, lv64 = mu.double(), logvar.double()
    kl = -0.5 * (1 + lv64 - mu64.pow(2) - lv64.exp()).sum(dim=1)
    return kl.to(mu.dtype)


def bernoulli_log_likelihood(x, logits):
    x64, l64 = x.double().flatten(1), logits.double().flatten(1)
    # log sigmoid(l) = -softplus(-l), log(1 - sigmoid(l)) = -softplus(l)
    ll = -(x64 * F.softplus(-l64) + (1 - x64) * F.softplus(l64)).sum(dim=1)
    return ll.to(logits.dtype)


def elbo(x, logits, mu, logvar):
    return bernoulli_log_likelihood(x, logits) - kl_to_standard_normal(mu, logvar)

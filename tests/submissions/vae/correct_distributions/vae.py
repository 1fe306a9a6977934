"""A correct VAE loss written with torch.distributions."""
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence


def reparameterize(mu, logvar):
    return Normal(mu, torch.exp(0.5 * logvar)).rsample()


def kl_to_standard_normal(mu, logvar):
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return kl_divergence(q, p).sum(dim=-1)


def bernoulli_log_likelihood(x, logits):
    return Bernoulli(logits=logits).log_prob(x).reshape(x.shape[0], -1).sum(-1)


def elbo(x, logits, mu, logvar):
    return bernoulli_log_likelihood(x, logits) - kl_to_standard_normal(mu, logvar)

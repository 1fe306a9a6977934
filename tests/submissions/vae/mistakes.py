"""Wrong vae submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

MISTAKES = {
    # bce on probabilities.
    "bce_on_probabilities": [
        (
            '    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")  # (B, ...), stable for any logits\n'
            "    return -nll.flatten(1).sum(dim=1)  # (B,)\n",
            "    probs = torch.sigmoid(logits)\n"
            "    return -F.binary_cross_entropy(probs, x, reduction='none').flatten(1).sum(dim=1)\n",
        ),
    ],
    # elbo mean over batch.
    "elbo_mean_over_batch": [
        (
            "    return bernoulli_log_likelihood(x, logits) - kl_to_standard_normal(mu, logvar)  # (B,)\n",
            "    return (bernoulli_log_likelihood(x, logits) - kl_to_standard_normal(mu, logvar)).mean()\n",
        ),
    ],
    # exp logvar as std.
    "exp_logvar_as_std": [
        (
            "    std = torch.exp(0.5 * logvar)  # (B, D): the standard deviation is exp(logvar / 2)\n"
            "    eps = torch.randn_like(std)  # (B, D): fresh noise for every element\n"
            "    return mu + std * eps  # (B, D)\n",
            "    std = torch.exp(logvar)\n"
            "    return mu + std * torch.randn_like(std)\n",
        ),
    ],
    # kl constant dropped.
    "kl_constant_dropped": [
        (
            "    return 0.5 * torch.sum(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)  # (B,)\n",
            "    return 0.5 * torch.sum(torch.exp(logvar) + mu**2 - logvar, dim=1)\n",
        ),
    ],
    # kl half dropped.
    "kl_half_dropped": [
        (
            "    return 0.5 * torch.sum(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)  # (B,)\n",
            "    return torch.sum(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)\n",
        ),
    ],
    # kl mean over dims.
    "kl_mean_over_dims": [
        (
            "    return 0.5 * torch.sum(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)  # (B,)\n",
            "    return 0.5 * torch.mean(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)\n",
        ),
    ],
    # kl sign flipped.
    "kl_sign_flipped": [
        (
            "    return 0.5 * torch.sum(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)  # (B,)\n",
            "    return -0.5 * torch.sum(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)\n",
        ),
    ],
    # ll mean over pixels.
    "ll_mean_over_pixels": [
        (
            '    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")  # (B, ...), stable for any logits\n'
            "    return -nll.flatten(1).sum(dim=1)  # (B,)\n",
            '    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")\n'
            "    return -nll.flatten(1).mean(dim=1)\n",
        ),
    ],
    # noise shared across batch.
    "noise_shared_across_batch": [
        (
            "    std = torch.exp(0.5 * logvar)  # (B, D): the standard deviation is exp(logvar / 2)\n"
            "    eps = torch.randn_like(std)  # (B, D): fresh noise for every element\n"
            "    return mu + std * eps  # (B, D)\n",
            "    eps = torch.randn_like(mu[0])  # one noise vector for the whole batch\n"
            "    return mu + torch.exp(0.5 * logvar) * eps\n",
        ),
    ],
    # sample not rsample.
    "sample_not_rsample": [
        (
            "    std = torch.exp(0.5 * logvar)  # (B, D): the standard deviation is exp(logvar / 2)\n"
            "    eps = torch.randn_like(std)  # (B, D): fresh noise for every element\n"
            "    return mu + std * eps  # (B, D)\n",
            "    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample()\n",
        ),
    ],
    # bernoulli_log_likelihood averaged over the batch: a scalar where (B,) is asked for (elbo itself is right).
    "ll_returns_scalar": [
        (
            "    return -nll.flatten(1).sum(dim=1)  # (B,)\n",
            "    return -nll.flatten(1).sum(dim=1).mean()\n",
        ),
    ],
    # uniform noise with mean 0 and variance 1: the right moments, the wrong distribution.
    "uniform_noise": [
        (
            "    eps = torch.randn_like(std)  # (B, D): fresh noise for every element\n",
            "    eps = (torch.rand_like(std) - 0.5) * 12**0.5  # mean 0, variance 1\n",
        ),
    ],
}

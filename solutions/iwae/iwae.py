"""The importance-weighted bound (IWAE), in PyTorch.

With k samples z_1..z_k ~ q(z | x) and log-weights
log w_i = log p(x | z_i) + log p(z_i) − log q(z_i | x), the bound

    L_k(x) = log (1/k) Σ_i w_i  <=  log p(x)

is tighter than the ELBO (which is L_1) and tightens as k grows. The weights
are far too small or large to exponentiate directly: work with log-mean-exp.

Every tensor a function returns has the dtype and device of the tensors it is
given (float32 in, float32 out; computing in float64 inside is fine if you cast
back).
"""

import math

import torch


def log_mean_exp(values, dim):
    """log(mean(exp(values), dim)), finite for any finite values.

    Inputs:
        values: tensor of any shape.
        dim:    int, the dimension to average over (it is removed).
    Returns:
        tensor shaped like values without dimension dim.
    """
    # BEGIN SOLUTION
    return torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])  # max-shifted inside logsumexp
    # END SOLUTION


def iwae_bound(log_px_given_z, log_pz, log_qz):
    """The k-sample importance-weighted bound for every example.

    Inputs:
        log_px_given_z: (k, B) log p(x_b | z_kb) of k samples per example.
        log_pz:         (k, B) log p(z_kb) under the prior.
        log_qz:         (k, B) log q(z_kb | x_b) under the encoder.
    Returns:
        (B,) tensor: log (1/k) Σ_i exp(log p(x|z_i) + log p(z_i) − log q(z_i|x)).
    """
    # BEGIN SOLUTION
    log_w = log_px_given_z + log_pz - log_qz  # (k, B) log importance weights
    return log_mean_exp(log_w, dim=0)  # (B,)
    # END SOLUTION

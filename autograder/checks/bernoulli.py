"""Bernoulli losses from logits for the judges (trusted side only): the right value, and what the usual unstable
computation returns, so that feedback names "a loss on probabilities" only where the student's value is that.

The autoencoder's reconstruction_loss and the VAE's bernoulli_log_likelihood are the same quantity up to sign and
reduction; their judges share these.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

FROM_LOGITS = "compute it from the logits with F.binary_cross_entropy_with_logits (or F.logsigmoid)"
# Said only when the student's value equals nll_through_probabilities (a tested explanation, never a guess).
ON_PROBABILITIES = ("what F.binary_cross_entropy on sigmoid(logits) (a loss on probabilities) returns: a "
                    "confidently wrong pixel costs 100 nats instead of 150, because σ(±150) rounds to exactly 0 or 1 in "
                    "float32 and PyTorch's BCE clamps log 0 at −100 (clamping the logits at ±100 would do the same)")
# For a NaN or infinite value at confident logits: the two usual causes, asked, not claimed.
NOT_FINITE_CAUSES = ("does a log meet a probability that rounded to exactly 0 or 1 in float32 (log(sigmoid(·)); "
                     "0·log 0 gives NaN), or an exp overflow (log(1 + exp(·)))?")
# For a value that is right on moderate logits and wrong on confident ones, matching no tested explanation.
PRECISION_CAUSES = ("something loses precision at large |logits| — a probability that rounds to exactly 0 or 1 in "
                    "float32 before a log, an eps added inside the log, or a clamp?")


def nll(x, logits) -> np.ndarray:
    """Bernoulli negative log-likelihood of each example, summed over its non-batch dimensions (float64): (B,)."""
    per_pixel = F.binary_cross_entropy_with_logits(torch.as_tensor(logits, dtype=torch.float64),
                                                   torch.as_tensor(x, dtype=torch.float64), reduction="none")
    return per_pixel.flatten(1).sum(1).numpy()


def nll_through_probabilities(x, logits) -> np.ndarray:
    """What F.binary_cross_entropy on sigmoid(logits) gives each example in float32, as the probes pass the
    inputs: σ(±150) rounds to exactly 0 or 1, and the BCE clamps each log at −100: (B,)."""
    probabilities = torch.sigmoid(torch.as_tensor(logits, dtype=torch.float32))
    per_pixel = F.binary_cross_entropy(probabilities, torch.as_tensor(x, dtype=torch.float32), reduction="none")
    return per_pixel.double().flatten(1).sum(1).numpy()

"""Wrong flows submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

FORWARD_LOG_DET = "        log_det = s.sum(dim=1)  # (B,): the Jacobian is triangular with diagonal exp(s) (1 where kept)\n"
FORWARD_Y = "        y = kept + (1 - self.mask) * (x * torch.exp(s) + t)  # (B, D)\n"
INVERSE_X = "        return kept + (1 - self.mask) * ((y - t) * torch.exp(-s))  # (B, D)\n"

MISTAKES = {
    # The log-determinant of the inverse (or a sign slip): -sum(s).
    "log_det_wrong_sign": [(FORWARD_LOG_DET, "        log_det = -s.sum(dim=1)\n")],
    # One log-scale per coordinate, never summed: (B, D).
    "log_det_not_summed": [(FORWARD_LOG_DET, "        log_det = s\n")],
    # The mean over dimensions instead of the sum.
    "log_det_mean_over_dims": [(FORWARD_LOG_DET, "        log_det = s.mean(dim=1)\n")],
    # s of the kept coordinates counted too (the (1 - mask) factor on s dropped).
    "log_det_includes_kept": [("        s = s * (1 - self.mask)  # (B, D): only transformed coordinates are scaled\n", "")],
    # The masked (kept) half transformed as well.
    "masked_half_transformed": [(FORWARD_Y, "        y = x * torch.exp(s) + t\n")],
    # Mask 1 read as "transform this coordinate".
    "mask_inverted": [
        ("        kept = x * self.mask  # (B, D): the coordinates that pass through\n",
         "        kept = x * (1 - self.mask)\n"),
        ("        s = s * (1 - self.mask)  # (B, D): only transformed coordinates are scaled\n", "        s = s * self.mask\n"),
        (FORWARD_Y, "        y = kept + self.mask * (x * torch.exp(s) + t)\n"),
    ],
    # The conditioner fed the whole input, so the Jacobian is not triangular.
    "conditioner_sees_all": [("        s, t = self.conditioner(kept)  # (B, D) each\n        s = s * (1 - self.mask)",
                              "        s, t = self.conditioner(x)\n        s = s * (1 - self.mask)")],
    # exp(s) instead of exp(-s) in the inverse.
    "inverse_wrong_scale": [(INVERSE_X, "        return kept + (1 - self.mask) * ((y - t) * torch.exp(s))\n")],
    # Scale undone before the shift.
    "inverse_wrong_order": [(INVERSE_X, "        return kept + (1 - self.mask) * (y * torch.exp(-s) - t)\n")],
    # The base density's -(D/2) log(2 pi) dropped.
    "base_constant_dropped": [("    base = -0.5 * (z**2).sum(dim=1) - 0.5 * D * math.log(2 * math.pi)  # (B,) log N(z; 0, I)\n",
                               "    base = -0.5 * (z**2).sum(dim=1)\n")],
    # log p(x) = log N(z) - sum log_det.
    "log_prob_subtracts_log_det": [("    return base + total_log_det  # (B,)\n", "    return base - total_log_det\n")],
    # Layers applied last first in flow_log_prob.
    "log_prob_reversed_layers": [("    for layer in layers:\n        z, log_det = layer(z)",
                                  "    for layer in reversed(layers):\n        z, log_det = layer(z)")],
    # Sampling runs the inverses first-to-last.
    "sample_not_reversed": [("        for layer in reversed(layers):\n            x = layer.inverse(x)",
                             "        for layer in layers:\n            x = layer.inverse(x)")],
    # Sampling with the forward maps.
    "sample_uses_forward": [("            x = layer.inverse(x)  # (n, D)\n", "            x = layer(x)[0]\n")],
    # log_det detached from the graph: training ignores it.
    "log_det_detached": [(FORWARD_LOG_DET, "        log_det = s.sum(dim=1).detach()\n")],
    # One log-determinant for the whole batch: summed over examples too.
    "log_det_summed_over_batch": [(FORWARD_LOG_DET, "        log_det = s.sum()\n")],
    # torch.distributions' per-coordinate log-density averaged instead of summed.
    "base_log_density_averaged": [
        ("    base = -0.5 * (z**2).sum(dim=1) - 0.5 * D * math.log(2 * math.pi)  # (B,) log N(z; 0, I)\n",
         "    base = torch.distributions.Normal(0.0, 1.0).log_prob(z).mean(dim=1)\n")],
    # The training loss returned: -log p(x).
    "log_prob_returns_nll": [("    return base + total_log_det  # (B,)\n", "    return -(base + total_log_det)\n")],
    # Uniform base samples.
    "sample_uniform_base": [("    x = torch.randn(n, dim, device=device, dtype=dtype)  # (n, D) base samples z\n",
                             "    x = torch.rand(n, dim, device=device, dtype=dtype)\n")],
}

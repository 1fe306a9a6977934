"""Wrong autoencoder submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

MISTAKES = {
    # averaged over pixels as well as the batch.
    "mean_over_pixels": [
        (".flatten(1).sum(dim=1).mean()", ".mean()"),
    ],
    # summed over the batch instead of averaged.
    "sum_over_batch": [
        (".flatten(1).sum(dim=1).mean()", ".sum()"),
    ],
    # binary cross-entropy on probabilities: clamps log(0) at -100 for confident logits.
    "bce_on_probabilities": [
        ('F.binary_cross_entropy_with_logits(logits, x, reduction="none")',
         'F.binary_cross_entropy(logits.sigmoid(), x, reduction="none")'),
    ],
    # the loss leaves the graph through .item(): nothing can train on it.
    "item": [
        ("    return per_pixel.flatten(1).sum(dim=1).mean()", "    return torch.tensor(per_pixel.flatten(1).sum(dim=1).mean().item())"),
        ("import torch.nn.functional as F", "import torch\nimport torch.nn.functional as F"),
    ],
}

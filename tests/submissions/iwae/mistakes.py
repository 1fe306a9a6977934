"""Wrong iwae submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

MISTAKES = {
    # log-sum-exp without the −log k: a sum of the weights, not their mean.
    "no_minus_log_k": [
        (
            "torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])",
            "torch.logsumexp(values, dim=dim)",
        ),
    ],
    # exp() of the raw values: overflows and underflows for values of ±1000.
    "naive_exp": [
        (
            "torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])",
            "torch.log(torch.exp(values).mean(dim=dim))",
        ),
    ],
    # the mean of the log-weights: the k-sample ELBO, not the importance-weighted bound.
    "mean_of_log_weights": [
        (
            "    return log_mean_exp(log_w, dim=0)  # (B,)\n",
            "    return log_w.mean(dim=0)\n",
        ),
    ],
}

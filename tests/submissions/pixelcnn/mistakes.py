"""Wrong pixelcnn submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

MISTAKES = {
    # the whole centre row is kept (right of the centre too).
    "centre_row_kept": [
        (
            "    mask[centre, :centre] = 1.0  # left of the centre on the centre row\n"
            '    if mask_type == "B":\n'
            "        mask[centre, centre] = 1.0\n",
            "    mask[centre, :] = 1.0  # the whole centre row\n",
        ),
    ],
    # pixels sampled column by column.
    "column_major": [
        (
            "    for i in range(H):\n"
            "        for j in range(W):\n",
            "    for j in range(W):\n"
            "        for i in range(H):\n",
        ),
    ],
    # the mask is applied once to the initial weights; forward is plain Conv2d.
    "construction_only": [
        (
            '        self.register_buffer("mask", causal_mask(kernel_size, mask_type))  # (k, k), moves with .to(device)\n',
            "        with torch.no_grad():\n"
            "            self.weight *= causal_mask(kernel_size, mask_type)\n",
        ),
        (
            "        return self._conv_forward(x, self.weight * self.mask, self.bias)  # (B, out, H, W)\n",
            "        return super().forward(x)\n",
        ),
    ],
    # type A keeps the centre pixel, so the first layer sees the pixel it predicts.
    "leaky_mask": [
        (
            '    if mask_type == "B":\n'
            "        mask[centre, centre] = 1.0\n",
            "    mask[centre, centre] = 1.0\n",
        ),
    ],
    # nll in nats, not bits.
    "nats": [
        (
            "    return nats.flatten(1).mean(dim=1).mean() / math.log(2.0)\n",
            "    return nats.flatten(1).mean(dim=1).mean()\n",
        ),
    ],
    # padding is not defaulted to kernel_size // 2.
    "no_padding": [
        (
            '        conv_kwargs.setdefault("padding", kernel_size // 2)\n',
            "",
        ),
    ],
    # all pixels sampled in one pass.
    "one_pass": [
        (
            "    for i in range(H):\n"
            "        for j in range(W):\n"
            "            logits = model(x)  # (n, C, H, W)\n"
            "            x[:, :, i, j] = torch.bernoulli(torch.sigmoid(logits[:, :, i, j]))\n",
            "    x = torch.bernoulli(torch.sigmoid(model(x)))\n",
        ),
    ],
    # probabilities thresholded at 0.5 instead of sampled.
    "thresholded_sampling": [
        (
            "            x[:, :, i, j] = torch.bernoulli(torch.sigmoid(logits[:, :, i, j]))\n",
            "            x[:, :, i, j] = (torch.sigmoid(logits[:, :, i, j]) > 0.5).float()\n",
        ),
    ],
    # the mask is transposed (column-wise).
    "transposed": [
        (
            "    return mask\n",
            "    return mask.T.contiguous()\n",
        ),
    ],
    # mask types A and B swapped (A keeps the centre, B hides it).
    "types_swapped": [
        (
            '    if mask_type == "B":\n',
            '    if mask_type == "A":\n',
        ),
    ],
    # log(sigmoid(.)) overflows to inf for confident logits.
    "unstable_nll": [
        (
            '    nats = F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="none")  # (B, C, H, W)\n',
            "    p = torch.sigmoid(logits)\n"
            "    nats = -(x * torch.log(p) + (1 - x) * torch.log(1 - p))\n",
        ),
    ],
}

"""Wrong dcgan submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

MISTAKES = {
    # BatchNorm scales drawn from N(0, 0.02).
    "bn_centred_at_zero": [
        (
            "        nn.init.normal_(module.weight, 1.0, 0.02)\n",
            "        nn.init.normal_(module.weight, 0.0, 0.02)\n",
        ),
    ],
    # BatchNorm on the discriminator's input layer.
    "bn_on_d_input": [
        (
            "            nn.Conv2d(1, b, 4, 2, 1),  # (B, b, 4, 4); no BatchNorm on the input layer\n",
            "            nn.Conv2d(1, b, 4, 2, 1, bias=False),\n"
            "            nn.BatchNorm2d(b),\n",
        ),
    ],
    # init_weights never applied, and it does nothing.
    "default_init": [
        (
            "    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):\n"
            "        nn.init.normal_(module.weight, 0.0, 0.02)\n"
            "        if module.bias is not None:\n"
            "            nn.init.zeros_(module.bias)\n"
            "    elif isinstance(module, nn.BatchNorm2d):\n"
            "        nn.init.normal_(module.weight, 1.0, 0.02)\n"
            "        nn.init.zeros_(module.bias)\n",
            "    pass\n",
        ),
        (
            "            nn.Tanh(),\n"
            "        )\n"
            "        self.apply(init_weights)\n"
            "\n",
            "            nn.Tanh(),\n"
            "        )\n"
            "\n",
        ),
        (
            "        self.apply(init_weights)\n",
            "",
        ),
    ],
    # the discriminator returns (B, 1, 1, 1).
    "logits_not_flattened": [
        (
            "        return self.net(x).flatten()  # (B,)\n",
            "        return self.net(x)\n",
        ),
    ],
    # max pooling instead of a strided convolution in D.
    "pooling": [
        (
            "            nn.Conv2d(1, b, 4, 2, 1),  # (B, b, 4, 4); no BatchNorm on the input layer\n",
            "            nn.Conv2d(1, b, 3, 1, 1),\n"
            "            nn.MaxPool2d(2),\n",
        ),
    ],
    # the discriminator ends with a Sigmoid.
    "sigmoid_in_d": [
        (
            "            nn.Conv2d(2 * b, 1, 2, 1, 0),  # (B, 1, 1, 1)\n",
            "            nn.Conv2d(2 * b, 1, 2, 1, 0),  # (B, 1, 1, 1)\n"
            "            nn.Sigmoid(),\n",
        ),
    ],
    # 0.02 used as the variance.
    "variance_init": [
        (
            "        nn.init.normal_(module.weight, 0.0, 0.02)\n",
            "        nn.init.normal_(module.weight, 0.0, 0.02 ** 0.5)\n",
        ),
    ],
}

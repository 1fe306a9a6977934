"""Wrong gan submissions: mistake -> (old, new) edits of the reference, applied by tests/mutations.py."""

MISTAKES = {
    # discriminator_loss averages over the concatenated real+fake batch.
    "concat_batch_mean": [
        (
            "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # mean -log σ(real)\n"
            "    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # mean -log(1-σ(fake))\n"
            "    return real_term + fake_term\n",
            "    logits = torch.cat([real_logits, fake_logits])\n"
            "    labels = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])\n"
            "    return F.binary_cross_entropy_with_logits(logits, labels)\n",
        ),
        (
            "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
            "    return -F.logsigmoid(fake_logits).mean()\n",
        ),
        (
            "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
            "    return -F.softplus(fake_logits).mean()\n",
        ),
    ],
    # the discriminator loss halved in the step (a pix2pix habit).
    "d_loss_halved": [
        (
            "    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))\n",
            "    d_loss = 0.5 * discriminator_loss(discriminator(real), discriminator(fake.detach()))\n",
        ),
    ],
    # the generator is updated before the discriminator.
    "generator_first": [
        (
            "    # Discriminator step: the fakes are detached, so no gradient reaches G.\n"
            "    fake = generator(z)  # (B_fake, ...)\n"
            "    d_optimizer.zero_grad()\n"
            "    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))\n"
            "    d_loss.backward()\n"
            "    d_optimizer.step()\n"
            "\n"
            "    # Generator step, against the updated discriminator.\n",
            "",
        ),
        (
            "    g_optimizer.step()\n",
            "    g_optimizer.step()\n"
            "\n"
            "    d_optimizer.zero_grad()\n"
            "    d_loss = discriminator_loss(discriminator(real), discriminator(generator(z).detach()))\n"
            "    d_loss.backward()\n"
            "    d_optimizer.step()\n",
        ),
    ],
    # real and fake labels swapped in discriminator_loss.
    "labels_swapped": [
        (
            "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # mean -log σ(real)\n"
            "    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # mean -log(1-σ(fake))\n",
            "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))\n"
            "    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
        ),
    ],
    # log(sigmoid(x)) instead of logsigmoid: -inf for confident logits.
    "log_of_sigmoid": [
        (
            "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # mean -log σ(real)\n"
            "    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # mean -log(1-σ(fake))\n"
            "    return real_term + fake_term\n",
            "    return (-torch.log(torch.sigmoid(real_logits))).mean() + (-torch.log(1 - torch.sigmoid(fake_logits))).mean()\n",
        ),
        (
            "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
            "    return (-torch.log(torch.sigmoid(fake_logits))).mean()\n",
        ),
        (
            "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
            "    return torch.log(1 - torch.sigmoid(fake_logits)).mean()\n",
        ),
    ],
    # -log σ(x) written as log(1 + exp(-x)) by hand: right for moderate logits, exp overflows to inf for confident ones.
    "softplus_by_hand": [
        (
            "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # mean -log σ(real)\n"
            "    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # mean -log(1-σ(fake))\n"
            "    return real_term + fake_term\n",
            "    return torch.log(1 + torch.exp(-real_logits)).mean() + torch.log(1 + torch.exp(fake_logits)).mean()\n",
        ),
        (
            "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
            "    return torch.log(1 + torch.exp(-fake_logits)).mean()\n",
        ),
        (
            "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
            "    return -torch.log(1 + torch.exp(fake_logits)).mean()\n",
        ),
    ],
    # the generator step uses the saturating minimax loss.
    "minimax_in_step": [
        (
            "    g_loss = generator_loss(discriminator(generator(z)))\n",
            "    g_loss = generator_loss_minimax(discriminator(generator(z)))\n",
        ),
    ],
    # the two generator losses' bodies swapped.
    "names_swapped": [
        (
            "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
            "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
        ),
        (
            "    Returns:\n"
            "        scalar tensor (0-d), stable for any finite logits.\n"
            '    """\n'
            "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n"
            "\n"
            "\n"
            "def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, z):\n",
            "    Returns:\n"
            "        scalar tensor (0-d), stable for any finite logits.\n"
            '    """\n'
            "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n"
            "\n"
            "\n"
            "def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, z):\n",
        ),
    ],
    # fakes not detached and the generator's gradients not zeroed.
    "no_detach_no_zero_grad": [
        (
            "    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))\n",
            "    d_loss = discriminator_loss(discriminator(real), discriminator(fake))\n",
        ),
        (
            "    g_optimizer.zero_grad()\n",
            "",
        ),
    ],
    # gradients never zeroed, so they accumulate.
    "no_zero_grad": [
        (
            "    d_optimizer.zero_grad()\n",
            "",
        ),
        (
            "    g_optimizer.zero_grad()\n",
            "",
        ),
    ],
    # generator_loss is the saturating minimax loss.
    "saturating_generator_loss": [
        (
            "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
            "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
        ),
    ],
    # sigmoid applied to the logits before a logits loss.
    "sigmoid_twice": [
        (
            "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # mean -log σ(real)\n"
            "    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # mean -log(1-σ(fake))\n"
            "    return real_term + fake_term\n",
            "    real, fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)\n"
            "    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))\n"
            "            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))\n",
        ),
        (
            "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
            "    fake = torch.sigmoid(fake_logits)\n"
            "    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))\n",
        ),
        (
            "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
            "    fake = torch.sigmoid(fake_logits)\n"
            "    return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))\n",
        ),
    ],
    # losses summed over the batch instead of averaged.
    "sum_not_mean": [
        (
            "    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # mean -log σ(real)\n"
            "    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # mean -log(1-σ(fake))\n"
            "    return real_term + fake_term\n",
            '    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits), reduction="sum")\n'
            '            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits), reduction="sum"))\n',
        ),
        (
            "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
            '    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits), reduction="sum")\n',
        ),
        (
            "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
            '    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits), reduction="sum")\n',
        ),
    ],
    # discriminator_loss halved in the loss itself; gan_train_step is right.
    "discriminator_loss_halved": [
        (
            "    return real_term + fake_term\n",
            "    return 0.5 * (real_term + fake_term)\n",
        ),
    ],
}

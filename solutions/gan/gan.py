"""GAN losses and one training step, in PyTorch.

The discriminator D outputs logits l = D(x); its probability that x is real is
sigma(l). The generator G maps noise z to samples G(z). Training alternates:

- a discriminator step that lowers  mean(-log sigma(D(x))) + mean(-log(1 - sigma(D(G(z)))));
- a generator step that lowers the non-saturating loss  mean(-log sigma(D(G(z)))).

Work with logits throughout: -log sigma(l) = softplus(-l) and
-log(1 - sigma(l)) = softplus(l) are exact and stable for any finite l, while
log(sigmoid(l)) is -inf once sigmoid(l) underflows.

Every tensor a function returns has the dtype and device of the tensors it is
given (float32 in, float32 out; computing in float64 inside is fine if you cast
back).
"""

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    """Discriminator loss: mean(-log sigma(real)) + mean(-log(1 - sigma(fake))).

    Inputs:
        real_logits: (B_real,) or (B_real, 1) logits of D on real samples.
        fake_logits: (B_fake,) or (B_fake, 1) logits of D on generated samples;
                     B_fake may differ from B_real.
    Returns:
        scalar tensor (0-d), stable for any finite logits.
    """
    # BEGIN SOLUTION
    real_term = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # mean -log σ(real)
    fake_term = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # mean -log(1-σ(fake))
    return real_term + fake_term
    # END SOLUTION


def generator_loss(fake_logits):
    """Non-saturating generator loss: mean(-log sigma(fake)).

    Inputs:
        fake_logits: (B,) or (B, 1) logits of D on generated samples.
    Returns:
        scalar tensor (0-d), stable for any finite logits.
    """
    # BEGIN SOLUTION
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    # END SOLUTION


def generator_loss_minimax(fake_logits):
    """Saturating (minimax) generator loss: mean(log(1 - sigma(fake))), which G minimises.

    Inputs:
        fake_logits: (B,) or (B, 1) logits of D on generated samples.
    Returns:
        scalar tensor (0-d), stable for any finite logits.
    """
    # BEGIN SOLUTION
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    # END SOLUTION


def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, z):
    """One discriminator update, then one generator update.

    Inputs:
        generator:     module, z (B_fake, Z) -> samples shaped like `real`'s rows.
        discriminator: module, samples (B, ...) -> logits (B, 1) or (B,).
        g_optimizer:   optimizer over the generator's parameters.
        d_optimizer:   optimizer over the discriminator's parameters.
        real:          (B_real, ...) real samples.
        z:             (B_fake, Z) noise.
    Returns:
        (d_loss, g_loss): Python floats, the discriminator loss before its update
        and the generator loss (non-saturating, against the updated discriminator).

    The discriminator step must leave the generator untouched (detach the fakes),
    and gradients are zeroed before each backward pass.
    """
    # BEGIN SOLUTION
    # Discriminator step: the fakes are detached, so no gradient reaches G.
    fake = generator(z)  # (B_fake, ...)
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    d_optimizer.step()

    # Generator step, against the updated discriminator.
    g_optimizer.zero_grad()
    g_loss = generator_loss(discriminator(generator(z)))
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()
    # END SOLUTION

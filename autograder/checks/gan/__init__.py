"""Hidden checks of the GAN exercise (losses, training step, ring smoke test)."""

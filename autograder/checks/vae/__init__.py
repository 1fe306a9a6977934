"""Hidden checks of the VAE exercise."""

"""Hidden checks of the autoencoder exercise."""

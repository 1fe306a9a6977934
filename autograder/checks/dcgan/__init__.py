"""Hidden checks of the DCGAN exercise (shapes, layer layout, initialisation)."""

"""Hidden checks of the diffusion exercise."""

"""Hidden checks of the IWAE exercise."""

"""Hidden checks of the flows exercise."""

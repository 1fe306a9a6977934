"""The lecture site: `course build` turns lectures/*/ into offline slides and notes (see build.py)."""

"""The course's dependencies as pyproject.toml declares them, for the environments exports set up."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

# What students need: the exercises, their public checks, the notebooks and `course check`.
STUDENT_PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "torchvision", "matplotlib", "pyyaml", "pydantic",
                    "tqdm", "nbformat", "jupytext", "pytest")


def declared(root: Path) -> list[str]:
    """Every runtime dependency of the course package (what its checks need where they run)."""
    with open(root / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def for_students(root: Path) -> list[str]:
    return [r for r in declared(root) if Requirement(r).name.lower() in STUDENT_PACKAGES]

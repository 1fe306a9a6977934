"""Trained weights kept on disk between lecture-site builds, keyed by everything that determines them.

A figure that needs a model too slow to train on every build wraps its training in
`cached_training`: the first build trains and saves the state dict; later builds load it
in milliseconds. The key hashes the given source files' contents, the given configuration
values and the torch version, so changing the code or the configuration retrains. Nothing
here is committed to git. Set GENMODELS_CACHE to choose the folder (default
$XDG_CACHE_HOME/genmodels-course, or ~/.cache/genmodels-course), or to an empty string to
switch the cache off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn


def cache_dir() -> Path | None:
    """The cache folder, or None when GENMODELS_CACHE is set to an empty string."""
    configured = os.environ.get("GENMODELS_CACHE")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "genmodels-course"


def cache_key(parts: Sequence) -> str:
    """sha256 over `parts`: a Path contributes its file's bytes, anything else its repr."""
    digest = hashlib.sha256(torch.__version__.encode())
    for part in parts:
        digest.update(Path(part).read_bytes() if isinstance(part, Path) else repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def cached_training(name: str, model: nn.Module, train: Callable[[nn.Module], nn.Module], key: Sequence) -> nn.Module:
    """`train(model)`, or `model` with the weights a previous identical training saved; returned in eval mode.

    name: a readable prefix for the file; key: source files (Paths) and configuration values that
    determine the result. An unreadable or incompatible cache file is ignored and overwritten.
    """
    folder = cache_dir()
    path = folder / f"{name}-{cache_key(key)}.pt" if folder else None
    if path and path.is_file():
        try:
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            return model.eval()
        except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError):
            pass  # a partial, stale or foreign file: train again
    model = train(model)
    if path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            torch.save(model.state_dict(), partial)
            partial.replace(path)  # atomic: a concurrent build never reads half a file
        except OSError:
            pass  # a read-only home: the figure is still made, just not cached
    return model.eval()

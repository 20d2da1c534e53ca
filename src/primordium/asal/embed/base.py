"""The foundation-model interface and the registry of models by name."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from primordium.errors import ConfigError

MODELS = ("clip", "pixels")


class FoundationModel(Protocol):
    name: str

    def embed_images(self, images: np.ndarray) -> np.ndarray:
        """uint8[N, H, W, 3] -> float32[N, D], rows of unit norm."""

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Prompts -> float32[N, D], rows of unit norm (same space as images)."""


def normalise(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float32)
    return z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-12)


def check_images(images: np.ndarray) -> np.ndarray:
    a = np.asarray(images)
    if a.ndim != 4 or a.shape[-1] != 3 or a.dtype != np.uint8:
        raise ValueError(f"expected uint8[N, H, W, 3] images, got {a.dtype}{list(a.shape)}")
    return a


def get_model(name: str, weights: str | None = None, **kwargs) -> FoundationModel:
    """``pixels`` (``pixels:<side>`` for a side other than 16), or ``clip``
    (optionally ``clip:<checkpoint name>``)."""
    base, _, checkpoint = name.partition(":")
    base = base.strip().lower()
    if base == "pixels":
        from primordium.asal.embed.pixels import PixelModel

        if checkpoint:
            if not checkpoint.isdigit() or not 1 <= int(checkpoint) <= 256:
                raise ConfigError(f"bad pixels model {name!r} (use pixels or pixels:<side from 1 to 256>)")
            kwargs["side"] = int(checkpoint)
        return PixelModel(**kwargs)
    if base == "clip":
        from primordium.asal.embed.clip import HFModel

        return HFModel.load(weights or checkpoint or None, **kwargs)
    raise ConfigError(f"unknown foundation model {name!r} (choose from {', '.join(MODELS)})")

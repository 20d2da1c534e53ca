"""The foundation-model interface and the registry of models by name."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from primordium.errors import ConfigError

MODELS = ("clip", "dino", "pixels", "thumbnail")


class FoundationModel(Protocol):
    name: str

    def embed_images(self, images: np.ndarray) -> np.ndarray:
        """float32[N, H, W, 3] in [0, 1] (or uint8) -> float32[N, D], rows of unit norm."""

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


def as_float_images(images: np.ndarray) -> np.ndarray:
    """Frames as float32[N, H, W, 3] in [0, 1]; uint8 frames are divided by 255."""
    a = np.asarray(images)
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"expected [N, H, W, 3] images, got {a.dtype}{list(a.shape)}")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    return a.astype(np.float32)


def get_model(name: str, weights: str | None = None, **kwargs) -> FoundationModel:
    """``pixels`` (the paper's), ``thumbnail`` (``thumbnail:<side>``, primordium's
    own), ``clip`` (optionally ``clip:<checkpoint>``) or ``dino`` (``dino:<checkpoint>``)."""
    base, _, checkpoint = name.partition(":")
    base = base.strip().lower()
    if base == "pixels":
        from primordium.asal.embed.pixels import PixelModel

        if checkpoint:
            raise ConfigError(
                f"bad pixels model {name!r} (the paper's pixels model has no settings; "
                "see thumbnail:<side>)"
            )
        return PixelModel()
    if base == "thumbnail":
        from primordium.asal.embed.thumbnail import ThumbnailModel

        if checkpoint:
            if not checkpoint.isdigit() or not 1 <= int(checkpoint) <= 256:
                raise ConfigError(
                    f"bad thumbnail model {name!r} (use thumbnail or thumbnail:<side from 1 to 256>)"
                )
            kwargs["side"] = int(checkpoint)
        return ThumbnailModel(**kwargs)
    if base == "clip":
        from primordium.asal.embed.clip import HFModel

        return HFModel.load(weights or checkpoint or None, **kwargs)
    if base == "dino":
        from primordium.asal.embed.dino import DinoModel

        return DinoModel.load(weights or checkpoint or None, **kwargs)
    raise ConfigError(f"unknown foundation model {name!r} (choose from {', '.join(MODELS)})")

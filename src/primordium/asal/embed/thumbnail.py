"""primordium's own offline model, `thumbnail`: downsampled pixels with an anchor.

An image becomes its area-averaged ``side`` x ``side`` RGB thumbnail minus
mid-grey, plus one constant "anchor" component as large as an all-black
image's vector, scaled to unit norm. Inner products then compare coarse
layout and colour. The anchor matters: without it a nearly uniform grey
thumbnail (fine-grained static averaged out) is a tiny vector whose
direction is its leftover noise, so every frame of static looked brand new
and chaotic worlds won every novelty search. With it, static looks like
static; black and white are orthogonal; every all-black frame maps to the
same vector, so dead worlds look alike, as they should to a novelty search.

It has no language: text targets need CLIP, and a target image (embedded the
same way) stands in for a prompt.
"""

from __future__ import annotations

import numpy as np

from primordium.asal.embed.base import as_float_images, normalise
from primordium.errors import ConfigError


class ThumbnailModel:
    name = "thumbnail"

    def __init__(self, side: int = 16):
        self.side = int(side)

    def embed_images(self, images: np.ndarray) -> np.ndarray:
        a = as_float_images(images)
        n, h, w, _ = a.shape
        s = self.side
        # Area averaging over an integer grid of blocks (crop the remainder).
        bh, bw = max(h // s, 1), max(w // s, 1)
        if h < s or w < s:
            rows = (np.arange(s) * h) // s
            cols = (np.arange(s) * w) // s
            small = a[:, rows][:, :, cols]
        else:
            small = a[:, : bh * s, : bw * s].reshape(n, s, bh, s, bw, 3).mean(axis=(2, 4))
        flat = small.reshape(n, -1) - 0.5
        anchor = np.full((n, 1), 0.5 * np.sqrt(flat.shape[1]), np.float32)
        return normalise(np.concatenate([flat, anchor], axis=1))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise ConfigError(
            "the pixels model cannot embed text prompts; use fm clip, or a target_image",
            field=("fm", "target_image"),
        )


def load_target_image(path: str, size: int = 224) -> np.ndarray:
    """A user's image file as uint8[1, size, size, 3]."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((size, size), Image.BILINEAR)
            return np.asarray(im, np.uint8)[None]
    except FileNotFoundError:
        raise ConfigError("no such file", file=path) from None
    except (UnidentifiedImageError, OSError) as e:
        raise ConfigError(f"not a readable image ({type(e).__name__})", file=path) from None

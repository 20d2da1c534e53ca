"""The paper's ``pixels`` model: ImageNet-normalised 8x8 average pooling.

A float image in [0, 1] is normalised per channel with ImageNet's mean and
standard deviation (DINO's preprocessor values), averaged over 8x8 pixel
blocks, flattened channel-major (channel, block row, block column) and scaled
to unit norm. A 224 image gives 3 x 28 x 28 = 2352 numbers. The side must be
a multiple of 8. It is a JAX function, so rollouts can embed frames inside
the compiled graph as the paper's code does.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from primordium.asal.embed.base import as_float_images
from primordium.errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BLOCK = 8


def embed_pixels(img: jnp.ndarray) -> jnp.ndarray:
    """float[H, W, 3] in [0, 1] (H, W multiples of 8) -> f32[3 * H/8 * W/8], unit norm."""
    h, w, c = img.shape
    x = (img - jnp.asarray(IMAGENET_MEAN)) / jnp.asarray(IMAGENET_STD)
    pooled = x.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK, c).mean(axis=(1, 3))
    z = jnp.moveaxis(pooled, -1, 0).reshape(-1)
    return z / jnp.linalg.norm(z, axis=-1, keepdims=True)


class PixelModel:
    name = "pixels"
    embed_jax = staticmethod(embed_pixels)

    def embed_images(self, images: np.ndarray) -> np.ndarray:
        a = as_float_images(images)
        if a.shape[1] % BLOCK or a.shape[2] % BLOCK:
            raise ConfigError(
                f"the pixels model needs image sides that are multiples of {BLOCK}, "
                f"got {a.shape[1]}x{a.shape[2]}"
            )
        import jax

        return np.asarray(jax.vmap(embed_pixels)(jnp.asarray(a)), np.float32)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise ConfigError(
            "the pixels model cannot embed text prompts; use fm clip, or a target_image",
            field=("fm", "target_image"),
        )

"""Parameters in, embeddings out: rollout a population, render, embed."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from primordium.asal.substrates.base import Substrate, rollout, to_uint8


class Evaluator:
    """Holds the substrate, the foundation model and the rollout settings.

    ``flat`` parameter vectors (``jax.flatten_util.ravel_pytree`` of the
    substrate's params) are what optimisers see.
    """

    def __init__(self, substrate: Substrate, fm, n_steps: int, n_frames: int, size: int, key: jax.Array,
                 executor=None):
        self.substrate = substrate
        # With an executor, each worker rolls out one chunk of the population.
        # Every member uses the same key, so the split changes no frame.
        self.executor = executor
        self.fm = fm
        self.n_steps, self.n_frames, self.size = int(n_steps), int(n_frames), int(size)
        self.key = key
        template = substrate.default_params(jax.random.PRNGKey(0))
        flat, self.unravel = ravel_pytree(template)
        self.dim = int(flat.shape[0])

    def unravel_batch(self, flat: np.ndarray):
        return jax.vmap(self.unravel)(jnp.asarray(flat, jnp.float32))

    def frames(self, flat: np.ndarray) -> np.ndarray:
        """uint8[B, T, size, size, 3] for a batch of flat parameter vectors."""
        flat = np.asarray(flat, np.float32)
        if self.executor is not None and self.executor.workers > 1 and len(flat) > 1:
            chunks = np.array_split(flat, min(len(flat), self.executor.workers))
            key = np.asarray(jax.random.key_data(self.key) if jnp.issubdtype(self.key.dtype, jax.dtypes.prng_key)
                             else self.key)
            tasks = [(self.substrate, key, c, self.n_steps, self.n_frames, self.size) for c in chunks]
            return np.concatenate(self.executor.map(_frames_task, tasks))
        frames, self.substrate = rollout(self.substrate, self.key, self.unravel_batch(flat), self.n_steps,
                                         self.n_frames, self.size, batched=True)
        return to_uint8(frames)

    def embed(self, frames: np.ndarray) -> np.ndarray:
        b, t = frames.shape[:2]
        z = self.fm.embed_images(frames.reshape((b * t,) + frames.shape[2:]))
        return z.reshape(b, t, -1)

    def __call__(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings f32[B, T, D], frames uint8[B, T, H, W, 3])."""
        frames = self.frames(flat)
        return self.embed(frames), frames


def _frames_task(task) -> np.ndarray:
    """One executor task: roll out a chunk of the population (module level, so it pickles)."""
    substrate, key, flat, n_steps, n_frames, size = task
    return Evaluator(substrate, None, n_steps, n_frames, size, jnp.asarray(key)).frames(flat)


Score = Callable[[np.ndarray], np.ndarray]

"""Parameters in, embeddings and losses out: roll out, render, embed.

Keys are used as the paper's search uses them: a population shares the keys
of one generation, ``bs`` initial states come from ``split(key, bs)``, and
each rollout draws its initial state and its steps from its own key (see
``substrates.base.rollout``). Foundation models with a JAX image function
(``pixels``) embed inside the compiled rollout, as the paper's code does;
the others (CLIP, DINO on PyTorch) embed the float frames afterwards.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from primordium.asal.substrates.base import Substrate, rollout


class Evaluator:
    """Holds the substrate, the foundation model and the rollout settings.

    ``flat`` parameter vectors (``jax.flatten_util.ravel_pytree`` of the
    substrate's params, the layout of the paper's flattened substrates) are
    what optimisers see.
    """

    def __init__(
        self, substrate: Substrate, fm, n_steps: int, time_sampling, size: int, executor=None
    ):
        self.substrate = substrate
        # With an executor, each worker rolls out one chunk of the population;
        # members share their keys, so the split changes no frame (an in-graph
        # embedding may differ in the last bit: XLA compiles each chunk size apart).
        self.executor = executor
        self.fm = fm
        self.n_steps, self.time_sampling, self.size = int(n_steps), time_sampling, int(size)
        template = substrate.default_params(jax.random.PRNGKey(0))
        flat, self.unravel = ravel_pytree(template)
        self.dim = int(flat.shape[0])

    def unravel_batch(self, flat: np.ndarray):
        return jax.vmap(self.unravel)(jnp.asarray(flat, jnp.float32))

    def _embed_in_graph(self):
        return getattr(self.fm, "embed_jax", None)

    def frames(
        self, flat: np.ndarray, keys: jax.Array, embed=None, per_member: bool = False
    ) -> np.ndarray:
        """float32[B, S, K, size, size, 3] (or embeddings [B, S, K, D] with ``embed``).

        ``keys`` [S, 2]: every member runs from each of these initial-state keys;
        with ``per_member`` keys [B, 2] pair up with members (S = 1).
        """
        flat = np.asarray(flat, np.float32)
        keys = jnp.asarray(keys)
        if (
            self.executor is not None
            and self.executor.workers > 1
            and len(flat) > 1
            and not per_member
        ):
            chunks = np.array_split(flat, min(len(flat), self.executor.workers))
            tasks = [
                (
                    self.substrate,
                    np.asarray(keys),
                    c,
                    self.n_steps,
                    self.time_sampling,
                    self.size,
                    embed,
                )
                for c in chunks
            ]
            return np.concatenate(self.executor.map(frames_task, tasks))
        params = self.unravel_batch(flat)
        if per_member:
            out, self.substrate = rollout(
                self.substrate,
                keys,
                params,
                self.n_steps,
                size=self.size,
                batched=True,
                time_sampling=self.time_sampling,
                embed=embed,
                key_per_member=True,
            )
            return np.asarray(out)[:, None]
        out, self.substrate = rollout(
            self.substrate,
            keys,
            params,
            self.n_steps,
            size=self.size,
            batched=True,
            time_sampling=self.time_sampling,
            embed=embed,
        )
        return np.asarray(out)

    def embeddings(self, flat: np.ndarray, keys: jax.Array, per_member: bool = False) -> np.ndarray:
        """f32[B, S, K, D], rows of unit norm."""
        embed = self._embed_in_graph()
        if embed is not None:
            return self.frames(flat, keys, embed, per_member)
        frames = self.frames(flat, keys, None, per_member)
        lead = frames.shape[:3]
        z = self.fm.embed_images(frames.reshape((-1,) + frames.shape[3:]))
        return z.reshape(lead + (-1,))


def frames_task(task) -> np.ndarray:
    """One executor task: roll out a chunk of the population (module level, so it pickles)."""
    substrate, keys, flat, n_steps, time_sampling, size, embed = task
    return Evaluator(substrate, None, n_steps, time_sampling, size).frames(
        flat, jnp.asarray(keys), embed
    )

"""The ASAL objectives (Kumar et al. 2024), as pure functions of embeddings.

All are minimised, and all take unit-norm rows, so inner products are
cosine similarities.

- supervised target: -mean_t <z_t, z_prompt(t)>, prompts spread evenly over
  the T frames (one prompt: every frame against it);
- its softmax variant: the cross-entropy of recognising, among all prompts,
  the one assigned to each frame (logits scaled as in CLIP);
- open-endedness: mean over t >= 1 of max over s < t of <z_t, z_s> (how
  much each new frame resembles something already seen);
- illumination: mean over i of max over j != i of <z_i, z_j> (how close each
  simulation is to its nearest neighbour in the set).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

CLIP_LOGIT_SCALE = 100.0


def prompt_index(n_frames: int, n_prompts: int) -> jax.Array:
    """Which prompt each frame is compared with: equal consecutive shares."""
    return (jnp.arange(n_frames) * n_prompts) // n_frames


def target_score(z_frames: jax.Array, z_prompts: jax.Array) -> jax.Array:
    """z_frames f32[..., T, D], z_prompts f32[P, D] -> f32[...]."""
    t = z_frames.shape[-2]
    zp = z_prompts[prompt_index(t, z_prompts.shape[0])]
    return -jnp.mean(jnp.sum(z_frames * zp, -1), -1)


def target_softmax_score(z_frames: jax.Array, z_prompts: jax.Array, scale: float = CLIP_LOGIT_SCALE) -> jax.Array:
    """Cross-entropy of each frame classifying its own prompt among all prompts."""
    t = z_frames.shape[-2]
    logits = scale * jnp.einsum("...td,pd->...tp", z_frames, z_prompts)
    logp = jax.nn.log_softmax(logits, -1)
    own = jax.nn.one_hot(prompt_index(t, z_prompts.shape[0]), z_prompts.shape[0])
    return -jnp.mean(jnp.sum(logp * own, -1), -1)


def open_endedness_score(z_frames: jax.Array) -> jax.Array:
    """z_frames f32[..., T, D] (T >= 2) -> f32[...]; lower is more open-ended."""
    t = z_frames.shape[-2]
    sim = jnp.einsum("...td,...sd->...ts", z_frames, z_frames)
    earlier = jnp.tril(jnp.ones((t, t), bool), k=-1)
    best = jnp.max(jnp.where(earlier, sim, -jnp.inf), -1)
    return jnp.mean(best[..., 1:], -1)


def illumination_score(z: jax.Array) -> jax.Array:
    """z f32[N, D] (N >= 2) -> scalar; lower means a more diverse set."""
    sim = z @ z.T
    sim = jnp.where(jnp.eye(z.shape[0], dtype=bool), -jnp.inf, sim)
    return jnp.mean(jnp.max(sim, -1))


def nearest_similarity(z: jax.Array) -> jax.Array:
    """Per-member max similarity to any other member, f32[N]."""
    sim = z @ z.T
    return jnp.max(jnp.where(jnp.eye(z.shape[0], dtype=bool), -jnp.inf, sim), -1)


OBJECTIVES = ("target", "target-softmax", "open-endedness", "illuminate")

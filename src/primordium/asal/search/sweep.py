"""Exhaustive sweep of Life-like rules, ranked by open-endedness.

Every rule starts from the same initial states (common random numbers: the
same keys, and for ``gol`` the same density per key), so differences in score
come from the rules alone.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.objectives import open_endedness_score
from primordium.asal.substrates.base import rollout
from primordium.asal.substrates.life import GameOfLife, Life, rule_bits


def rule_params(rules: np.ndarray, life: GameOfLife | Life | None = None):
    """Rule numbers as ``life``'s parameters: themselves for the paper's ``gol``,
    18 signs for ``life_like`` (the default)."""
    if isinstance(life, GameOfLife):
        return jnp.asarray(np.asarray(rules, np.int64), jnp.int32)
    return {"rule": jnp.asarray(np.where(rule_bits(rules), 1.0, -1.0), jnp.float32)}


def score_rules(
    rules: np.ndarray,
    fm,
    keys: jax.Array,
    life: GameOfLife | Life,
    n_steps: int,
    n_frames: int,
    size: int,
) -> np.ndarray:
    """Open-endedness score (lower = more open-ended) of each rule number,
    averaged over the initial states drawn by ``keys`` [S, 2] (the same for every rule)."""
    embed = getattr(fm, "embed_jax", None)
    keys = jnp.asarray(keys).reshape(-1, 2)
    out, _ = rollout(
        life, keys, rule_params(rules, life), n_steps, n_frames, size, batched=True, embed=embed
    )
    z = np.asarray(out)  # [B, S, K, ...]
    if embed is None:
        lead = z.shape[:3]
        z = fm.embed_images(z.reshape((-1,) + z.shape[3:])).reshape(lead + (-1,))
    return np.asarray(open_endedness_score(jnp.asarray(z))).mean(axis=1)

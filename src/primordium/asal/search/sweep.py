"""Exhaustive sweep of Life-like rules, ranked by open-endedness.

Every rule starts from the same random soup (common random numbers), so
differences in score come from the rules alone.
"""

from __future__ import annotations

from typing import Iterator

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.objectives import open_endedness_score
from primordium.asal.substrates.base import rollout
from primordium.asal.substrates.life import N_RULES, Life, rule_bits


def rule_params(rules: np.ndarray) -> dict:
    return {"rule": jnp.asarray(np.where(rule_bits(rules), 1.0, -1.0), jnp.float32)}


def score_rules(rules: np.ndarray, fm, key: jax.Array, life: Life, n_steps: int, n_frames: int, size: int
                ) -> np.ndarray:
    """Open-endedness score (lower = more open-ended) of each rule number."""
    embed = getattr(fm, "embed_jax", None)
    out, _ = rollout(life, key, rule_params(rules), n_steps, n_frames, size, batched=True, embed=embed)
    z = np.asarray(out)
    if embed is None:
        b, t = z.shape[:2]
        z = fm.embed_images(z.reshape((b * t,) + z.shape[2:])).reshape(b, t, -1)
    return np.asarray(open_endedness_score(jnp.asarray(z)))


def batches(start: int, stop: int = N_RULES, size: int = 256) -> Iterator[np.ndarray]:
    for lo in range(start, stop, size):
        yield np.arange(lo, min(lo + size, stop), dtype=np.int64)

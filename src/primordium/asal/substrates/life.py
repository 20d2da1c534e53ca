"""Life-like cellular automata: any birth/survival rule on a torus.

A rule is 18 bits: birth on n live neighbours (bits 0-8) and survival on n
(bits 9-17), so there are 2^18 rules; Conway's B3/S23 is 6152.

Two substrates share the update:

* ``gol`` (:class:`GameOfLife`) is the ASAL paper's: the parameter is the
  rule number itself (an integer scalar), the soup density is drawn anew for
  every initial state, and the frame is the grid resized by JAX's nearest
  neighbour resampling.
* ``life_like`` (:class:`Life`) is primordium's: 18 real numbers whose signs
  are the bits, which lets continuous optimisers move through rule space; a
  fixed soup density; crisp upscaling. The Life-like sweep uses it.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

# The rule helpers live in asal/life_rules.py (no JAX); old callers import them from here.
from primordium.asal.life_rules import N_RULES, parse_rule, rule_string  # noqa: F401
from primordium.asal.substrates.base import Substrate, resize_nearest, upscale_grid


def rule_bits(rules: np.ndarray | int) -> np.ndarray:
    """Rule numbers -> bool[..., 18]."""
    r = np.asarray(rules, dtype=np.int64)
    return (r[..., None] >> np.arange(18)) & 1 == 1


def params_from_rule(rule: int | str) -> dict:
    if isinstance(rule, str):
        rule = parse_rule(rule)
    return {"rule": jnp.asarray(np.where(rule_bits(rule), 1.0, -1.0), jnp.float32)}


def rule_from_params(params: dict) -> int:
    bits = np.asarray(params["rule"]) > 0
    return int(np.sum(bits.astype(np.int64) << np.arange(18)))


def life_step(rule: jax.Array, state: jax.Array) -> jax.Array:
    """One synchronous update of int32 cells (0/1) under an int32 rule number."""
    # The rule is read with shifts, not a table gather: elementwise work only,
    # which stays cheap when vmapped over rules.
    a = state.astype(jnp.int32)
    n = sum(
        jnp.roll(a, (dy, dx), (0, 1))
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if (dy, dx) != (0, 0)
    )
    return (rule >> (n + 9 * a)) & 1


@dataclasses.dataclass(frozen=True)
class GameOfLife(Substrate):
    """The ASAL paper's Game of Life substrate: searched is the rule number in [0, 2^18)."""

    name = "gol"
    rollout_steps = 1024
    grid_size: int = 64

    def __post_init__(self):
        if self.grid_size < 3:
            raise ValueError("grid_size >= 3")

    def default_params(self, key):
        return jax.random.randint(key, (), 0, N_RULES)

    def init_state(self, key, params):
        # Each soup has its own density in [0.05, 0.4): cell = floor(u + density).
        k_density, k_cells = jax.random.split(key)
        density = jax.random.uniform(k_density, (), minval=0.05, maxval=0.4)
        u = jax.random.uniform(k_cells, (self.grid_size, self.grid_size))
        return jnp.floor(u + density).astype(jnp.int32)

    def step(self, key, state, params):
        return life_step(jnp.asarray(params).astype(jnp.int32), state)

    def render(self, state, params, size=None):
        img = jnp.repeat(state.astype(jnp.float32)[..., None], 3, axis=-1)
        return resize_nearest(img, size)


@dataclasses.dataclass(frozen=True)
class Life(Substrate):
    """Life-like CA on a ``grid`` x ``grid`` torus from a random soup (primordium's, see the module notes)."""

    name = "life_like"
    rollout_steps = 1024
    grid: int = 64
    density: float = 0.5

    def default_params(self, key):
        return {"rule": jax.random.normal(key, (18,), jnp.float32)}

    def init_state(self, key, params):
        return jax.random.bernoulli(key, self.density, (self.grid, self.grid))

    def step(self, key, state, params):
        rule = jnp.sum((params["rule"] > 0).astype(jnp.int32) << jnp.arange(18, dtype=jnp.int32))
        return life_step(rule, state) == 1

    def render(self, state, params, size):
        img = jnp.repeat(state.astype(jnp.float32)[..., None], 3, axis=-1)
        return upscale_grid(img, size)

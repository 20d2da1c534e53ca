"""``nca_sobel``: a growing-NCA style continuous automaton (primordium's own).

Each cell holds ``channels`` visible values (1 or 3, shown as grey or RGB)
plus hidden ones; it perceives its 3x3 neighbourhood through identity and
Sobel filters and adds the output of a small MLP (the searched weights), on
a random half of the cells each step. It differs from the ASAL paper's
``nca_d1``/``nca_d3`` (see nca.py) by its hidden channels and fixed
gradient perception, which is why it keeps a name of its own.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from primordium.asal.substrates.base import Substrate, upscale_grid

_SOBEL_X = jnp.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], jnp.float32) / 8.0


def _conv3(a, kern):
    """Circular 3x3 correlation of every channel of a[H, W, C] with one kernel."""
    out = jnp.zeros_like(a)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            out = out + kern[dy + 1, dx + 1] * jnp.roll(a, (-dy, -dx), (0, 1))
    return out


@dataclasses.dataclass(frozen=True)
class NCASobel(Substrate):
    name = "nca_sobel"
    rollout_steps = 1000
    grid: int = 128
    channels: int = 3
    hidden_channels: int = 5
    hidden: int = 32
    fire_rate: float = 0.5

    def __post_init__(self):
        if self.channels not in (1, 3):
            raise ValueError("NCA channels must be 1 or 3")

    @property
    def width(self) -> int:
        return self.channels + self.hidden_channels

    def default_params(self, key):
        k1, k2 = jax.random.split(key)
        c = self.width
        return {
            "w1": jax.random.normal(k1, (3 * c, self.hidden), jnp.float32) / jnp.sqrt(3 * c),
            "b1": jnp.zeros((self.hidden,), jnp.float32),
            "w2": jax.random.normal(k2, (self.hidden, c), jnp.float32) * 0.1,
        }

    def init_state(self, key, params):
        return jax.random.uniform(key, (self.grid, self.grid, self.width), jnp.float32)

    def step(self, key, state, params):
        perc = jnp.concatenate([state, _conv3(state, _SOBEL_X), _conv3(state, _SOBEL_X.T)], -1)
        delta = jnp.tanh(perc @ params["w1"] + params["b1"]) @ params["w2"]
        fire = jax.random.bernoulli(key, self.fire_rate, state.shape[:2])[..., None]
        return jnp.clip(state + fire * delta, 0.0, 1.0)

    def render(self, state, params, size):
        vis = state[..., : self.channels]
        img = jnp.repeat(vis, 3, -1) if self.channels == 1 else vis
        return upscale_grid(img, size)

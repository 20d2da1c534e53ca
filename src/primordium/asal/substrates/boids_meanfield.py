"""Mean-field boids (``boids_meanfield``): primordium's own variant.

Not the ASAL paper's Boids (that is ``boids``, which feeds each of the 16
nearest neighbours through the network). Kept because it adds something:
a cheaper, radius-based controller that sees neighbour averages, so
hand-written rules are easy to express (see :func:`alignment_params`).

Each bird flies at constant speed on the unit torus and turns by the output
of an MLP fed, in its own frame of reference, the mean offset to and the
mean heading of its neighbours within ``radius``. Hand-written rules
(separation, alignment, cohesion) are special cases of that network.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from primordium.asal.substrates.base import Substrate, splat_points

N_IN = 5  # mean offset (2), mean relative heading (cos, sin), neighbour share


@dataclasses.dataclass(frozen=True)
class BoidsMeanField(Substrate):
    name = "boids_meanfield"
    n: int = 128
    hidden: int = 8
    radius: float = 0.1
    speed: float = 0.005
    max_turn: float = 0.3  # radians per step

    def default_params(self, key):
        k1, k2 = jax.random.split(key)
        return {
            "w1": jax.random.normal(k1, (N_IN, self.hidden), jnp.float32) / jnp.sqrt(N_IN),
            "b1": jnp.zeros((self.hidden,), jnp.float32),
            "w2": jax.random.normal(k2, (self.hidden, 1), jnp.float32) / jnp.sqrt(self.hidden),
            "b2": jnp.zeros((1,), jnp.float32),
        }

    def init_state(self, key, params):
        k1, k2 = jax.random.split(key)
        return {
            "x": jax.random.uniform(k1, (self.n, 2)),
            "h": jax.random.uniform(k2, (self.n,), maxval=2 * jnp.pi),
        }

    def observe(self, state):
        x, h = state["x"], state["h"]
        off = x[None, :, :] - x[:, None, :]
        off = off - jnp.round(off)
        dist = jnp.sqrt(jnp.sum(off**2, -1))
        near = (dist < self.radius) & ~jnp.eye(self.n, dtype=bool)
        cnt = near.sum(1)
        denom = jnp.maximum(cnt, 1)[:, None]
        mean_off = jnp.sum(off * near[..., None], 1) / denom
        dh = h[None, :] - h[:, None]
        mean_dir = (
            jnp.stack([jnp.sum(jnp.cos(dh) * near, 1), jnp.sum(jnp.sin(dh) * near, 1)], -1) / denom
        )
        # Rotate the offset into each bird's frame (x ahead, y to the left).
        c, s = jnp.cos(h), jnp.sin(h)
        local = jnp.stack(
            [c * mean_off[:, 0] + s * mean_off[:, 1], -s * mean_off[:, 0] + c * mean_off[:, 1]], -1
        )
        return jnp.concatenate([local / self.radius, mean_dir, (cnt / self.n)[:, None] * 10.0], -1)

    def step(self, key, state, params):
        obs = self.observe(state)
        hid = jnp.tanh(obs @ params["w1"] + params["b1"])
        turn = jnp.tanh(hid @ params["w2"] + params["b2"])[:, 0] * self.max_turn
        h = jnp.mod(state["h"] + turn, 2 * jnp.pi)
        x = jnp.mod(state["x"] + self.speed * jnp.stack([jnp.cos(h), jnp.sin(h)], -1), 1.0)
        return {"x": x, "h": h}

    def render(self, state, params, size):
        hue = state["h"] / (2 * jnp.pi)
        col = jnp.stack(
            [
                0.6 + 0.4 * jnp.cos(2 * jnp.pi * hue),
                0.6 + 0.4 * jnp.cos(2 * jnp.pi * (hue - 1 / 3)),
                0.6 + 0.4 * jnp.cos(2 * jnp.pi * (hue - 2 / 3)),
            ],
            -1,
        )
        return splat_points(state["x"], col, size, radius=max(2, size // 64))


def polarisation(state) -> jax.Array:
    """|mean heading vector|: 1 when all birds fly the same way, ~0 when random."""
    h = state["h"]
    return jnp.sqrt(jnp.mean(jnp.cos(h)) ** 2 + jnp.mean(jnp.sin(h)) ** 2)


def alignment_params(boids: BoidsMeanField, gain: float = 3.0) -> dict:
    """A hand-made controller: turn towards the neighbours' mean heading."""
    w1 = jnp.zeros((N_IN, boids.hidden)).at[3, 0].set(gain)  # sin of relative heading
    w2 = jnp.zeros((boids.hidden, 1)).at[0, 0].set(gain)
    return {"w1": w1, "b1": jnp.zeros((boids.hidden,)), "w2": w2, "b2": jnp.zeros((1,))}

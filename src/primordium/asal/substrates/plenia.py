"""Particle Lenia as in the ASAL paper (``plenia``; Mordvintsev et al. 2022).

Particles in the plane descend an energy E = R - G(U): U is a Gaussian
shell kernel summed over the particles, G a Gaussian growth of U, R a short
repulsion. The six searched numbers are log-offsets from the classic
setting (mu_k 4, sigma_k 1, w_k 0.022, mu_g 0.6, sigma_g 0.15, c_rep 1):
value = base * exp(raw). Rendered as the U/G field colour map over a window
that follows the swarm's extent, dimmed at the particles, then stretched to
the full [0, 1] range. The state is the f32[N, 2] position array itself.

Differs from ``particle_lenia`` (primordium's own variant): unbounded
log-scale parameters instead of sigmoid-bounded ranges, and this render.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.substrates.base import Substrate

NAMES = ("mu_k", "sigma_k", "w_k", "mu_g", "sigma_g", "c_rep")
BASE = np.array([4.0, 1.0, 0.022, 0.6, 0.15, 1.0])


def bump(x, mu, sigma):
    return jnp.exp(-(((x - mu) / sigma) ** 2))


def fields(p, points, at):
    """(U, G, E) felt at position ``at`` f32[2] from ``points`` f32[N, 2]."""
    r = jnp.sqrt(jnp.clip(jnp.square(at - points).sum(-1), 1e-10))
    u = bump(r, p["mu_k"], p["sigma_k"]).sum() * p["w_k"]
    g = bump(u, p["mu_g"], p["sigma_g"])
    rep = p["c_rep"] / 2 * (jnp.clip(1.0 - r, 0.0) ** 2).sum()
    return u, g, rep - g


def _blend(t, a, b):
    return jnp.float32(a) * (1.0 - t) + jnp.float32(b) * t


@dataclasses.dataclass(frozen=True)
class PLenia(Substrate):
    name: ClassVar[str] = "plenia"
    rollout_steps: ClassVar[int] = 1000
    n_particles: int = 200
    dt: float = 0.1

    def default_params(self, key):
        return jax.random.normal(key, (6,))

    def physical(self, params):
        return {k: jnp.exp(params[i] + jnp.log(BASE[i])) for i, k in enumerate(NAMES)}

    def init_state(self, key, params):
        return (jax.random.uniform(key, [self.n_particles, 2]) - 0.5) * 12.0

    def step(self, key, state, params):
        p = self.physical(params)
        grad = jax.vmap(jax.grad(lambda at: fields(p, state, at)[2]))(state)
        return state + self.dt * -grad

    def render(self, state, params, size):
        p = self.physical(params)
        extent = jnp.abs(state).max() * 1.2
        axis = jnp.linspace(-1.0, 1.0, size)
        # Pixel (row i, column j) shows the point (axis[j], axis[i]) * extent.
        x, y = jnp.meshgrid(axis, axis, indexing="xy")
        # The fields of :func:`fields` at every pixel, from squared distances
        # summed coordinate by coordinate: XLA's CPU code for a sum over a
        # trailing axis of 2 inside the pixel x particle array was 6x slower.
        # The same numbers to float rounding; the dimming reuses the distances.
        d2 = jnp.square(x[..., None] * extent - state[:, 0]) + jnp.square(
            y[..., None] * extent - state[:, 1]
        )
        r = jnp.sqrt(jnp.clip(d2, 1e-10))
        u = bump(r, p["mu_k"], p["sigma_k"]).sum(-1) * p["w_k"]
        g = bump(u, p["mu_g"], p["sigma_g"])
        near = d2.min(-1)
        dim = jnp.clip(near / 0.02, 0.0, 1.0)[..., None]
        img = (
            _blend(
                g[..., None],
                _blend(u[..., None], [0.1, 0.1, 0.3], [0.2, 0.7, 1.0]),
                [1.17, 0.91, 0.13],
            )
            * dim
        )
        lo, hi = img.min(), img.max()
        # Stretched to [0, 1]; the clip only removes rounding (~1e-8) outside it.
        return jnp.clip((img - lo) / (hi - lo), 0.0, 1.0)

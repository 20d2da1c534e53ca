"""Particle Lenia (Mordvintsev et al. 2022): particles descending an energy.

Each particle senses a Lenia field U (a Gaussian shell kernel summed over
the other particles) and moves down the gradient of E = R - G(U), with R a
short-range repulsion and G a Gaussian growth function. Searched: kernel
centre, width and weight, growth centre and width, repulsion strength.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from primordium.asal.substrates.base import Substrate, splat_points, squash

RANGES = {
    "mu_k": (1.0, 8.0),
    "sigma_k": (0.2, 2.0),
    "w_k": (0.005, 0.05),
    "mu_g": (0.1, 1.0),
    "sigma_g": (0.05, 0.3),
    "c_rep": (0.2, 2.0),
}
NAMES = tuple(RANGES)


@dataclasses.dataclass(frozen=True)
class ParticleLenia(Substrate):
    name = "particle_lenia"
    n: int = 200
    dt: float = 0.1
    view: float = 40.0  # side of the square shown by render, in world units

    def default_params(self, key):
        return {"scalars": jax.random.normal(key, (len(NAMES),), jnp.float32)}

    def physical(self, params):
        return {k: squash(params["scalars"][i], *RANGES[k]) for i, k in enumerate(NAMES)}

    def init_state(self, key, params):
        return {"x": (jax.random.uniform(key, (self.n, 2)) - 0.5) * 12.0}

    def energy(self, xi, x, p):
        r = jnp.sqrt(jnp.sum((x - xi) ** 2, -1) + 1e-10)
        u = jnp.sum(p["w_k"] * jnp.exp(-(((r - p["mu_k"]) / p["sigma_k"]) ** 2)))
        g = jnp.exp(-(((u - p["mu_g"]) / p["sigma_g"]) ** 2))
        rep = p["c_rep"] / 2 * jnp.sum(jnp.where(r > 1e-4, jnp.clip(1.0 - r, 0.0) ** 2, 0.0))
        return rep - g

    def step(self, key, state, params):
        p = self.physical(params)
        x = state["x"]
        grad = jax.vmap(jax.grad(lambda xi: self.energy(xi, x, p)))(x)
        return {"x": x - self.dt * grad}

    def render(self, state, params, size):
        x = state["x"]
        centre = jnp.mean(x, 0)
        pos = (x - centre) / self.view + 0.5
        inside = jnp.all((pos >= 0) & (pos < 1), -1)
        col = jnp.broadcast_to(jnp.array([0.95, 0.8, 0.3]), (self.n, 3))
        return splat_points(pos, col, size, radius=max(2, size // 64), mask=inside)

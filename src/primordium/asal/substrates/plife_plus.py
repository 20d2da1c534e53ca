"""Particle Life++ as in the ASAL paper (``plife_plus``).

Colours are continuous: each particle carries a unit vector in R^K. For
every pair, one small MLP of the two colour vectors gives the attraction
(tanh x 1.5) and a colour change for the receiver (tanh), which fades
linearly to zero at rmax. Positions follow the Particle Life force law with
fixed beta, rmax, mass, friction and time step; colours drift by the summed
changes and are renormalised. The searched parameters are that MLP's flax
parameter tree (as flax initialises it, so flattened vectors match the
paper's). Rendered as soft discs coloured by the first three components.

Every pair is evaluated, as in the paper (the network also runs on the
particle's pair with itself, which adds a colour change at distance 0);
rows go in blocks so memory stays bounded in vmapped populations.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.substrates.base import Substrate
from primordium.asal.substrates.plife import (
    BACKENDS,
    force_law,
    named_rgb,
    render_discs,
    wrap_offset,
)

LAYERS = ("Dense_0", "Dense_1", "Dense_2", "Dense_3")


@functools.cache
def _flax_module():
    """The pair network as a flax module; used only to create parameters the way flax does."""
    import flax.linen as nn

    class PairNet(nn.Module):
        @nn.compact
        def __call__(self, c1, c2):
            d = c1.shape[-1]
            layers = [nn.Dense(8), nn.Dense(8), nn.Dense(8), nn.Dense(1 + d)]
            return pair_net({"params": dict(zip(LAYERS, layers, strict=False))}, c1, c2, call=True)

    return PairNet()


def pair_net(net, c1, c2, call=False):
    """(attraction f32[..., 1], colour change f32[..., K]) that c2 causes in c1."""
    p = net["params"]
    h = jnp.concatenate([c1, c2], axis=-1)
    for name in LAYERS[:3]:
        h = jnp.tanh(p[name](h) if call else h @ p[name]["kernel"] + p[name]["bias"])
    out = p["Dense_3"](h) if call else h @ p["Dense_3"]["kernel"] + p["Dense_3"]["bias"]
    return jnp.tanh(out[..., :1]) * 1.5, jnp.tanh(out[..., 1:])


@dataclasses.dataclass(frozen=True)
class PLifePlus(Substrate):
    name: ClassVar[str] = "plife_plus"
    rollout_steps: ClassVar[int] = 1000
    n_particles: int = 1000
    n_colors: int = 6
    beta: float = 0.3
    mass: float = 0.1
    dt: float = 0.02
    half_life: float = 0.04
    rmax: float = 0.1
    render_radius: float = 0.04
    sharpness: float = 30.0
    update_colors: bool = True
    background_color: str = "black"
    block: int = 64  # rows per block of the all-pairs sum
    backend: str = "auto"

    def __post_init__(self):
        if self.n_colors < 3:
            raise ValueError(
                "n_colors must be at least 3 (the first three components are the rendered RGB)"
            )
        named_rgb(self.background_color)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.n_particles < 1 or self.block < 1:
            raise ValueError("n_particles and block must be positive")

    def default_params(self, key):
        net = _flax_module().init(key, jnp.zeros((self.n_colors,)), jnp.ones((self.n_colors,)))
        return {"alpha": jax.tree_util.tree_map(jnp.asarray, dict(net))}

    def init_state(self, key, params):
        k_col, k_pos, _ = jax.random.split(key, 3)
        c = jax.random.normal(k_col, (self.n_particles, self.n_colors))
        c = c / jnp.linalg.norm(c, axis=-1, keepdims=True)
        x = jax.random.uniform(k_pos, (self.n_particles, 2), minval=0.0, maxval=1.0)
        return {"c": c, "x": x, "v": jnp.zeros((self.n_particles, 2))}

    def interactions(self, x, c, net):
        """Summed (force f32[N, 2], colour change f32[N, K]) over every pair."""
        backend = self.backend
        if backend == "auto":
            backend = "numba" if jax.default_backend() == "cpu" else "allpairs"
        if backend == "numba":
            return self._interactions_numba(x, c, net)
        return self._interactions_allpairs(x, c, net)

    def _interactions_numba(self, x, c, net):
        from primordium.asal.substrates._plife_plus_kernel import pair_sums_host

        p = net["params"]
        leaves = [p[name][part] for name in LAYERS for part in ("kernel", "bias")]
        out = (
            jax.ShapeDtypeStruct(x.shape, jnp.float32),
            jax.ShapeDtypeStruct(c.shape, jnp.float32),
        )
        return jax.pure_callback(
            functools.partial(pair_sums_host, beta=self.beta, rmax=self.rmax),
            out,
            x.astype(jnp.float32),
            c.astype(jnp.float32),
            *(leaf.astype(jnp.float32) for leaf in leaves),
            vmap_method="broadcast_all",
        )

    def _interactions_allpairs(self, x, c, net):
        n, block = self.n_particles, min(self.block, self.n_particles)
        nb = -(-n // block)
        pad = nb * block - n
        xs = jnp.pad(x, ((0, pad), (0, 0))).reshape(nb, block, 2)
        cs = jnp.pad(c, ((0, pad), (0, 0))).reshape(nb, block, -1)

        def rows(args):
            xb, cb = args
            off = wrap_offset(x[None, :, :] - xb[:, None, :])
            ci = jnp.broadcast_to(cb[:, None, :], (block, n, self.n_colors))
            cj = jnp.broadcast_to(c[None, :, :], (block, n, self.n_colors))
            alpha, dc = pair_net(net, ci, cj)
            dist = jnp.linalg.norm(off, axis=-1, keepdims=True)
            mag = self.rmax * force_law(dist / self.rmax, alpha, self.beta)
            force = off / (dist + 1e-8) * mag
            dc = dc * jax.nn.relu(1.0 - dist / self.rmax)
            return force.sum(axis=1), dc.sum(axis=1)

        f, dc = jax.lax.map(rows, (xs, cs))
        return f.reshape(nb * block, 2)[:n], dc.reshape(nb * block, -1)[:n]

    def step(self, key, state, params):
        x, v, c = state["x"], state["v"], state["c"]
        f, dc = self.interactions(x, c, params["alpha"])
        decay = 0.5 ** (
            jnp.float32(self.dt) / jnp.float32(self.half_life)
        )  # in float32, as the paper
        v = decay * v + f / self.mass * self.dt
        x = jnp.mod(x + v * self.dt, 1.0)
        if self.update_colors:
            c = c + dc * self.dt
            c = c / jnp.linalg.norm(c, axis=-1, keepdims=True)
        return {"c": c, "x": x, "v": v}

    def render(self, state, params, size):
        colours = (state["c"][:, :3] + 1.0) / 2.0
        radius = (
            jnp.sqrt(jnp.full((self.n_particles,), self.mass, jnp.float32)) * self.render_radius
        )
        return render_discs(
            state["x"],
            colours,
            radius,
            named_rgb(self.background_color),
            self.sharpness / self.render_radius,
            size,
            max_radius=float(np.sqrt(self.mass)) * self.render_radius,
        )

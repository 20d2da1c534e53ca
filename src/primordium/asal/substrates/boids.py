"""Boids as in the ASAL paper (``boids``): a network steers each bird.

Every bird looks at its ``n_nbrs`` nearest birds (plain Euclidean distance,
no wrap-around, as the paper's code does), expresses their positions and
headings in its own frame, and feeds each one through the same small MLP;
the mean over the neighbours inside ``visual_range`` goes through a second
MLP whose tanh output is a sideways acceleration. Birds fly at constant
``speed`` on a torus of side ``space_size``. The searched parameters are
the flax parameter tree of that network, initialised as flax does, so the
flattened vectors are interchangeable with the paper's.

Rendering: dark triangles on white, the first bird painted red.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import jax
import jax.numpy as jnp

from primordium.asal.substrates.base import Substrate

LAYERS = ("Dense_0", "Dense_1", "Dense_2", "Dense_3")
TURN_GAIN = 60.0  # sideways acceleration per unit of network output
OFFSET_GAIN = 50.0  # neighbour offsets are scaled up before the network sees them


@functools.cache
def _flax_module():
    """The network as a flax module; used only to create parameters the way flax does."""
    import flax.linen as nn

    class BoidsNet(nn.Module):
        @nn.compact
        def __call__(self, x, mask):
            layers = [nn.Dense(8), nn.Dense(8), nn.Dense(8), nn.Dense(1)]
            return controller(
                {"params": {name: layer for name, layer in zip(LAYERS, layers, strict=False)}},
                x,
                mask,
                call=True,
            )

    return BoidsNet()


def _dense(layer, x, call):
    return layer(x) if call else x @ layer["kernel"] + layer["bias"]


def controller(net, x, mask, call=False):
    """Output f32[1] of the network for one bird: x f32[n_nbrs, 4] neighbour inputs, mask bool[n_nbrs]."""
    p = net["params"]
    h = jnp.tanh(_dense(p["Dense_0"], x, call))
    h = jnp.tanh(_dense(p["Dense_1"], h, call))
    h = (h * mask[:, None]).sum(axis=0) / mask.sum()  # mean over visible neighbours
    h = jnp.tanh(_dense(p["Dense_2"], h, call))
    out = jnp.tanh(_dense(p["Dense_3"], h, call))
    return jnp.where(mask.sum() > 0, out, jnp.zeros_like(out))  # no one in sight: fly straight


def barycentric_softmask(px, py, tri, sharpness):
    """Soft inside-ness of pixel centres (px, py) for triangle tri f32[3, 2]."""
    e0, e1 = tri[2] - tri[0], tri[1] - tri[0]
    qx, qy = px - tri[0, 0], py - tri[0, 1]
    d00, d01, d11 = e0 @ e0, e0 @ e1, e1 @ e1
    d20 = qx * e0[0] + qy * e0[1]
    d21 = qx * e1[0] + qy * e1[1]
    den = d00 * d11 - d01 * d01
    b1 = (d11 * d20 - d01 * d21) / den
    b2 = (d00 * d21 - d01 * d20) / den
    b0 = 1.0 - b1 - b2
    s = jax.nn.sigmoid
    return s(sharpness * b0) * s(sharpness * b1) * s(sharpness * b2)


@dataclasses.dataclass(frozen=True)
class Boids(Substrate):
    name: ClassVar[str] = "boids"
    rollout_steps: ClassVar[int] = 1000
    n_boids: int = 128
    n_nbrs: int = 16
    visual_range: float = 0.1
    speed: float = 0.5
    dt: float = 0.01
    bird_render_size: float = 0.015
    bird_render_sharpness: float = 40.0
    space_size: float = 1.0
    red_boid: bool = True

    def __post_init__(self):
        if not 0 < self.n_nbrs < self.n_boids:
            raise ValueError(
                f"need 0 < n_nbrs < n_boids (got n_nbrs={self.n_nbrs}, n_boids={self.n_boids})"
            )

    def default_params(self, key):
        net = _flax_module().init(key, jnp.zeros((self.n_nbrs, 4)), jnp.ones((self.n_nbrs,)))
        return {"net_params": jax.tree_util.tree_map(jnp.asarray, dict(net))}

    def init_state(self, key, params):
        k_pos, k_vel, _ = jax.random.split(key, 3)
        x = jax.random.uniform(k_pos, (self.n_boids, 2), minval=0.0, maxval=self.space_size)
        v = jax.random.normal(k_vel, (self.n_boids, 2))
        return {"x": x, "v": v / jnp.linalg.norm(v, axis=-1, keepdims=True)}

    def turn(self, x, v, net, xi, vi):
        """Global-frame acceleration of the bird at xi heading vi."""
        dist = jnp.linalg.norm(x - xi, axis=-1)
        nbr = jnp.argsort(dist)[1 : self.n_nbrs + 1]  # the nearest is the bird itself
        (px, py), (u, w) = xi, vi
        # Into the bird's frame (rotate by its heading, move it to the origin),
        # as 3 x 3 homogeneous transforms: the same products the paper's code forms.
        to_local = jnp.array([[u, w, -u * px - w * py], [-w, u, w * px - u * py], [0.0, 0.0, 1.0]])
        rot = jnp.array([[u, w, 0.0], [-w, u, 0.0], [0.0, 0.0, 1.0]])
        ones = jnp.ones((self.n_nbrs, 1))
        local_x = (to_local @ jnp.concatenate([x[nbr], ones], axis=-1)[:, :, None])[:, :2, 0]
        local_v = (rot @ jnp.concatenate([v[nbr], ones], axis=-1)[:, :, None])[:, :2, 0]
        inputs = jnp.concatenate([OFFSET_GAIN * local_x, local_v], axis=-1)
        out = controller(net, inputs, dist[nbr] < self.visual_range)
        side = jnp.concatenate([jnp.zeros((1,)), out, jnp.zeros((1,))]) * TURN_GAIN
        back = jnp.array([[u, -w, 0.0], [w, u, 0.0], [0.0, 0.0, 1.0]])
        return (back @ side[:, None])[:2, 0]

    def step(self, key, state, params):
        x, v = state["x"], state["v"]
        dv = jax.vmap(lambda xi, vi: self.turn(x, v, params["net_params"], xi, vi))(x, v)
        v = v + dv * self.dt
        v = v / jnp.linalg.norm(v, axis=-1, keepdims=True)
        x = jnp.mod(x + self.speed * v * self.dt, self.space_size)
        return {"x": x, "v": v}

    def triangles(self, state):
        """f32[n_boids, 3, 2]: each bird's triangle, nose ahead, in world units."""
        x, v = state["x"], state["v"]
        v = v / jnp.linalg.norm(v, axis=-1, keepdims=True)
        local = jnp.array([[0.0, 1.0], [0.0, -1.0], [3.0, 0.0]]) * self.bird_render_size
        u, w = v[:, None, 0], v[:, None, 1]
        gx = u * local[None, :, 0] - w * local[None, :, 1] + x[:, None, 0]
        gy = w * local[None, :, 0] + u * local[None, :, 1] + x[:, None, 1]
        return jnp.stack([gx, gy], axis=-1)

    def render(self, state, params, size):
        tris = self.triangles(state)
        grid = jnp.linspace(0.0, self.space_size, size)
        px, py = grid[:, None], grid[None, :]  # image axis 0 is the first coordinate
        sharp = self.bird_render_sharpness

        def paint(img, tri):
            m = barycentric_softmask(px, py, tri, sharp)[..., None]
            return (1.0 - m) * img, None  # black bird

        img, _ = jax.lax.scan(paint, jnp.ones((size, size, 3)), tris)
        if self.red_boid:
            m = barycentric_softmask(px, py, tris[0], sharp)[..., None]
            img = m * jnp.array([1.0, 0.0, 0.0]) + (1.0 - m) * img
        return img

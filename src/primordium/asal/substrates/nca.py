"""The ASAL paper's neural cellular automata: ``nca_d1``, ``nca_d3`` and ``dnca``.

Both kinds share one network, applied to the whole grid at once:

    wrap-pad every axis by one cell (the channel axis too, so a cell sees
    C + 2 input channels: the last channel, all C, then the first),
    3x3 convolution to 4 features, 1x1 to 16, ReLU, 1x1 to the output.

Its parameters are a Flax ``Module.init`` pytree
``{"params": {"Conv_0": {"bias", "kernel"}, ...}}`` drawn exactly as Flax
would draw it (LeCun-normal kernels, zero biases, each kernel's key folded
in from the module name), so a flat parameter vector means the same network
here and in the paper's code.

``nca_d1`` / ``nca_d3``: continuous cells with 1 or 3 channels in [0, 1];
each step a random ``p_drop`` share of the cells keeps its value and the
rest add ``dt`` times the network output. The paper's constructor is given
dt=0.1 but its NCA always steps with 0.01, so 0.01 is what the paper ran and
is the default here.

``dnca``: each cell holds, per group, one of ``d_state`` symbols; the next
symbol is sampled from the network's logits (plus ``identity_bias`` on the
current symbol) divided by ``temperature``. The initial soup samples every
cell from the searched logits ``init``.
"""

from __future__ import annotations

import dataclasses
import hashlib

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.substrates.base import Substrate, resize_nearest

HIDDEN = (4, 16)  # features after the 3x3 and the first 1x1 convolution

# The paper's DNCA colours, one per symbol.
DNCA_PALETTE = (
    np.array(
        [
            [255, 0, 0],
            [0, 255, 0],
            [0, 0, 255],
            [255, 255, 0],
            [255, 0, 255],
            [0, 255, 255],
            [255, 255, 255],
            [143, 93, 0],
        ],
        np.float64,
    )
    / 255.0
)


def _module_key(key: jax.Array, module: str, draw: int) -> jax.Array:
    """The key Flax hands to a module's ``draw``-th parameter initialiser
    (a fold-in of the first 4 bytes of SHA-1 over the module name and the count)."""
    digest = hashlib.sha1(
        module.encode() + draw.to_bytes((draw.bit_length() + 7) // 8, "big")
    ).digest()
    return jax.random.fold_in(key, jnp.uint32(int.from_bytes(digest[:4], "big")))


def init_network(key: jax.Array, channels: int, out: int) -> dict:
    """Parameters of the network for ``channels``-channel cells, as Flax's init lays them out."""
    shapes = [(3, 3, channels + 2, HIDDEN[0]), (1, 1, HIDDEN[0], HIDDEN[1]), (1, 1, HIDDEN[1], out)]
    lecun = jax.nn.initializers.lecun_normal()
    layers = {}
    for i, shape in enumerate(shapes):
        name = f"Conv_{i}"
        # Draw 1 is the kernel; the bias (draw 2) is zeros and uses no randomness.
        layers[name] = {
            "kernel": lecun(_module_key(key, name, 1), shape, jnp.float32),
            "bias": jnp.zeros((shape[-1],), jnp.float32),
        }
    return {"params": layers}


def _conv(x: jax.Array, layer: dict, padding: str) -> jax.Array:
    y = jax.lax.conv_general_dilated(
        x[None], layer["kernel"], (1, 1), padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return (y + layer["bias"].reshape(1, 1, 1, -1))[0]


def apply_network(net: dict, x: jax.Array) -> jax.Array:
    """float[H, W, C] -> float[H, W, out] on the torus."""
    layers = net["params"]
    x = jnp.pad(x, 1, mode="wrap")
    x = _conv(x, layers["Conv_0"], "VALID")
    x = jax.nn.relu(_conv(x, layers["Conv_1"], "SAME"))
    return _conv(x, layers["Conv_2"], "SAME")


@dataclasses.dataclass(frozen=True)
class NCA(Substrate):
    """The paper's continuous NCA; ``NCAd1`` and ``NCAd3`` fix the channel count."""

    d_state = 1
    rollout_steps = 1000
    grid_size: int = 128
    p_drop: float = 0.5
    dt: float = 0.01

    def __post_init__(self):
        if self.grid_size < 1:
            raise ValueError("grid_size >= 1")
        if not 0.0 <= self.p_drop <= 1.0:
            raise ValueError("p_drop must lie in [0, 1]")

    def default_params(self, key):
        _, k_net = jax.random.split(key)
        return {"net_params": init_network(k_net, self.d_state, self.d_state)}

    def init_state(self, key, params):
        return jax.random.uniform(key, (self.grid_size, self.grid_size, self.d_state))

    def step(self, key, state, params):
        delta = apply_network(params["net_params"], state)
        # floor(u + p_drop) is 1 on a p_drop share of cells: those keep their value.
        keep = jnp.floor(jax.random.uniform(key, state.shape[:2]) + self.p_drop)
        delta = delta * (1.0 - keep)[..., None]
        return jnp.clip(state + delta * self.dt, 0.0, 1.0)

    def render(self, state, params, size=None):
        if self.d_state == 1:
            img = jnp.concatenate([state, jnp.zeros_like(state), jnp.zeros_like(state)], axis=-1)
        else:
            img = state
        return resize_nearest(img, size)


@dataclasses.dataclass(frozen=True)
class NCAd1(NCA):
    """One channel, shown in red."""

    name = "nca_d1"
    d_state = 1


@dataclasses.dataclass(frozen=True)
class NCAd3(NCA):
    """Three channels, shown as RGB."""

    name = "nca_d3"
    d_state = 3


@dataclasses.dataclass(frozen=True)
class DNCA(Substrate):
    """The paper's discrete NCA (stochastic, ``n_groups`` symbol layers)."""

    name = "dnca"
    rollout_steps = 1000
    grid_size: int = 128
    d_state: int = 8
    n_groups: int = 1
    identity_bias: float = 0.0
    temperature: float = 1e-3
    color_map: str = "fixed"

    def __post_init__(self):
        if self.grid_size < 1 or self.d_state < 1 or self.n_groups < 1:
            raise ValueError("grid_size, d_state and n_groups must be >= 1")
        if self.temperature <= 0:
            raise ValueError("temperature must be > 0")
        if self.color_map == "fixed" and self.d_state > len(DNCA_PALETTE):
            raise ValueError(
                f"the fixed color_map has {len(DNCA_PALETTE)} colours: d_state <= {len(DNCA_PALETTE)}"
            )

    @property
    def channels(self) -> int:
        return self.d_state * self.n_groups

    def default_params(self, key):
        params = {}
        if self.color_map != "fixed":
            key, k = jax.random.split(key)
            params["color_map"] = jax.random.normal(k, (self.n_groups, self.d_state, 3))
        key, k = jax.random.split(key)
        params["net_params"] = init_network(k, self.channels, self.channels)
        key, k = jax.random.split(key)
        params["init"] = jax.random.normal(k, (self.n_groups, self.d_state))
        return params

    def init_state(self, key, params):
        logits = jnp.broadcast_to(
            params["init"], (self.grid_size, self.grid_size, self.n_groups, self.d_state)
        )
        return jax.random.categorical(key, logits, axis=-1)

    def step(self, key, state, params):
        g, d = self.n_groups, self.d_state
        onehot = jax.nn.one_hot(state, d)
        logits = apply_network(params["net_params"], onehot.reshape(*state.shape[:2], g * d))
        logits = logits.reshape(*state.shape[:2], g, d)
        return jax.random.categorical(
            key, (logits + onehot * self.identity_bias) / self.temperature, axis=-1
        )

    def render(self, state, params, size=None):
        if self.color_map == "fixed":
            img = jnp.asarray(DNCA_PALETTE, jnp.float32)[state[:, :, 0]]
        else:
            colours = jax.nn.sigmoid(params["color_map"])  # G D 3
            per_group = jax.vmap(lambda cm, s: cm[s], in_axes=(0, 2))(colours, state)
            img = per_group.mean(axis=0)
        return resize_nearest(img, size)

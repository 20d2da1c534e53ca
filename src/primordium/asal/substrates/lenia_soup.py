"""``lenia_soup``: one-channel Lenia searched from scratch (primordium's own).

Continuous cells, a ring-shaped kernel, a Gaussian growth function.
Searched: growth centre and width, kernel radius, time step, the weights of
up to three kernel rings, and the initial pattern (``init`` x ``init``
cells placed at the centre of the torus). Unlike the ASAL paper's ``lenia``
(lenia.py), which perturbs one known three-channel creature, this searches
the rule itself, so it keeps a name of its own.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.substrates.base import Substrate, squash, unsquash, upscale_grid

# Ranges of the searched scalars (raw values pass through a sigmoid).
RANGES = {"m": (0.05, 0.5), "s": (0.005, 0.1), "R": (5.0, 25.0), "T": (2.0, 20.0)}

# Orbium (Chan 2019): R=13, T=10, m=0.15, s=0.015, one ring.
ORBIUM_CELLS = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0.1, 0.14, 0.1, 0, 0, 0.03, 0.03, 0, 0, 0.3, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0.08, 0.24, 0.3, 0.3, 0.18, 0.14, 0.15, 0.16, 0.15, 0.09, 0.2, 0, 0, 0, 0],
        [
            0,
            0,
            0,
            0,
            0,
            0.15,
            0.34,
            0.44,
            0.46,
            0.38,
            0.18,
            0.14,
            0.11,
            0.13,
            0.19,
            0.18,
            0.45,
            0,
            0,
            0,
        ],
        [0, 0, 0, 0, 0.06, 0.13, 0.39, 0.5, 0.5, 0.37, 0.06, 0, 0, 0, 0.02, 0.16, 0.68, 0, 0, 0],
        [0, 0, 0, 0.11, 0.17, 0.17, 0.33, 0.4, 0.38, 0.28, 0.14, 0, 0, 0, 0, 0, 0.18, 0.42, 0, 0],
        [0, 0, 0.09, 0.18, 0.13, 0.06, 0.08, 0.26, 0.32, 0.32, 0.27, 0, 0, 0, 0, 0, 0, 0.82, 0, 0],
        [0.27, 0, 0.16, 0.12, 0, 0, 0, 0.25, 0.38, 0.44, 0.45, 0.34, 0, 0, 0, 0, 0, 0.22, 0.17, 0],
        [0, 0.07, 0.2, 0.02, 0, 0, 0, 0.31, 0.48, 0.57, 0.6, 0.57, 0, 0, 0, 0, 0, 0, 0.49, 0],
        [0, 0.59, 0.19, 0, 0, 0, 0, 0.2, 0.57, 0.69, 0.76, 0.76, 0.49, 0, 0, 0, 0, 0, 0.36, 0],
        [0, 0.58, 0.19, 0, 0, 0, 0, 0, 0.67, 0.83, 0.9, 0.92, 0.87, 0.12, 0, 0, 0, 0, 0.22, 0.07],
        [0, 0, 0.46, 0, 0, 0, 0, 0, 0.7, 0.93, 1, 1, 1, 0.61, 0, 0, 0, 0, 0.18, 0.11],
        [0, 0, 0.82, 0, 0, 0, 0, 0, 0.47, 1, 1, 0.98, 1, 0.96, 0.27, 0, 0, 0, 0.19, 0.1],
        [
            0,
            0,
            0.46,
            0,
            0,
            0,
            0,
            0,
            0.25,
            1,
            1,
            0.84,
            0.92,
            0.97,
            0.54,
            0.14,
            0.04,
            0.1,
            0.21,
            0.05,
        ],
        [
            0,
            0,
            0,
            0.4,
            0,
            0,
            0,
            0,
            0.09,
            0.8,
            1,
            0.82,
            0.8,
            0.85,
            0.63,
            0.31,
            0.18,
            0.19,
            0.2,
            0.01,
        ],
        [
            0,
            0,
            0,
            0.36,
            0.1,
            0,
            0,
            0,
            0.05,
            0.54,
            0.86,
            0.79,
            0.74,
            0.72,
            0.6,
            0.39,
            0.28,
            0.24,
            0.13,
            0,
        ],
        [
            0,
            0,
            0,
            0.01,
            0.3,
            0.07,
            0,
            0,
            0.08,
            0.36,
            0.64,
            0.7,
            0.64,
            0.6,
            0.51,
            0.39,
            0.29,
            0.19,
            0.04,
            0,
        ],
        [
            0,
            0,
            0,
            0,
            0.1,
            0.24,
            0.14,
            0.1,
            0.15,
            0.29,
            0.45,
            0.53,
            0.52,
            0.46,
            0.4,
            0.31,
            0.21,
            0.08,
            0,
            0,
        ],
        [
            0,
            0,
            0,
            0,
            0,
            0.08,
            0.21,
            0.21,
            0.22,
            0.29,
            0.36,
            0.39,
            0.37,
            0.33,
            0.26,
            0.18,
            0.09,
            0,
            0,
            0,
        ],
        [0, 0, 0, 0, 0, 0, 0.03, 0.13, 0.19, 0.22, 0.24, 0.24, 0.23, 0.18, 0.13, 0.05, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0.02, 0.06, 0.08, 0.09, 0.07, 0.05, 0.01, 0, 0, 0, 0, 0],
    ],
    dtype=np.float32,
)


@dataclasses.dataclass(frozen=True)
class LeniaSoup(Substrate):
    name = "lenia_soup"
    rollout_steps = 256
    grid: int = 128
    init: int = 32
    rings: int = 3

    def default_params(self, key):
        k1, k2, k3 = jax.random.split(key, 3)
        return {
            "scalars": jax.random.normal(k1, (4,), jnp.float32),  # m, s, R, T
            "rings": jax.random.uniform(k2, (self.rings,), jnp.float32),
            "init": jax.random.uniform(k3, (self.init, self.init), jnp.float32),
        }

    def physical(self, params):
        m, s, r, t = (squash(params["scalars"][i], *RANGES[k]) for i, k in enumerate("msRT"))
        return m, s, r, t, jnp.clip(params["rings"], 0.0, 1.0)

    def kernel_fft(self, params):
        _, _, radius, _, rings = self.physical(params)
        g = self.grid
        idx = jnp.arange(g)
        d = jnp.minimum(idx, g - idx).astype(jnp.float32)  # torus distance to cell 0
        dist = jnp.sqrt(d[:, None] ** 2 + d[None, :] ** 2) / radius
        nr = rings.shape[0]
        # Ring weights multiply a bell on each ring's own radial coordinate.
        which = jnp.clip(jnp.floor(dist * nr).astype(jnp.int32), 0, nr - 1)
        local = dist * nr - which
        k = jnp.where(dist < 1.0, rings[which] * jnp.exp(-(((local - 0.5) / 0.15) ** 2) / 2), 0.0)
        k = k / jnp.maximum(k.sum(), 1e-9)
        return jnp.fft.rfft2(k)

    def init_state(self, key, params):
        g, n = self.grid, self.init
        a = jnp.zeros((g, g), jnp.float32)
        patch = jnp.clip(params["init"], 0.0, 1.0)
        a = jax.lax.dynamic_update_slice(a, patch, ((g - n) // 2, (g - n) // 2))
        return {"a": a, "kfft": self.kernel_fft(params)}

    def step(self, key, state, params):
        m, s, _, t, _ = self.physical(params)
        a = state["a"]
        u = jnp.fft.irfft2(jnp.fft.rfft2(a) * state["kfft"], s=a.shape)
        growth = 2.0 * jnp.exp(-(((u - m) / s) ** 2) / 2) - 1.0
        return {"a": jnp.clip(a + growth / t, 0.0, 1.0), "kfft": state["kfft"]}

    def render(self, state, params, size):
        a = state["a"]
        # A warm colour map: dark blue -> yellow, keeps structure visible.
        img = jnp.stack([a, a**0.5 * 0.85, 0.35 * (1 - a) * (a > 0.01)], axis=-1)
        return upscale_grid(jnp.clip(img, 0, 1), size)


def orbium_params(substrate: LeniaSoup) -> dict:
    """Raw params that reproduce Orbium (a glider of Lenia); needs ``LeniaSoup(rings=1)``."""
    if substrate.rings != 1 or substrate.init < ORBIUM_CELLS.shape[0]:
        raise ValueError("Orbium needs a one-ring Lenia with init >= 20")
    init = np.zeros((substrate.init, substrate.init), np.float32)
    init[: ORBIUM_CELLS.shape[0], : ORBIUM_CELLS.shape[1]] = ORBIUM_CELLS
    scalars = np.array(
        [unsquash(v, *RANGES[k]) for k, v in zip("msRT", (0.15, 0.015, 13.0, 10.0), strict=False)],
        np.float32,
    )
    return {
        "scalars": jnp.asarray(scalars),
        "rings": jnp.ones((1,), jnp.float32),
        "init": jnp.asarray(init),
    }

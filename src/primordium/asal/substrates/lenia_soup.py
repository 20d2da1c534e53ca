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
ORBIUM_CELLS = np.array([
    [0, 0, 0, 0, 0, 0, .1, .14, .1, 0, 0, .03, .03, 0, 0, .3, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, .08, .24, .3, .3, .18, .14, .15, .16, .15, .09, .2, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, .15, .34, .44, .46, .38, .18, .14, .11, .13, .19, .18, .45, 0, 0, 0],
    [0, 0, 0, 0, .06, .13, .39, .5, .5, .37, .06, 0, 0, 0, .02, .16, .68, 0, 0, 0],
    [0, 0, 0, .11, .17, .17, .33, .4, .38, .28, .14, 0, 0, 0, 0, 0, .18, .42, 0, 0],
    [0, 0, .09, .18, .13, .06, .08, .26, .32, .32, .27, 0, 0, 0, 0, 0, 0, .82, 0, 0],
    [.27, 0, .16, .12, 0, 0, 0, .25, .38, .44, .45, .34, 0, 0, 0, 0, 0, .22, .17, 0],
    [0, .07, .2, .02, 0, 0, 0, .31, .48, .57, .6, .57, 0, 0, 0, 0, 0, 0, .49, 0],
    [0, .59, .19, 0, 0, 0, 0, .2, .57, .69, .76, .76, .49, 0, 0, 0, 0, 0, .36, 0],
    [0, .58, .19, 0, 0, 0, 0, 0, .67, .83, .9, .92, .87, .12, 0, 0, 0, 0, .22, .07],
    [0, 0, .46, 0, 0, 0, 0, 0, .7, .93, 1, 1, 1, .61, 0, 0, 0, 0, .18, .11],
    [0, 0, .82, 0, 0, 0, 0, 0, .47, 1, 1, .98, 1, .96, .27, 0, 0, 0, .19, .1],
    [0, 0, .46, 0, 0, 0, 0, 0, .25, 1, 1, .84, .92, .97, .54, .14, .04, .1, .21, .05],
    [0, 0, 0, .4, 0, 0, 0, 0, .09, .8, 1, .82, .8, .85, .63, .31, .18, .19, .2, .01],
    [0, 0, 0, .36, .1, 0, 0, 0, .05, .54, .86, .79, .74, .72, .6, .39, .28, .24, .13, 0],
    [0, 0, 0, .01, .3, .07, 0, 0, .08, .36, .64, .7, .64, .6, .51, .39, .29, .19, .04, 0],
    [0, 0, 0, 0, .1, .24, .14, .1, .15, .29, .45, .53, .52, .46, .4, .31, .21, .08, 0, 0],
    [0, 0, 0, 0, 0, .08, .21, .21, .22, .29, .36, .39, .37, .33, .26, .18, .09, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, .03, .13, .19, .22, .24, .24, .23, .18, .13, .05, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, .02, .06, .08, .09, .07, .05, .01, 0, 0, 0, 0, 0],
], dtype=np.float32)


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
    scalars = np.array([unsquash(v, *RANGES[k]) for k, v in zip("msRT", (0.15, 0.015, 13.0, 10.0))], np.float32)
    return {"scalars": jnp.asarray(scalars), "rings": jnp.ones((1,), jnp.float32), "init": jnp.asarray(init)}

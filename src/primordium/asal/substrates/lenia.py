"""``lenia``: the ASAL paper's Lenia, a search around the "5N7KKM" creature.

The world is a ``grid_size`` torus with three channels. Fifteen kernels
(lenia_patterns.KERNELS) each read one channel, convolve it with a ring
kernel (FFT), pass the result through a Gaussian growth curve with their own
centre m, width s and height h, and add into one channel:

    A <- clip(A + (1/T) * sum_k h_k (2 exp(-((K_k * A_c0 - m_k) / s_k)^2 / 2) - 1), 0, 1)

The genotype is 45 growth numbers (all m, then all s, then all h) followed
by a 32x32x3 patch of initial cells placed at the centre of the world. The
searched parameters are a flat float vector of the same length, a
perturbation in logit space around the creature: genotype =
sigmoid(logit(creature) + clip(params, +-clip1)) for the growth numbers,
and +-clip2 for the cells; random params are N(0, 0.1^2).

Each step first rolls the world by the shift measured at the previous step
(the centre of mass, in whole cells), so the creature stays near the middle;
the frame is the central ``phenotype_size`` square of the updated world
(with ``center_phenotype`` False the roll is undone, so the camera stays put).
The initial state is the world after one step, so its frame is not empty.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.substrates import lenia_patterns as pattern
from primordium.asal.substrates.base import Substrate, resize_nearest

EMBRYO = 32  # side of the square patch of initial cells in the genotype
N_KERNELS = len(pattern.KERNELS)
N_CHANNELS = 3
N_GROWTH = 3 * N_KERNELS


def _bell(x, centre, width):
    return jnp.exp(-(((x - centre) / width) ** 2) / 2)


@functools.lru_cache(maxsize=8)
def world_constants(grid_size: int) -> dict:
    """Kernel FFTs, centred coordinates and channel routing for one world size."""
    with jax.ensure_compile_time_eval():
        mid = grid_size // 2
        coords = jnp.mgrid[-mid:mid, -mid:mid] / pattern.RADIUS  # (2, y, x), in kernel radii
        dist = jnp.linalg.norm(coords, axis=0)
        kernels = []
        for _, _, rings, r, *_ in pattern.KERNELS:
            weights = pattern.ring_weights(rings)
            n = len(weights)
            d = dist * n / r  # ring index + position inside the ring
            ring = jnp.asarray(weights)[jnp.minimum(d.astype(jnp.int32), n - 1)]
            kernels.append((d < n) * ring * _bell(d % 1, 0.5, 0.15))
        k = jnp.dstack(kernels)
        k = k / jnp.sum(k, axis=(0, 1), keepdims=True)
        # The kernels are real, so half of each spectrum (the real FFT's) is enough.
        kernel_rfft = jnp.fft.rfft2(jnp.fft.fftshift(k, axes=(0, 1)), axes=(0, 1))
        # Kernel i reads channel src[i] and adds into channel dst[i] (a one-hot
        # matrix: the paper's dot product, exact in float).
        dst = np.zeros((N_KERNELS, N_CHANNELS), np.float32)
        for i, (_, c1, *_) in enumerate(pattern.KERNELS):
            dst[i, c1] = 1.0
        return {
            "kernel_rfft": kernel_rfft,
            "coords": coords,
            "src": np.asarray([c0 for c0, *_ in pattern.KERNELS]),
            "dst": jnp.asarray(dst),
        }


@functools.lru_cache(maxsize=1)
def creature_logits() -> jax.Array:
    """logit of the creature's genotype (cells clipped away from 0 and 1): the search's origin."""
    with jax.ensure_compile_time_eval():
        table = np.asarray([row[4:7] for row in pattern.KERNELS], np.float64).T  # (3, k): m, s, h
        cells = np.transpose(pattern.cells(), (1, 2, 0))  # (y, x, c)
        pad = EMBRYO - cells.shape[0]
        cells = np.pad(cells, ((pad // 2, pad - pad // 2), (pad // 2, pad - pad // 2), (0, 0)))
        genotype = jnp.concatenate(
            [jnp.asarray(table, jnp.float32).reshape(-1), jnp.asarray(cells).reshape(-1)]
        )
        g = jnp.clip(genotype, 1e-6, 1.0 - 1e-6)
        return jnp.log(g) - jnp.log1p(-g)


@dataclasses.dataclass(frozen=True)
class Lenia(Substrate):
    """The paper's Lenia (pattern "5N7KKM"); params: float32[45 + 32*32*3]."""

    name = "lenia"
    rollout_steps = 256
    grid_size: int = 128
    center_phenotype: bool = True
    phenotype_size: int = 64
    start_pattern: str = pattern.NAME
    clip1: float = 1.0
    clip2: float = float("inf")

    def __post_init__(self):
        if self.start_pattern != pattern.NAME:
            raise ValueError(f"start_pattern: only {pattern.NAME!r} is available")
        if self.grid_size % 2 or self.grid_size < EMBRYO:
            raise ValueError(f"grid_size must be even and >= {EMBRYO}")
        if self.phenotype_size % 2 or not 2 <= self.phenotype_size <= self.grid_size:
            raise ValueError("phenotype_size must be even and between 2 and grid_size")
        if not (self.clip1 >= 0 and self.clip2 >= 0):
            raise ValueError("clip1 and clip2 must be >= 0")

    @property
    def n_params(self) -> int:
        return N_GROWTH + EMBRYO * EMBRYO * N_CHANNELS

    def default_params(self, key):
        return jax.random.normal(key, (self.n_params,)) * 0.1

    def genotype(self, params: jax.Array) -> jax.Array:
        """The perturbed creature: 45 growth numbers then the 32x32x3 cells, all in (0, 1)."""
        base = creature_logits()
        growth = jax.nn.sigmoid(
            base[:N_GROWTH] + jnp.clip(params[:N_GROWTH], -self.clip1, self.clip1)
        )
        cells = jax.nn.sigmoid(
            base[N_GROWTH:] + jnp.clip(params[N_GROWTH:], -self.clip2, self.clip2)
        )
        return jnp.concatenate([growth, cells])

    def init_state(self, key, params):
        genotype = self.genotype(params)
        m, s, h = genotype[:N_GROWTH].reshape(3, N_KERNELS)
        cells = genotype[N_GROWTH:].reshape(EMBRYO, EMBRYO, N_CHANNELS)
        lo = self.grid_size // 2 - EMBRYO // 2
        world = (
            jnp.zeros((self.grid_size, self.grid_size, N_CHANNELS))
            .at[lo : lo + EMBRYO, lo : lo + EMBRYO]
            .set(cells)
        )
        zero = jnp.zeros(2, jnp.int32)
        state = {
            "world": world,
            "m": m,
            "s": s,
            "h": h,
            "shift": zero,
            "total_shift": zero,
            "img": jnp.zeros((self.phenotype_size, self.phenotype_size, N_CHANNELS)),
        }
        return self.step(key, state, params)

    def step(self, key, state, params):
        # The growth numbers travel in the state (fixed at init), as in the paper.
        c = world_constants(self.grid_size)
        a = jnp.roll(state["world"], -state["shift"], axis=(0, 1))
        # (y, x, k): each kernel's input channel. Picking channels replaces the
        # paper's product with a one-hot matrix (same numbers, a third of the
        # step's time), and real FFTs do half the work of complex ones (equal
        # to float rounding).
        fa = jnp.fft.rfft2(a, axes=(0, 1))[..., c["src"]]
        u = jnp.fft.irfft2(c["kernel_rfft"] * fa, s=a.shape[:2], axes=(0, 1))
        g = (2 * _bell(u, state["m"], state["s"]) - 1) * state["h"]
        nxt = jnp.clip(a + 1 / pattern.STEPS_PER_UNIT * jnp.dot(g, c["dst"]), 0, 1)

        # Centre of the new mass (weighted by the old total), in cells from the middle.
        centre = (nxt.sum(axis=-1)[None] * c["coords"]).sum(axis=(-2, -1)) / a.sum()
        shift = (centre * pattern.RADIUS).astype(jnp.int32)
        view = nxt if self.center_phenotype else jnp.roll(nxt, state["total_shift"], axis=(0, 1))
        lo = self.grid_size // 2 - self.phenotype_size // 2
        img = view[lo : lo + self.phenotype_size, lo : lo + self.phenotype_size]
        return state | {
            "world": nxt,
            "shift": shift,
            "total_shift": state["total_shift"] + shift,
            "img": img,
        }

    def render(self, state, params, size=None):
        return resize_nearest(state["img"], size)

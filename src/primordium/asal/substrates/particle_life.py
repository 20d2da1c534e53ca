"""Particle Life, with cell lists so thousands of particles run on a CPU.

N particles of K colours on a torus. Colour a feels colour b with attraction
A[a, b] in [-1, 1]; forces vanish beyond ``r_max`` and repel below
``beta * r_max`` (the usual piecewise-linear force). Searched: the
attraction matrix and the two radii.

Density is held fixed as N changes: the torus has side sqrt(N / 1000), so
1000 particles fill the unit square and 5000 a wider world at the same
density, with the same radii. That keeps the work per particle constant.

Two interchangeable force backends, checked against each other in tests:

- ``numba`` (default, for CPUs): a counting-sort cell list in a numba
  kernel called through ``jax.pure_callback``; rollouts still jit, scan and
  vmap (the whole population goes to the kernel at once, in parallel).
- ``jax``: pure XLA, for accelerators. The cell list is turned into a flat list of candidate pairs
(every particle against every particle of its 9 surrounding cells). Its
length is a static buffer size; the state records how many pairs were
needed, and :func:`primordium.asal.substrates.base.rollout` reruns with a larger
buffer if it ever fell short, so no interaction is silently dropped. Unlike
fixed slots per cell, the work follows the real number of close pairs, which
matters because Particle Life packs particles into dense clusters.

Particle Life++ (:class:`ParticleLifePP`): particles also change colour, at
rates set by a searched K x K conversion matrix and their neighbours' colours.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.substrates.base import Substrate, palette, splat_points, squash

BETA = (0.1, 0.5)
REFERENCE_N = 1000  # particles per unit area


@dataclasses.dataclass(frozen=True)
class ParticleLife(Substrate):
    name = "particle_life"
    n: int = 1000
    k: int = 6
    dt: float = 0.02
    friction_half_life: float = 0.04
    force_factor: float = 10.0
    r_max_lo: float = 0.04
    r_max_hi: float = 0.1
    pairs: int = 0  # candidate-pair buffer (jax backend); 0 picks twice the uniform expectation
    backend: str = "numba"

    def __post_init__(self):
        if not 0 < self.r_max_lo <= self.r_max_hi:
            raise ValueError("need 0 < r_max_lo <= r_max_hi")
        if self.r_max_hi > self.world / 3:
            need = int(math.ceil(REFERENCE_N * (3 * self.r_max_hi) ** 2))
            raise ValueError(
                f"n={self.n} particles make a world too small for r_max_hi={self.r_max_hi} "
                f"(use n >= {need} or a smaller r_max_hi)"
            )
        if self.backend not in ("numba", "jax"):
            raise ValueError(f"unknown backend {self.backend!r} (numba or jax)")
        if self.pairs <= 0:
            expected = 9 * self.n * self.n / self.cells**2
            object.__setattr__(self, "pairs", _round_up(2 * expected + 4096))

    @property
    def world(self) -> float:
        return math.sqrt(self.n / REFERENCE_N)

    @property
    def cells(self) -> int:
        return int(self.world / self.r_max_hi)

    def default_params(self, key):
        k1, k2 = jax.random.split(key)
        return {
            "attraction": jax.random.uniform(k1, (self.k, self.k), jnp.float32, -1.0, 1.0),
            "radii": jax.random.normal(k2, (2,), jnp.float32),
        }

    def radii(self, params):
        beta = squash(params["radii"][0], *BETA)
        r_max = squash(params["radii"][1], self.r_max_lo, self.r_max_hi)
        return beta, r_max

    def init_state(self, key, params):
        k1, k2 = jax.random.split(key)
        return {
            "x": jax.random.uniform(k1, (self.n, 2), jnp.float32) * self.world,
            "v": jnp.zeros((self.n, 2), jnp.float32),
            "c": jax.random.randint(k2, (self.n,), 0, self.k),
            "needed": jnp.zeros((), jnp.int32),
        }

    # -- neighbours -----------------------------------------------------------
    def candidate_pairs(self, x):
        """(i, j, valid, total): every i against each particle of its 9 cells.

        Pairs are grouped by i (so sums over them are sorted segment sums);
        ``total`` is how many pairs existed, which may exceed the buffer.
        """
        g, n, p = self.cells, self.n, self.pairs
        cxy = jnp.clip(jnp.floor(x * (g / self.world)).astype(jnp.int32), 0, g - 1)
        cell = cxy[:, 1] * g + cxy[:, 0]
        order = jnp.argsort(cell).astype(jnp.int32)
        counts = jnp.bincount(cell, length=g * g)
        starts = jnp.cumsum(counts) - counts
        d = jnp.array([-1, 0, 1])
        nx = jnp.mod(cxy[:, 0, None, None] + d[None, None, :], g)
        ny = jnp.mod(cxy[:, 1, None, None] + d[None, :, None], g)
        ncell = (ny * g + nx).reshape(n * 9)
        seg_len = counts[ncell]
        seg_start = jnp.cumsum(seg_len) - seg_len
        total = seg_len.sum()
        seg = jnp.repeat(jnp.arange(n * 9, dtype=jnp.int32), seg_len, total_repeat_length=p)
        pos = jnp.arange(p, dtype=jnp.int32)
        within = pos - seg_start[seg]
        j = order[jnp.clip(starts[ncell[seg]] + within, 0, n - 1)]
        i = seg // 9
        valid = (pos < total) & (i != j)
        return i, j, valid, total

    def interact(self, x, c, params):
        """(accelerations f32[N, 2], neighbour colour counts f32[N, K], pairs needed)."""
        if self.backend == "numba":
            return self._interact_numba(x, c, params)
        return self._interact_jax(x, c, params)

    def _interact_numba(self, x, c, params):
        from primordium.asal.substrates._plife_kernel import forces_host

        beta, r_max = self.radii(params)
        a = jnp.clip(params["attraction"], -1.0, 1.0)
        n, k, world, cells = self.n, self.k, self.world, self.cells
        want_hist = self.uses_neighbour_colours

        def host(x, c, a, beta, r_max):
            lead = x.shape[:-2]
            acc, hist = forces_host(
                x.reshape(-1, n, 2),
                c.reshape(-1, n),
                a.reshape(-1, k, k),
                beta.reshape(-1),
                r_max.reshape(-1),
                world,
                cells,
                k,
                want_hist,
            )
            return acc.reshape(lead + (n, 2)), hist.reshape(lead + (n, k))

        out = (jax.ShapeDtypeStruct((n, 2), jnp.float32), jax.ShapeDtypeStruct((n, k), jnp.float32))
        acc, hist = jax.pure_callback(
            host, out, x, c.astype(jnp.int32), a, beta, r_max, vmap_method="broadcast_all"
        )
        return acc * self.force_factor, hist, jnp.zeros((), jnp.int32)

    def _interact_jax(self, x, c, params):
        beta, r_max = self.radii(params)
        a = jnp.clip(params["attraction"], -1.0, 1.0)
        i, j, valid, total = self.candidate_pairs(x)
        w = self.world
        off = x[j] - x[i]
        off = off - w * jnp.round(off / w)
        dist = jnp.sqrt(jnp.sum(off**2, axis=-1))
        r = dist / r_max
        f = jnp.where(
            r < beta,
            r / beta - 1.0,
            a[c[i], c[j]] * (1.0 - jnp.abs(2.0 * r - 1.0 - beta) / (1.0 - beta)),
        )
        near = valid & (r < 1.0) & (dist > 0)
        f = jnp.where(near, f / jnp.maximum(dist, 1e-12), 0.0)
        acc = jax.ops.segment_sum(f[:, None] * off, i, num_segments=self.n, indices_are_sorted=True)
        hist = jax.ops.segment_sum(
            jax.nn.one_hot(c[j], self.k) * near[:, None],
            i,
            num_segments=self.n,
            indices_are_sorted=True,
        )
        return acc * r_max * self.force_factor, hist, total

    def step(self, key, state, params):
        x, v, c = state["x"], state["v"], state["c"]
        acc, hist, total = self.interact(x, c, params)
        friction = 0.5 ** (self.dt / self.friction_half_life)
        v = v * friction + acc * self.dt
        x = jnp.mod(x + v * self.dt, self.world)
        c = self.recolour(key, c, hist, params)
        return {
            "x": x,
            "v": v,
            "c": c,
            "needed": jnp.maximum(state["needed"], total.astype(jnp.int32)),
        }

    uses_neighbour_colours = False

    def recolour(self, key, c, hist, params):
        return c

    def overflowed(self, state):
        return (state["needed"] > self.pairs) if self.backend == "jax" else False

    def enlarged(self, state):
        needed = int(np.max(np.asarray(state["needed"])))
        return dataclasses.replace(self, pairs=_round_up(max(needed * 1.25, self.pairs * 1.25)))

    def render(self, state, params, size):
        colours = palette(self.k)[state["c"]]
        return splat_points(state["x"] / self.world, colours, size, radius=max(1, size // 160))


def _round_up(x: float) -> int:
    return int(-(-int(x) // 4096) * 4096)


@dataclasses.dataclass(frozen=True)
class ParticleLifePP(ParticleLife):
    """Particle Life whose particles change colour under their neighbours' influence."""

    name = "particle_life_pp"
    convert_rate: float = 5.0
    uses_neighbour_colours = True

    def default_params(self, key):
        k1, k2 = jax.random.split(key)
        params = super().default_params(k1)
        params["convert"] = jax.random.normal(k2, (self.k, self.k), jnp.float32) - 2.0
        return params

    def recolour(self, key, c, hist, params):
        # Rate of a -> b: sigmoid(convert[a, b]) x share of neighbours that are b.
        share = hist / jnp.maximum(hist.sum(-1, keepdims=True), 1.0)
        rate = jax.nn.sigmoid(params["convert"])[c] * share * self.convert_rate * self.dt
        rate = rate * (1.0 - jax.nn.one_hot(c, self.k))
        p_stay = jnp.clip(1.0 - rate.sum(-1, keepdims=True), 0.0, 1.0)
        probs = jnp.concatenate([rate, p_stay], axis=-1)
        pick = jax.random.categorical(key, jnp.log(jnp.maximum(probs, 1e-12)))
        return jnp.where(pick == self.k, c, pick)

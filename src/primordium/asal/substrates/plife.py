"""Particle Life as in the ASAL paper (``plife``).

N particles of K colours in the unit square with wrap-around. A particle of
colour a feels a particle of colour b at distance d through the
piecewise-linear force law with repulsion radius beta[a] (a fraction of
rmax[a]) and attraction alpha[a, b]; forces vanish at d >= rmax[a]. Each
colour has its own mass and friction half-life. The ``search_space`` option
names which of these are searched (raw normal values mapped through fixed
sigmoid ranges); the rest are the constructor's constants.

Forces, three interchangeable ways (``backend``), checked against each other
and against the paper's code in the tests:

- ``allpairs``: pure JAX, every pair, rows in blocks so memory stays bounded
  for vmapped populations. The paper's computation; used on accelerators.
- ``numba``: a cell-list kernel (cells no smaller than the largest rmax) on
  the host through ``jax.pure_callback``: the same nonzero terms, so the same
  forces to float tolerance, an order of magnitude fewer pair visits on a CPU.
- ``auto`` (default): ``numba`` when JAX runs on the CPU, else ``allpairs``
  (a host callback on a GPU would copy the state to the host every step).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.substrates.base import Substrate

# Searchable parameters in the order the paper draws them, and their shapes
# ("k": per colour, "kk": colour pair, "s": scalar, "x": initial-position bins).
ORDER = ("beta", "alpha", "mass", "dt", "half_life", "rmax", "c_dist", "x_dist")
PAPER_PALETTE = "ff0000-00ff00-0000ff-ffff00-ff00ff-00ffff-ffffff-8f5d00"
BACKENDS = ("auto", "allpairs", "numba")


def force_law(q, alpha, beta):
    """Force per unit rmax at distance q = d / rmax: linear repulsion below beta, a tent of height alpha to 1."""
    inner = q / beta - 1.0
    tent = alpha * (1.0 - jnp.abs(2.0 * q - 1.0 - beta) / (1.0 - beta))
    return jnp.where(q < beta, inner, jnp.where((beta < q) & (q < 1.0), tent, 0.0))


def wrap_offset(d):
    """Minimum-image offset on the unit torus (offsets are in (-1, 1))."""
    return jnp.where(d > 0.5, d - 1.0, jnp.where(d < -0.5, d + 1.0, d))


def pair_forces_allpairs(x, c, alpha, beta, rmax, block: int):
    """Summed force on each particle, every pair visited, ``block`` rows at a time."""
    n = x.shape[0]
    nb = -(-n // block)
    pad = nb * block - n
    xi = jnp.pad(x, ((0, pad), (0, 0))).reshape(nb, block, 2)
    ci = jnp.pad(c, (0, pad)).reshape(nb, block)

    def rows(args):
        xb, cb = args
        off = wrap_offset(x[None, :, :] - xb[:, None, :])
        dist = jnp.linalg.norm(off, axis=-1)
        rm = rmax[cb][:, None]
        mag = rm * force_law(dist / rm, alpha[cb[:, None], c[None, :]], beta[cb][:, None])
        return jnp.sum(off / (dist[..., None] + 1e-8) * mag[..., None], axis=1)

    return jax.lax.map(rows, (xi, ci)).reshape(nb * block, 2)[:n]


def pair_forces_numba(x, c, alpha, beta, rmax):
    """The same sums from the host cell-list kernel (vmaps by batching the call)."""
    from primordium.asal.substrates._plife_kernel import paper_forces_host

    n = x.shape[0]
    out = jax.ShapeDtypeStruct((n, 2), jnp.float32)
    return jax.pure_callback(
        paper_forces_host,
        out,
        x.astype(jnp.float32),
        c.astype(jnp.int32),
        alpha.astype(jnp.float32),
        beta.astype(jnp.float32),
        rmax.astype(jnp.float32),
        vmap_method="broadcast_all",
    )


def hex_palette(spec: str) -> np.ndarray:
    return np.array(
        [[int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4)] for h in spec.split("-")], np.float32
    )


BASIC_COLOURS = {
    "black": (0.0, 0.0, 0.0),
    "white": (1.0, 1.0, 1.0),
    "k": (0.0, 0.0, 0.0),
    "w": (1.0, 1.0, 1.0),
}


def named_rgb(name: str) -> np.ndarray:
    """RGB of a colour name or #rrggbb; other names (as the paper, matplotlib's) need matplotlib."""
    if name.lower() in BASIC_COLOURS:
        return np.asarray(BASIC_COLOURS[name.lower()], np.float32)
    if name.startswith("#") and len(name) == 7:
        return hex_palette(name[1:])[0]
    try:
        import matplotlib.colors as mcolors

        return np.asarray(mcolors.to_rgb(name), np.float32)
    except (ImportError, ValueError):
        raise ValueError(
            f"background_color {name!r} is not black, white, #rrggbb or a matplotlib colour"
        ) from None


# A disc leaves a pixel exactly unchanged in float32 once exp(-sharpness * (d - r))
# is below 2^-24 (1 + it rounds to 1, so its weight is 0 and the blend gives the
# old value back), i.e. from sharpness * (d - r) = 16.6 on; 20 leaves a margin
# for the exponential's rounding.
SILENT_EXPONENT = 20.0


def render_discs(x, colours, radius, background, sharpness, size: int, max_radius=None):
    """Soft discs painted one after another over ``background``, the paper's way.

    Image axis 0 is the first coordinate. Each disc blends in with weight
    1 - sigmoid(sharpness * (d - r)), so later discs cover earlier ones.
    With ``max_radius`` (a static bound on ``radius``) each disc is painted
    only on the square of pixels it can change (see ``SILENT_EXPONENT``): the
    same formula on those pixels (XLA may round it differently, ~1e-7), the
    others provably untouched, without evaluating every disc on every pixel.
    """
    grid = jnp.linspace(0.0, 1.0, size)
    img = jnp.broadcast_to(jnp.asarray(background, jnp.float32), (size, size, 3))

    def blend(img, d, r, col):
        w = 1.0 - 1.0 / (1.0 + jnp.exp(-sharpness * (d - r)))
        return w[:, :, None] * col + (1.0 - w[:, :, None]) * img

    side = size
    if max_radius is not None:
        reach = float(max_radius) + SILENT_EXPONENT / float(sharpness)
        side = 2 * (int(np.ceil(reach * (size - 1))) + 1) + 1
    if side >= size:
        gx, gy = grid[:, None], grid[None, :]

        def paint(img, disc):
            px, py, r, col = disc
            return blend(img, jnp.sqrt((px - gx) ** 2 + (py - gy) ** 2), r, col), None

    else:

        def paint(img, disc):
            px, py, r, col = disc
            # The window around the disc's nearest pixel, moved inside the image
            # at the edges (it still holds every pixel the disc can reach).
            i0 = jnp.clip(jnp.round(px * (size - 1)).astype(jnp.int32) - side // 2, 0, size - side)
            j0 = jnp.clip(jnp.round(py * (size - 1)).astype(jnp.int32) - side // 2, 0, size - side)
            gx = jax.lax.dynamic_slice(grid, (i0,), (side,))[:, None]
            gy = jax.lax.dynamic_slice(grid, (j0,), (side,))[None, :]
            patch = jax.lax.dynamic_slice(img, (i0, j0, 0), (side, side, 3))
            d = jnp.sqrt((px - gx) ** 2 + (py - gy) ** 2)
            return jax.lax.dynamic_update_slice(img, blend(patch, d, r, col), (i0, j0, 0)), None

    img, _ = jax.lax.scan(paint, img, (x[:, 0], x[:, 1], radius, colours))
    return img


@dataclasses.dataclass(frozen=True)
class PLife(Substrate):
    name: ClassVar[str] = "plife"
    rollout_steps: ClassVar[int] = 1000
    n_particles: int = 5000
    n_colors: int = 6
    x_dist_bins: int = 7
    beta: float = 0.3
    alpha: float = 0.0
    mass: float = 0.1
    dt: float = 2e-3
    half_life: float = 0.04
    rmax: float = 0.1
    render_radius: float = 1e-2
    sharpness: float = 20.0
    search_space: str = "beta+alpha"
    color_palette: str = PAPER_PALETTE
    background_color: str = "black"
    backend: str = "auto"
    block: int = 0  # rows per block of the all-pairs sum; 0: about 2^18 pairs a block on the CPU, 2^25 elsewhere

    def __post_init__(self):
        unknown = [s for s in self.searched if s not in ORDER]
        if unknown:
            raise ValueError(
                f"search_space names unknown parameter {unknown[0]!r} (choose from {'+'.join(ORDER)})"
            )
        if self.backend not in BACKENDS:
            raise ValueError(f"backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.n_colors > len(self.color_palette.split("-")):
            raise ValueError(
                f"n_colors={self.n_colors} exceeds the {len(self.color_palette.split('-'))} palette colours"
            )
        named_rgb(self.background_color)
        if self.n_particles < 1 or self.n_colors < 1 or self.block < 0:
            raise ValueError("n_particles and n_colors must be positive, block not negative")

    @property
    def searched(self) -> tuple[str, ...]:
        return tuple(self.search_space.split("+"))

    def _shape(self, name):
        k, b = self.n_colors, self.x_dist_bins
        return {"alpha": (k, k), "dt": (), "x_dist": (k, b, b)}.get(name, (k,))

    def default_params(self, key):
        params = {}
        for name in ORDER:  # one split per searched parameter, in this fixed order
            if name in self.searched:
                key, sub = jax.random.split(key)
                params[name] = jax.random.normal(sub, self._shape(name))
        return params

    def value(self, params, name):
        """A parameter's physical value: mapped from its raw value if searched, else the constant."""
        if name not in self.searched:
            const = {"c_dist": 0.0, "x_dist": 0.0}.get(name, getattr(self, name, 0.0))
            return jnp.full(self._shape(name), const, jnp.float32)
        raw = params[name]
        s = jax.nn.sigmoid(raw)
        return {
            "beta": lambda: s,
            "alpha": lambda: s * 3.0 - 1.5,
            "mass": lambda: 10.0 ** (s * 1.5 - 1.5),
            "dt": lambda: 10.0 ** (s * 3.0 - 4.0),
            "half_life": lambda: 10.0 ** (s * 1.5 - 2.5),
            "rmax": lambda: 10.0 ** (s * 1.5 - 2.0),
        }.get(name, lambda: raw)()

    def init_state(self, key, params):
        k_colour, k_pos, k_bin = jax.random.split(key, 3)
        n, b = self.n_particles, self.x_dist_bins
        p_colour = jax.nn.softmax(self.value(params, "c_dist"))
        c = jax.random.choice(k_colour, self.n_colors, shape=(n,), replace=True, p=p_colour)
        x = jax.random.uniform(k_pos, (n, 2), minval=0.0, maxval=1.0 / b)
        logits = self.value(params, "x_dist")[c].reshape(n, b * b)
        cell = jax.random.categorical(k_bin, logits, axis=-1)
        x = x + jnp.stack([cell // b, cell % b], axis=-1) * (1.0 / b)
        return {"c": c, "x": x, "v": jnp.zeros((n, 2))}

    def forces(self, x, c, params):
        alpha, beta, rmax = (self.value(params, k) for k in ("alpha", "beta", "rmax"))
        backend = self.backend
        if backend == "auto":
            backend = "numba" if jax.default_backend() == "cpu" else "allpairs"
        if backend == "numba":
            return pair_forces_numba(x, c, alpha, beta, rmax)
        # An accelerator takes the paper's 5000^2 pairs in one pass; the CPU keeps
        # blocks small so vmapped populations stay in memory.
        pairs = 2**18 if jax.default_backend() == "cpu" else 2**25
        block = self.block or max(1, pairs // self.n_particles)
        return pair_forces_allpairs(x, c, alpha, beta, rmax, min(block, self.n_particles))

    def step(self, key, state, params):
        x, v, c = state["x"], state["v"], state["c"]
        dt = self.value(params, "dt")
        acc = self.forces(x, c, params) / self.value(params, "mass")[c][:, None]
        decay = 0.5 ** (dt / self.value(params, "half_life")[c][:, None])
        v = decay * v + acc * dt
        x = jnp.mod(x + v * dt, 1.0)
        return {"c": c, "x": x, "v": v}

    def render(self, state, params, size):
        mass = self.value(params, "mass")[state["c"]]
        order = jnp.argsort(mass)[::-1]  # heaviest first, so light particles end up on top
        colours = jnp.asarray(hex_palette(self.color_palette))[state["c"][order]]
        radius = jnp.sqrt(mass[order]) * self.render_radius
        return render_discs(
            state["x"][order],
            colours,
            radius,
            named_rgb(self.background_color),
            self.sharpness / self.render_radius,
            size,
            # A searched mass is at most 1 (see ``value``).
            max_radius=float(np.sqrt(max(1.0, self.mass))) * self.render_radius,
        )

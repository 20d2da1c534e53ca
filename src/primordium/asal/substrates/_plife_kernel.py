"""Particle Life forces on the CPU: a numba cell list, called from JAX.

XLA on a CPU cannot run a variable-length neighbour loop efficiently (every
static-shape formulation pays for the densest cluster everywhere, or for
slow scatters), and Particle Life packs particles into dense clusters. This
kernel is a plain counting-sort cell list: the work is the number of
candidate pairs, at native speed, parallel over particles. It is pure (arrays
in, arrays out) and is wrapped with ``jax.pure_callback`` so rollouts still
jit, scan and vmap.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True, fastmath=True)
def forces(x, c, attraction, beta, r_max, world, cells, k, want_hist):
    """Batched: x f32[B, N, 2], c i32[B, N], attraction f32[B, K, K], beta/r_max f32[B].

    Returns (acc f32[B, N, 2] without the force factor, hist f32[B, N, K]:
    how many neighbours within r_max have each colour).
    """
    nbatch, n = x.shape[0], x.shape[1]
    # Cells as small as each member's own r_max allows (>= 3 per side so the
    # 3x3 stencil never counts a cell twice): fewer candidates than sizing
    # them for the largest r_max the search permits.
    gs = np.empty(nbatch, np.int64)
    for b in range(nbatch):
        gs[b] = max(3, min(cells * 16, int(world / r_max[b])))
    gmax = gs.max()
    acc = np.zeros((nbatch, n, 2), np.float32)
    hist = np.zeros((nbatch, n, k), np.float32)
    cell = np.empty((nbatch, n), np.int64)
    order = np.empty((nbatch, n), np.int64)
    # Particles copied in cell order: the inner loop then reads contiguous memory.
    sx = np.empty((nbatch, n), np.float32)
    sy = np.empty((nbatch, n), np.float32)
    sc = np.empty((nbatch, n), np.int64)
    starts = np.zeros((nbatch, gmax * gmax + 1), np.int64)
    for b in nb.prange(nbatch):
        g = gs[b]
        scale = g / world
        counts = np.zeros(g * g, np.int64)
        for i in range(n):
            cx = min(int(x[b, i, 0] * scale), g - 1)
            cy = min(int(x[b, i, 1] * scale), g - 1)
            cell[b, i] = cy * g + cx
            counts[cy * g + cx] += 1
        s = 0
        for q in range(g * g):
            starts[b, q] = s
            s += counts[q]
        starts[b, g * g] = s
        fill = starts[b, : g * g].copy()
        for i in range(n):
            q = cell[b, i]
            order[b, fill[q]] = i
            sx[b, fill[q]] = x[b, i, 0]
            sy[b, fill[q]] = x[b, i, 1]
            sc[b, fill[q]] = c[b, i]
            fill[q] += 1
    half = world * 0.5
    for t in nb.prange(nbatch * n):
        b = t // n
        i = t % n
        g = gs[b]
        bb = beta[b]
        rm = r_max[b]
        xi = x[b, i, 0]
        yi = x[b, i, 1]
        ci = c[b, i]
        q = cell[b, i]
        cx = q % g
        cy = q // g
        ax = 0.0
        ay = 0.0
        for dy in range(-1, 2):
            ny = (cy + dy) % g
            # The three cells of a row are one contiguous run of the sorted
            # particles unless the row wraps around the torus.
            if 0 < cx < g - 1:
                runs = ((ny * g + cx - 1, ny * g + cx + 1), (0, -1), (0, -1))
            else:
                runs = (
                    (ny * g + (cx - 1) % g, ny * g + (cx - 1) % g),
                    (ny * g + cx, ny * g + cx),
                    (ny * g + (cx + 1) % g, ny * g + (cx + 1) % g),
                )
            for run in runs:
                if run[1] < run[0]:
                    continue
                for p in range(starts[b, run[0]], starts[b, run[1] + 1]):
                    if order[b, p] == i:
                        continue
                    ox = sx[b, p] - xi
                    oy = sy[b, p] - yi
                    if ox > half:
                        ox -= world
                    elif ox < -half:
                        ox += world
                    if oy > half:
                        oy -= world
                    elif oy < -half:
                        oy += world
                    d2 = ox * ox + oy * oy
                    if d2 >= rm * rm or d2 == 0.0:
                        continue
                    d = np.sqrt(d2)
                    r = d / rm
                    if r < bb:
                        f = r / bb - 1.0
                    else:
                        f = attraction[b, ci, sc[b, p]] * (
                            1.0 - abs(2.0 * r - 1.0 - bb) / (1.0 - bb)
                        )
                    ax += f * ox / d
                    ay += f * oy / d
                    if want_hist:
                        hist[b, i, sc[b, p]] += 1.0
        acc[b, i, 0] = ax * rm
        acc[b, i, 1] = ay * rm
    return acc, hist


def forces_host(x, c, attraction, beta, r_max, world, cells, k, want_hist=True):
    """numpy-in, numpy-out entry for ``jax.pure_callback`` (batched inputs)."""
    acc, hist = forces(
        np.ascontiguousarray(x, np.float32),
        np.ascontiguousarray(c, np.int32),
        np.ascontiguousarray(attraction, np.float32),
        np.ascontiguousarray(beta, np.float32).reshape(-1),
        np.ascontiguousarray(r_max, np.float32).reshape(-1),
        float(world),
        int(cells),
        int(k),
        bool(want_hist),
    )
    return acc, hist


# -- the ASAL paper's Particle Life (unit torus, per-colour beta/rmax) -------
@nb.njit(cache=True)
def bin_into_cells(x, g, cell, order, starts):
    """Counting sort of particles ``x[n, 2]`` in the unit square into ``g * g`` cells.

    Fills ``cell[i]`` (particle i's cell), ``order`` (particles grouped by
    cell) and ``starts[q] : starts[q + 1]`` (cell q's slice of ``order``).
    """
    n = x.shape[0]
    counts = np.zeros(g * g, np.int64)
    for i in range(n):
        cx = min(max(int(x[i, 0] * g), 0), g - 1)
        cy = min(max(int(x[i, 1] * g), 0), g - 1)
        cell[i] = cy * g + cx
        counts[cy * g + cx] += 1
    s = 0
    for q in range(g * g):
        starts[q] = s
        s += counts[q]
    starts[g * g] = s
    fill = starts[: g * g].copy()
    for i in range(n):
        q = cell[i]
        order[fill[q]] = i
        fill[q] += 1


@nb.njit(cache=True, parallel=True)
def paper_forces(x, c, alpha, beta, rmax):
    """Batched summed forces for ``plife``: x f32[B, N, 2], c i32[B, N], alpha f32[B, K, K], beta/rmax f32[B, K].

    The terms are exactly the all-pairs sum's nonzero ones: a pair farther
    apart than the receiver's rmax contributes zero there, so visiting only
    the 3 x 3 cells around each particle (cells at least max(rmax) wide)
    skips nothing. Below 3 cells a side the stencil would visit cells twice,
    so those members fall back to visiting every particle. No fastmath: the
    per-pair arithmetic follows the all-pairs formula term by term.
    """
    nbatch, n = x.shape[0], x.shape[1]
    out = np.zeros((nbatch, n, 2), np.float32)
    gs = np.empty(nbatch, np.int64)
    for b in range(nbatch):
        gs[b] = max(1, int(1.0 / rmax[b].max()))
    gmax = gs.max()
    cell = np.empty((nbatch, n), np.int64)
    order = np.empty((nbatch, n), np.int64)
    starts = np.zeros((nbatch, gmax * gmax + 1), np.int64)
    for b in nb.prange(nbatch):
        bin_into_cells(x[b], gs[b], cell[b], order[b], starts[b])
    for t in nb.prange(nbatch * n):
        b = t // n
        i = t % n
        g = gs[b]
        ci = c[b, i]
        rm = rmax[b, ci]
        bt = beta[b, ci]
        xi = x[b, i, 0]
        yi = x[b, i, 1]
        fx = np.float32(0.0)
        fy = np.float32(0.0)
        q = cell[b, i]
        ncells = 9 if g >= 3 else 1
        for s9 in range(ncells):
            if g >= 3:
                nq = ((q // g + s9 // 3 - 1) % g) * g + (q % g + s9 % 3 - 1) % g
                lo, hi = starts[b, nq], starts[b, nq + 1]
            else:
                lo, hi = 0, n
            for p in range(lo, hi):
                j = order[b, p] if g >= 3 else p
                dx = x[b, j, 0] - xi
                dy = x[b, j, 1] - yi
                if dx > 0.5:
                    dx = dx - np.float32(1.0)
                elif dx < -0.5:
                    dx = dx + np.float32(1.0)
                if dy > 0.5:
                    dy = dy - np.float32(1.0)
                elif dy < -0.5:
                    dy = dy + np.float32(1.0)
                d = np.sqrt(dx * dx + dy * dy)
                qd = d / rm
                if qd >= 1.0 or d == 0.0:
                    continue
                if qd < bt:
                    f = qd / bt - np.float32(1.0)
                elif bt < qd:
                    f = alpha[b, ci, c[b, j]] * (
                        np.float32(1.0)
                        - abs(np.float32(2.0) * qd - np.float32(1.0) - bt) / (np.float32(1.0) - bt)
                    )
                else:
                    continue
                mag = rm * f
                den = d + np.float32(1e-8)
                fx += dx / den * mag
                fy += dy / den * mag
        out[b, i, 0] = fx
        out[b, i, 1] = fy
    return out


def paper_forces_host(x, c, alpha, beta, rmax):
    """numpy-in, numpy-out entry for ``jax.pure_callback``; any leading batch axes."""
    x = np.asarray(x, np.float32)
    lead, n = x.shape[:-2], x.shape[-2]
    k = np.shape(beta)[-1]
    out = paper_forces(
        np.ascontiguousarray(x.reshape(-1, n, 2)),
        np.ascontiguousarray(np.asarray(c, np.int32).reshape(-1, n)),
        np.ascontiguousarray(np.asarray(alpha, np.float32).reshape(-1, k, k)),
        np.ascontiguousarray(np.asarray(beta, np.float32).reshape(-1, k)),
        np.ascontiguousarray(np.asarray(rmax, np.float32).reshape(-1, k)),
    )
    return out.reshape(lead + (n, 2))

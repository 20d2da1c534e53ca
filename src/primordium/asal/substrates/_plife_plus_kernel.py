"""Particle Life++ pair sums on the CPU: a numba cell list, called from JAX.

The paper evaluates its pair network on all N^2 pairs, but a pair farther
apart than rmax adds exactly nothing: the force law is zero from rmax on and
the colour change is scaled by relu(1 - d / rmax). So visiting the 3 x 3
cells around each particle (cells at least rmax wide) and running the network
only on pairs closer than rmax gives the same nonzero terms, summed in
another order. The first dense layer acts on concat(c_i, c_j), so it splits
into a receiver half and a sender half, each computed once per particle.
Float32 throughout, no fastmath: each pair's arithmetic follows the paper's
formula term by term. tanh is our own (below): the C library's float32 tanh
costs more than the rest of a pair's network together.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from primordium.asal.substrates._plife_kernel import bin_into_cells

# Taylor series of tanh, x + x^3 * (T3 + T5 x^2 + ...), for |x| < 0.55, where
# the next term is below float32 rounding.
_T = tuple(
    np.float32(v)
    for v in (
        -1 / 3,
        2 / 15,
        -17 / 315,
        62 / 2835,
        -1382 / 155925,
        21844 / 6081075,
        -929569 / 638512875,
        6404582 / 10854718875,
    )
)
_T3, _T5, _T7, _T9, _T11, _T13, _T15, _T17 = _T


@nb.njit(cache=True, inline="always")
def tanh32(x):
    """float32 tanh within 1.5 ulp (XLA's own is within ~5), about twice as fast as tanhf."""
    a = abs(x)
    if a < np.float32(0.55):
        z = x * x
        p = _T17
        for coef in (_T15, _T13, _T11, _T9, _T7, _T5, _T3):
            p = p * z + coef
        return x + x * z * p
    # Away from zero 1 - e^(-2|x|) has no cancellation.
    t = np.exp(np.float32(-2.0) * a)
    r = (np.float32(1.0) - t) / (np.float32(1.0) + t)
    return r if x > 0 else -r


@nb.njit(cache=True)
def _dense(h, w, b, out):
    """out = h @ w + b, summed over the inputs in order (a dot, then the bias)."""
    for o in range(out.shape[0]):
        out[o] = np.float32(0.0)
    for m in range(h.shape[0]):
        hm = h[m]
        for o in range(out.shape[0]):
            out[o] += hm * w[m, o]
    for o in range(out.shape[0]):
        out[o] = out[o] + b[o]


# Serial: a step is milliseconds of work, and on a shared 2-core machine two
# threads meeting at each loop's barrier took 3x longer than one thread
# (load 10: 72 ms against 222 ms a call). Populations run member by member.
@nb.njit(cache=True)
def pair_sums(x, c, w0, b0, w1, b1, w2, b2, w3, b3, beta, rmax):
    """Batched sums over each particle's pairs within rmax.

    x f32[B, N, 2], c f32[B, N, K]; the network's kernels w0 f32[B, 2K, H0],
    w1 [B, H0, H1], w2 [B, H1, H2], w3 [B, H2, 1 + K] and biases b* [B, H];
    beta, rmax f32 scalars. Returns (force f32[B, N, 2], colour change
    f32[B, N, K]) before the mass and time step.
    """
    nbatch, n, k = c.shape
    h0, h1, h2 = w0.shape[2], w1.shape[2], w2.shape[2]
    one = np.float32(1.0)
    # Cells a hair wider than rmax, so rounding of x * g never puts two
    # particles closer than rmax two cells apart; below 3 a side the stencil
    # would visit a cell twice, so every particle is visited instead.
    g = max(1, int(np.floor(1.0 / (rmax * (1.0 + 1e-6)))))
    if g < 3:
        g = 1
    force = np.zeros((nbatch, n, 2), np.float32)
    dcol = np.zeros((nbatch, n, k), np.float32)
    order = np.empty((nbatch, n), np.int64)
    starts = np.zeros((nbatch, g * g + 1), np.int64)
    cell = np.empty((nbatch, n), np.int64)
    # First layer split: receiver half c_i @ w0[:K], sender half c_j @ w0[K:].
    recv = np.empty((nbatch, n, h0), np.float32)
    send = np.empty((nbatch, n, h0), np.float32)
    for t in range(nbatch * n):
        b, i = t // n, t % n
        for o in range(h0):
            # (names not reused below: numba would widen one name's types to float64)
            half_r = np.float32(0.0)
            half_s = np.float32(0.0)
            for m in range(k):
                half_r += c[b, i, m] * w0[b, m, o]
                half_s += c[b, i, m] * w0[b, k + m, o]
            recv[b, i, o] = half_r
            send[b, i, o] = half_s
    for b in range(nbatch):
        bin_into_cells(x[b], g, cell[b], order[b], starts[b])
    for t in range(nbatch * n):
        b, i = t // n, t % n
        z0 = np.empty(h0, np.float32)
        z1 = np.empty(h1, np.float32)
        z2 = np.empty(h2, np.float32)
        out = np.empty(1 + k, np.float32)
        acc_c = np.zeros(k, np.float32)
        fx = np.float32(0.0)
        fy = np.float32(0.0)
        xi = x[b, i, 0]
        yi = x[b, i, 1]
        q = cell[b, i]
        ncells = 9 if g >= 3 else 1
        for s9 in range(ncells):
            if g >= 3:
                nq = ((q // g + s9 // 3 - 1) % g) * g + (q % g + s9 % 3 - 1) % g
                lo, hi = starts[b, nq], starts[b, nq + 1]
            else:
                lo, hi = 0, n
            for p in range(lo, hi):
                j = order[b, p]
                dx = x[b, j, 0] - xi
                dy = x[b, j, 1] - yi
                if dx > 0.5:
                    dx = dx - one
                elif dx < -0.5:
                    dx = dx + one
                if dy > 0.5:
                    dy = dy - one
                elif dy < -0.5:
                    dy = dy + one
                d = np.sqrt(dx * dx + dy * dy)
                qd = d / rmax
                if qd >= one:
                    continue  # both terms are exactly zero from rmax on
                for o in range(h0):
                    z0[o] = tanh32((recv[b, i, o] + send[b, j, o]) + b0[b, o])
                _dense(z0, w1[b], b1[b], z1)
                for o in range(h1):
                    z1[o] = tanh32(z1[o])
                _dense(z1, w2[b], b2[b], z2)
                for o in range(h2):
                    z2[o] = tanh32(z2[o])
                _dense(z2, w3[b], b3[b], out)
                alpha = tanh32(out[0]) * np.float32(1.5)
                if qd < beta:
                    f = qd / beta - one
                elif beta < qd:
                    f = alpha * (one - abs(np.float32(2.0) * qd - one - beta) / (one - beta))
                else:
                    f = np.float32(0.0)
                mag = rmax * f
                den = d + np.float32(1e-8)
                fx += dx / den * mag
                fy += dy / den * mag
                fade = one - qd
                for m in range(k):
                    acc_c[m] += tanh32(out[1 + m]) * fade
        force[b, i, 0] = fx
        force[b, i, 1] = fy
        for m in range(k):
            dcol[b, i, m] = acc_c[m]
    return force, dcol


def pair_sums_host(x, c, w0, b0, w1, b1, w2, b2, w3, b3, beta, rmax):
    """numpy-in, numpy-out entry for ``jax.pure_callback``; any leading batch axes."""
    x = np.asarray(x, np.float32)
    lead, n, k = x.shape[:-2], x.shape[-2], np.shape(c)[-1]

    def flat(a, tail):
        a = np.asarray(a, np.float32)
        return np.ascontiguousarray(
            np.broadcast_to(a, lead + a.shape[len(lead) :]).reshape(-1, *tail)
        )

    ws = [flat(w, np.shape(w)[-2:]) for w in (w0, w1, w2, w3)]
    bs = [flat(b, np.shape(b)[-1:]) for b in (b0, b1, b2, b3)]
    force, dcol = pair_sums(
        flat(x, (n, 2)),
        flat(c, (n, k)),
        ws[0],
        bs[0],
        ws[1],
        bs[1],
        ws[2],
        bs[2],
        ws[3],
        bs[3],
        np.float32(beta),
        np.float32(rmax),
    )
    return force.reshape(lead + (n, 2)), dcol.reshape(lead + (n, k))

"""cubff's own random streams for the soup (``SoupConfig.draws == "cubff"``).

cubff (``common_language.h``) draws nothing from a stateful generator: every
random number is a SplitMix64 hash of a counter, with uint64 wrap-around.
With ``seed(k) = SplitMix64(SplitMix64(run seed) ^ SplitMix64(k))``:

* a fresh soup (the start, k = 0, or reset number k) has byte i of program p
  ``SplitMix64(L·N·seed(k) + L·p + i) mod 256``;
* the shuffle of epoch e is a Fisher-Yates from the last slot down, whose j
  for slot i is ``SplitMix64(seed(e·N + i)) mod (i + 1)`` (a pure hash, so
  every j can be computed in parallel; only the swaps are in order);
* along an interaction pattern, program i (visited in that shuffle's order)
  picks partner ``seed(seed(e) ^ seed(i)) mod degree``;
* tape k of epoch e (the pair in slots 2k, 2k + 1 of the epoch's order) has,
  for byte i of its 2L, ``r = SplitMix64((N·seed(e) + k)·2L + i)``; the byte
  becomes ``r mod 256`` when ``(r >> 8) mod 2^30 < round(μ·2^30)``.

Every tape is mutated, also the pairs of programs an interaction pattern
left unpaired (they do not run), and each program goes back to its own slot.
cubff's programs are 64 bytes; with another length L stands where it has 64.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit, prange

from primordium.soup.languages import forth, run_tape
from primordium.soup.languages.splitmix import splitmix64
from primordium.soup.threads import MIN_TAPES, in_blocks

# cubff's mutation coin: 30 bits of the hash against round(μ·2^30).
COIN_BITS = 30
# cubff resets the soup with a launch of num_programs / 32 blocks of 32
# threads (rounded down), so programs past the last whole block keep their bytes.
RESET_BLOCK = 32


def mutation_threshold(rate: float) -> int:
    """cubff's ``std::round(mutation_prob * 2^30)`` (halves away from zero, unlike Python's round)."""
    return int(math.floor(rate * (1 << COIN_BITS) + 0.5))


def base_seed(seed: int) -> np.uint64:
    """SplitMix64 of the run's seed, the half of ``seed(k)`` every stream shares."""
    return np.uint64(splitmix64(np.uint64(seed)))


@njit(cache=True, nogil=True)
def stream(base, k):
    """cubff's ``seed(k)`` for a run whose seed hashes to ``base``."""
    return splitmix64(np.uint64(base) ^ splitmix64(np.uint64(k)))


@njit(cache=True, parallel=True, nogil=True)
def fresh_programs(programs, length, k_seed):
    """cubff's ``InitPrograms``: program p, byte i = SplitMix64(L·N·k_seed + L·p + i) mod 256."""
    out = np.empty((programs, length), dtype=np.uint8)
    start = np.uint64(length) * np.uint64(programs) * np.uint64(k_seed)
    for p in prange(programs):
        row = start + np.uint64(length) * np.uint64(p)
        for i in range(length):
            out[p, i] = np.uint8(splitmix64(row + np.uint64(i)) & np.uint64(255))
    return out


@njit(cache=True, nogil=True)
def shuffle_draw(base, epoch, n, i):
    """The j that slot i of epoch ``epoch``'s Fisher-Yates swaps with (0 <= j <= i)."""
    h = splitmix64(stream(base, np.uint64(epoch) * np.uint64(n) + np.uint64(i)))
    return np.int64(h % np.uint64(i + 1))


@njit(cache=True, nogil=True)
def shuffled(base, epoch, n):
    """cubff's ``do_shuffle`` of 0..n-1 for epoch ``epoch``."""
    order = np.arange(n).astype(np.int64)
    for i in range(n - 1, -1, -1):
        j = shuffle_draw(base, epoch, n, i)
        t = order[i]
        order[i] = order[j]
        order[j] = t
    return order


@njit(cache=True, nogil=True)
def _finish_order(used, order, count):
    # The pairs first, then the unpaired programs in slot order, two by two.
    k = 2 * count
    for p in range(used.shape[0]):
        if not used[p]:
            order[k] = p
            k += 1


@njit(cache=True, nogil=True)
def pattern_order(offsets, targets, base, epoch):
    """cubff's pairing along an interaction pattern: (order of the N slots, number of pairs that run)."""
    n = offsets.shape[0] - 1
    visit = shuffled(base, epoch, n)
    e_seed = stream(base, epoch)
    used = np.zeros(n, dtype=np.bool_)
    order = np.empty(n, dtype=np.int64)
    count = 0
    for k in range(n):
        i = visit[k]
        degree = offsets[i + 1] - offsets[i]
        if degree == 0:
            continue
        pick = stream(base, e_seed ^ stream(base, np.uint64(i))) % np.uint64(degree)
        j = targets[offsets[i] + np.int64(pick)]
        if used[i] or used[j]:
            continue
        used[i] = True
        used[j] = True
        order[2 * count] = i
        order[2 * count + 1] = j
        count += 1
    _finish_order(used, order, count)
    return order, count


@njit(cache=True, nogil=True)
def window_cell(i, width, height, radius, r):
    """The r-th cell (row-major, the centre skipped) within ``radius`` of cell i; -1 if it has none.

    Row-major order is the order of cubff's make_2d_pattern.py, so a grid is
    that script's interaction pattern (at its radius, 2) with no file.
    """
    x = i % width
    y = i // width
    x0 = max(x - radius, 0)
    x1 = min(x + radius, width - 1)
    y0 = max(y - radius, 0)
    w = x1 - x0 + 1
    c = r if r < (y - y0) * w + (x - x0) else r + 1
    return (y0 + c // w) * width + (x0 + c % w)


@njit(cache=True, nogil=True)
def window_size(i, width, height, radius):
    x = i % width
    y = i // width
    w = min(x + radius, width - 1) - max(x - radius, 0) + 1
    h = min(y + radius, height - 1) - max(y - radius, 0) + 1
    return w * h - 1


@njit(cache=True, nogil=True)
def grid_order(width, height, radius, base, epoch):
    """The grid's pairing with cubff's draws: ``pattern_order`` over the grid's neighbourhoods."""
    n = width * height
    visit = shuffled(base, epoch, n)
    e_seed = stream(base, epoch)
    used = np.zeros(n, dtype=np.bool_)
    order = np.empty(n, dtype=np.int64)
    count = 0
    for k in range(n):
        i = visit[k]
        degree = window_size(i, width, height, radius)
        if degree <= 0:
            continue
        pick = stream(base, e_seed ^ stream(base, np.uint64(i))) % np.uint64(degree)
        j = window_cell(i, width, height, radius, np.int64(pick))
        if used[i] or used[j]:
            continue
        used[i] = True
        used[j] = True
        order[2 * count] = i
        order[2 * count + 1] = j
        count += 1
    _finish_order(used, order, count)
    return order, count


@njit(cache=True, nogil=True, inline="always")
def mutate_tape(tape, e_seed, programs, k, threshold):
    """cubff's per-byte coins for tape k of an epoch whose stream is ``e_seed``."""
    n = tape.shape[0]
    start = (np.uint64(programs) * np.uint64(e_seed) + np.uint64(k)) * np.uint64(n)
    mask = np.uint64((1 << COIN_BITS) - 1)
    coin = np.uint64(threshold)
    for i in range(n):
        r = splitmix64(start + np.uint64(i))
        old = tape[i]
        # A select, not a branch: the loop vectorises (measured 5x faster per byte).
        tape[i] = np.uint8(r & np.uint64(255)) if (r >> np.uint64(8)) & mask < coin else old


@njit(cache=True, nogil=True)
def _tapes(lang_id, tapes, count, e_seed, programs, threshold, max_steps, lo, hi, ops):
    stack = np.empty(forth.STACK, dtype=np.uint8)
    for k in range(lo, hi):
        if threshold > 0:
            mutate_tape(tapes[k], e_seed, programs, k, threshold)
        if k < count:
            ops[k] = run_tape(lang_id, tapes[k], max_steps, stack)


@functools.cache
def _epoch_kernel(lang_id: int):
    """Mutate and run tapes lo..hi-1, the language a compile-time constant (see languages.for_language)."""

    @njit(cache=True, nogil=True)
    def tapes_from_to(tapes, count, e_seed, programs, threshold, max_steps, lo, hi, ops):
        _tapes(lang_id, tapes, count, e_seed, programs, threshold, max_steps, lo, hi, ops)

    return tapes_from_to


def run_order(
    lang_id: int,
    soup: np.ndarray,
    order: np.ndarray,
    count: int,
    e_seed: np.uint64,
    threshold: int,
    max_steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One epoch along ``order``: gather each pair, mutate, run the first ``count``, write back.

    Returns the new soup (each program in its slot) and the ops of each tape.
    numpy gathers and scatters the rows (its C loops copy a row at a time,
    several times faster than numba's byte loops over random rows, measured).
    """
    n, length = soup.shape
    tapes = np.take(soup, order, axis=0).reshape(n // 2, 2 * length)
    kernel = _epoch_kernel(lang_id)
    args = (tapes, np.int64(count), np.uint64(e_seed), np.int64(n), np.int64(threshold), max_steps)
    ops = np.zeros(n // 2, dtype=np.int64)

    in_blocks(n // 2, lambda lo, hi: kernel(*args, np.int64(lo), np.int64(hi), ops), MIN_TAPES)
    out = np.empty_like(soup)
    out[order] = tapes.reshape(n, length)
    return out, ops

"""SplitMix64, the hash cubff draws all its randomness from (numba and plain Python)."""

from __future__ import annotations

import numpy as np
from numba import njit

_MASK = (1 << 64) - 1


@njit(cache=True, nogil=True)
def splitmix64(x):
    """One SplitMix64 output for state ``x`` (uint64 in, uint64 out, wrapping)."""
    z = np.uint64(x) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def splitmix64_py(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)

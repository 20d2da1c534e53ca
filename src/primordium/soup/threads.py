"""Blocks of a batch on one thread per core, for kernels that release the GIL.

The soup's kernels are serial numba functions compiled with ``nogil``; Python
threads run them side by side. numba's own ``prange`` would do the same work,
but a ``prange`` kernel takes numba about 8 s to compile for each language
against about 1 s for a serial one (measured on the 2-core machine), and a
soup compiles one kernel per language it uses.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

# Blocks per thread: a free thread takes the next block, so tapes of very
# different cost (most halt at once, a few run to the step limit) even out.
BLOCKS_PER_THREAD = 16

# Below this many tapes threads cost more than they save: on a busy machine
# one late thread can hold up the whole batch for a scheduler tick.
MIN_TAPES = 4096


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="primordium-soup")


# A forked child has none of the parent's threads: it makes its own pool.
os.register_at_fork(after_in_child=_pool.cache_clear)


def in_blocks(count: int, block: Callable[[int, int], object], serial_below: int = 2) -> None:
    """Call ``block(lo, hi)`` on consecutive ranges covering [0, count), in parallel.

    As many threads as numba's (``NUMBA_NUM_THREADS``, or
    ``numba.set_num_threads``); with one thread, or fewer than
    ``serial_below`` items (``MIN_TAPES`` for a batch of tapes), one call on
    the whole range. An exception in a block is raised here once every block
    has finished.
    """
    threads = numba.get_num_threads()
    if threads <= 1 or count < max(serial_below, 2):
        block(0, count)
        return
    blocks = min(count, BLOCKS_PER_THREAD * threads)
    bounds = [(k * count // blocks, (k + 1) * count // blocks) for k in range(blocks)]
    futures = [_pool(threads).submit(block, lo, hi) for lo, hi in bounds]
    for f in futures:
        f.result()

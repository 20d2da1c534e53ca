"""in_blocks: every index once, on several threads, errors raised to the caller."""

from __future__ import annotations

import threading

import numba
import numpy as np
import pytest

from primordium.soup.threads import in_blocks


@pytest.mark.parametrize("count", [0, 1, 2, 7, 100, 5000])
def test_blocks_cover_the_range_once(count):
    hits = np.zeros(count, dtype=np.int64)
    spans = []

    def block(lo, hi):
        spans.append((lo, hi))
        hits[lo:hi] += 1

    in_blocks(count, block)
    assert (hits == 1).all()
    assert sorted(spans)[0][0] == 0 and sorted(spans)[-1][1] == count


def test_blocks_run_on_pool_threads_unless_numba_has_one():
    names = set()
    in_blocks(64, lambda lo, hi: names.add(threading.current_thread().name))
    if numba.get_num_threads() > 1:
        assert all(n.startswith("primordium-soup") for n in names)
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        names.clear()
        in_blocks(64, lambda lo, hi: names.add(threading.current_thread().name))
        assert names == {threading.current_thread().name}
    finally:
        numba.set_num_threads(before)


def test_an_error_in_a_block_reaches_the_caller():
    def block(lo, hi):
        if lo <= 50 < hi:
            raise ValueError("block 50")

    with pytest.raises(ValueError, match="block 50"):
        in_blocks(100, block)


def test_below_serial_below_one_call_on_this_thread():
    calls = []
    in_blocks(99, lambda lo, hi: calls.append((lo, hi, threading.current_thread().name)), 100)
    assert calls == [(0, 99, threading.current_thread().name)]
    calls.clear()
    in_blocks(100, lambda lo, hi: calls.append((lo, hi)), 100)
    assert len(calls) == (
        1 if numba.get_num_threads() == 1 else min(100, 16 * numba.get_num_threads())
    )

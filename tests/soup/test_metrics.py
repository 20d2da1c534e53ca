"""Metrics against direct computations."""

from __future__ import annotations

import math
from collections import Counter

import brotli
import numpy as np

from primordium.soup.metrics import (
    TransitionDetector,
    brotli_bits_per_byte,
    census,
    detect_transition,
    entropy,
    shannon_h0,
)


def direct_h0(data: bytes) -> float:
    counts = Counter(data)
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def test_entropy_against_direct_computation():
    rng = np.random.default_rng(0)
    soups = [
        rng.integers(0, 256, (512, 64), dtype=np.uint8),
        rng.integers(0, 4, (512, 64), dtype=np.uint8),
        np.tile(rng.integers(0, 256, (1, 64), dtype=np.uint8), (512, 1)),
        np.zeros((8, 64), np.uint8),
    ]
    for soup in soups:
        data = soup.tobytes()
        h0 = direct_h0(data)
        bpb = 8 * len(brotli.compress(data, quality=2, lgwin=24)) / len(data)
        got = entropy(soup)
        assert math.isclose(got["h0"], h0, abs_tol=1e-9) and math.isclose(
            shannon_h0(soup), h0, abs_tol=1e-9
        )
        assert math.isclose(got["brotli_bpb"], bpb) and math.isclose(
            brotli_bits_per_byte(soup), bpb
        )
        assert math.isclose(got["high_order_entropy"], h0 - bpb)
    # Random bytes: nothing to find beyond H0. A repeated program: nearly all of H0 is high-order.
    assert abs(entropy(soups[0])["high_order_entropy"]) < 0.05
    assert entropy(soups[2])["high_order_entropy"] > 5.0


def test_census_counts_programs_and_substrings():
    rng = np.random.default_rng(1)
    soup = rng.integers(0, 256, (300, 64), dtype=np.uint8)
    star = np.frombuffer(b"[{.>]" + b"a" * 54 + b"]>.{[", np.uint8)
    soup[:50] = star
    soup[50:70] = soup[299]  # 21 copies of one random program
    soup[100:130, 3:11] = np.frombuffer(b"<<<<>>>>", np.uint8)
    c = census(soup, "bff_noheads", top=3, k=8)
    assert c["programs"][0]["count"] == 50 and c["programs"][0]["hex"] == star.tobytes().hex()
    assert c["programs"][0]["text"].startswith("[{.>]") and c["programs"][1]["count"] == 21
    assert c["distinct_programs"] == 300 - 49 - 20
    subs = {s["hex"]: s["count"] for s in c["substrings"]}
    assert subs[(b"a" * 8).hex()] == 50 * (54 - 8 + 1)
    # "<<<<>>>>" appears in the 30 patched programs (and nowhere else by chance).
    direct = sum(bytes(row).count(b"<<<<>>>>") for row in soup)
    assert direct == 30
    # The replicator has 47 'aaaaaaaa' windows and 10 others (50 copies each); next come the 30.
    ranked = census(soup, "bff_noheads", top=12, k=8)["substrings"]
    assert [s["count"] for s in ranked] == [2350] + [50] * 10 + [30]
    assert ranked[-1]["hex"] == b"<<<<>>>>".hex() and ranked[-1]["text"] == "<<<<>>>>"


def test_transition_detector():
    det = TransitionDetector(entropy_threshold=1.0, ops_factor=2.0, baseline_rows=3)
    rows = [(64 * i, 0.01, 5.0) for i in range(1, 6)] + [
        (384, 1.5, 6.0),
        (448, 2.0, 40.0),
        (512, 3.0, 80.0),
    ]
    hits = [det.update(*r) for r in rows]
    assert det.transition_epoch == 448 and hits.count(True) == 1
    # Offline, over logged rows, and resumable from its state.
    logged = [{"epoch": e, "high_order_entropy": h, "ops_per_tape": o} for e, h, o in rows]
    assert detect_transition(logged, baseline_rows=3) == 448
    again = TransitionDetector.from_state(det.state())
    assert again.transition_epoch == 448 and again.baseline == det.baseline
    assert detect_transition(logged[:6], baseline_rows=3) is None
    # Entropy up but ops flat (a soup compressing for another reason): no transition.
    flat = [
        {"epoch": 64 * i, "high_order_entropy": 0.1 * i, "ops_per_tape": 5.0} for i in range(1, 30)
    ]
    assert detect_transition(flat) is None
    # Replicators win before the first row (as in Forth with copy ops): the first row is the transition.
    fast = [
        {"epoch": 64, "high_order_entropy": 5.6, "ops_per_tape": 3000.0},
        {"epoch": 128, "high_order_entropy": 5.5, "ops_per_tape": 8000.0},
    ]
    assert detect_transition(fast) == 64

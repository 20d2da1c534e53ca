"""Helpers for the soup tests: tapes from text."""

from __future__ import annotations

import numpy as np
import pytest

L = 64


def tape_of(text: bytes | str, fill: int = ord("a"), length: int = 2 * L) -> np.ndarray:
    """A tape holding ``text`` then ``fill`` bytes (default 'a', a BFF no-op)."""
    if isinstance(text, str):
        text = text.encode("latin-1")
    assert len(text) <= length
    return np.frombuffer(text + bytes([fill]) * (length - len(text)), dtype=np.uint8).copy()


# A palindromic bff_noheads self-replicator: h1 walks down from the tape's end
# while h0 walks up, so the program is copied reversed into its partner, and a
# palindrome reversed is itself. The filler is a non-zero no-op so the copy
# loop never sees a zero.
REPLICATOR = b"[{.>]" + b"a" * (L - 10) + b"]>.{["


@pytest.fixture
def replicator() -> np.ndarray:
    return np.frombuffer(REPLICATOR, dtype=np.uint8).copy()

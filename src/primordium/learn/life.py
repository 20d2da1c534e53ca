"""Life-like automata in numpy for LifeGPT's data: any rule on a torus, many grids at once.

The update is the same as the ASAL substrate's ``life_step`` (JAX; a test
holds them equal): a cell's next value is bit ``n + 9 * alive`` of the 18-bit
rule, ``n`` its live Moore neighbours with wrap-around. numpy keeps a LifeGPT
process free of JAX, and a batch of small grids takes microseconds.
"""

from __future__ import annotations

import numpy as np

from primordium.asal.life_rules import parse_rule, rule_string
from primordium.errors import ConfigError

# Token ids. A pair of states is START, the first grid's cells row by row, SEP,
# the next grid's cells: nothing in the stream says how wide a row is.
DEAD, ALIVE, START, SEP = 0, 1, 2, 3
VOCAB = 4


def rule_number(rule: str | int) -> int:
    """A rule string ('B3/S23') or number -> the 18-bit number; bad input names the ``rule`` field."""
    if isinstance(rule, int):
        if not 0 <= rule < 1 << 18:
            raise ConfigError(
                f"rule number must be in 0..{(1 << 18) - 1}, got {rule}", field="rule"
            )
        return rule
    try:
        return parse_rule(rule)
    except ConfigError as e:
        raise ConfigError(f"rule: {e.message}", field="rule") from None


def step(grids: np.ndarray, rule: int) -> np.ndarray:
    """One synchronous update of uint8 grids [..., H, W] (cells 0/1) on the torus."""
    a = grids.astype(np.int32)
    n = np.zeros_like(a)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if (dy, dx) != (0, 0):
                n += np.roll(a, (dy, dx), axis=(-2, -1))
    return ((rule >> (n + 9 * a)) & 1).astype(np.uint8)


def random_grids(
    rng: np.random.Generator, count: int, size: int, densities: np.ndarray
) -> np.ndarray:
    """``count`` square grids, each cell alive with its grid's density."""
    return (rng.random((count, size, size)) < densities[:, None, None]).astype(np.uint8)


def encode_pairs(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Grids [B, H, W] before and after -> int64 tokens [B, 2HW + 2]."""
    b = before.shape[0]
    start = np.full((b, 1), START, np.int64)
    sep = np.full((b, 1), SEP, np.int64)
    return np.concatenate([start, before.reshape(b, -1), sep, after.reshape(b, -1)], axis=1).astype(
        np.int64
    )


def prompt(before: np.ndarray) -> np.ndarray:
    """The question part alone: START, the cells, SEP ([B, HW + 2]); the answer follows."""
    b = before.shape[0]
    start = np.full((b, 1), START, np.int64)
    sep = np.full((b, 1), SEP, np.int64)
    return np.concatenate([start, before.reshape(b, -1).astype(np.int64), sep], axis=1)


__all__ = [
    "ALIVE",
    "DEAD",
    "SEP",
    "START",
    "VOCAB",
    "encode_pairs",
    "prompt",
    "random_grids",
    "rule_number",
    "rule_string",
    "step",
]

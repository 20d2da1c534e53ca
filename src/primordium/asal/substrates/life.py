"""Life-like cellular automata: any birth/survival rule on a torus.

A rule is 18 bits: birth on n live neighbours (bits 0-8) and survival on n
(bits 9-17), so there are 2^18 rules. The searched parameters are 18 real
numbers whose signs are the bits, which lets continuous optimisers move
through rule space.
"""

from __future__ import annotations

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np

from primordium.errors import ConfigError
from primordium.asal.substrates.base import Substrate, upscale_grid

N_RULES = 1 << 18
_RULE_RE = re.compile(r"^\s*B([0-8]*)\s*/\s*S([0-8]*)\s*$", re.IGNORECASE)
_SB_RE = re.compile(r"^\s*([0-8]*)\s*/\s*([0-8]*)\s*$")


def parse_rule(text: str) -> int:
    """'B3/S23' (or the old 'S/B' form '23/3') -> 18-bit rule number."""
    m = _RULE_RE.match(text)
    if m:
        births, survives = m.group(1), m.group(2)
    else:
        m = _SB_RE.match(text)
        if not m:
            raise ConfigError(f"malformed Life-like rule {text!r} (expected e.g. 'B3/S23')")
        survives, births = m.group(1), m.group(2)
    for digits in (births, survives):
        if len(set(digits)) != len(digits):
            raise ConfigError(f"malformed Life-like rule {text!r} (a digit repeats)")
    bits = 0
    for d in births:
        bits |= 1 << int(d)
    for d in survives:
        bits |= 1 << (9 + int(d))
    return bits


def rule_string(rule: int) -> str:
    births = "".join(str(n) for n in range(9) if rule >> n & 1)
    survives = "".join(str(n) for n in range(9) if rule >> (9 + n) & 1)
    return f"B{births}/S{survives}"


def rule_bits(rules: np.ndarray | int) -> np.ndarray:
    """Rule numbers -> bool[..., 18]."""
    r = np.asarray(rules, dtype=np.int64)
    return (r[..., None] >> np.arange(18)) & 1 == 1


def params_from_rule(rule: int | str) -> dict:
    if isinstance(rule, str):
        rule = parse_rule(rule)
    return {"rule": jnp.asarray(np.where(rule_bits(rule), 1.0, -1.0), jnp.float32)}


def rule_from_params(params: dict) -> int:
    bits = np.asarray(params["rule"]) > 0
    return int(np.sum(bits.astype(np.int64) << np.arange(18)))


@dataclasses.dataclass(frozen=True)
class Life(Substrate):
    """Life-like CA on a ``grid`` x ``grid`` torus from a random soup."""

    name = "life"
    grid: int = 64
    density: float = 0.5

    def default_params(self, key):
        return {"rule": jax.random.normal(key, (18,), jnp.float32)}

    def init_state(self, key, params):
        return jax.random.bernoulli(key, self.density, (self.grid, self.grid))

    def step(self, key, state, params):
        # The rule as one integer, read with shifts: elementwise work only, which
        # stays cheap when vmapped over rules (a table gather would not).
        mask = jnp.sum((params["rule"] > 0).astype(jnp.int32) << jnp.arange(18, dtype=jnp.int32))
        a = state.astype(jnp.int32)
        n = sum(jnp.roll(a, (dy, dx), (0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
        return ((mask >> (n + 9 * a)) & 1) == 1

    def render(self, state, params, size):
        img = jnp.repeat(state.astype(jnp.float32)[..., None], 3, axis=-1)
        return upscale_grid(img, size)

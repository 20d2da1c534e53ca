"""Life-like rule numbers and their B/S strings, without JAX.

A rule is 18 bits: birth on n live neighbours (bits 0-8) and survival on n
(bits 9-17), so there are 2^18 rules; Conway's B3/S23 is 6152. The JAX
substrates (asal/substrates/life.py) and LifeGPT's numpy data (learn/life.py)
both read rules from here, so a LifeGPT command never has to load JAX.
"""

from __future__ import annotations

import re

from primordium.errors import ConfigError

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

"""Programs as text, read the way cubff reads ``--initial_program``.

BFF-family languages: ``0`` is the zero byte, the ten op characters ``[]+-.,<>{}``
are their bytes, and every other byte b has a character of its own: U+0100 + b,
except bytes 196-204 (``A``-``I``) and 241-243 (``J``-``L``). The Forth and
SUBLEQ families: hex, two digits a byte.
"""

from __future__ import annotations

import numpy as np

from primordium.errors import ConfigError

_BFF_OPS = "[]+-.,<>{}"
# BFF languages whose op bytes are the ASCII characters (cubff's default op table).
_BFF_ASCII = {"bff", "bff_noheads", "bff8", "bff8_noheads"}


def _byte_chars() -> dict[str, int]:
    chars = {chr(0x100 + b): b for b in range(256)}
    for letter, b in zip("ABCDEFGHI", range(196, 205), strict=False):
        del chars[chr(0x100 + b)]
        chars[letter] = b
    for letter, b in zip("JKL", range(241, 244), strict=False):
        del chars[chr(0x100 + b)]
        chars[letter] = b
    return chars


_CHARS = _byte_chars()


def parse_program(text: str, lang: str, what: str = "initial_program") -> np.ndarray:
    """The bytes of ``text`` in ``lang``'s program notation; a ConfigError names the bad character."""
    if lang.startswith("bff"):
        if lang not in _BFF_ASCII:
            raise ConfigError(
                f"{what}: programs as text are not read for {lang} (its op bytes differ)"
            )
        out = []
        for i, ch in enumerate(text):
            if ch == "0":
                out.append(0)
            elif ch in _BFF_OPS:
                out.append(ord(ch))
            elif ch in _CHARS:
                out.append(_CHARS[ch])
            else:
                raise ConfigError(
                    f"{what}: character {i + 1} ({ch!r}) is not a BFF op, 0 or a byte character"
                )
        return np.array(out, dtype=np.uint8)
    digits = "0123456789abcdefABCDEF"
    for i, ch in enumerate(text):
        if ch not in digits:
            raise ConfigError(f"{what}: character {i + 1} ({ch!r}) is not a hex digit")
    if len(text) % 2:
        raise ConfigError(f"{what}: {len(text)} hex digits; a byte is two")
    return np.frombuffer(bytes.fromhex(text), dtype=np.uint8).copy()

"""Redcode tokens and source lines, cut exactly where pMARS 0.9.2 cuts them.

pMARS works on C strings of bytes: it reads a file with ``fgets`` into a
256-byte buffer, classifies characters with the C locale's ``<ctype.h>`` and
splits a line into one-character symbols, numbers and identifiers. Everything
here works on the *Latin-1 view of the source's bytes* (one character per byte)
so that lengths, and therefore pMARS's 255-byte limits, agree byte for byte.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Token kinds (the classes pMARS's tokenizer returns).
NUMB, CHAR, EXPR, ADDR, APND, COMM, FSEP, MODF, MISC = range(9)

# C-locale isspace: space, \t, \n, \v, \f, \r.
SPACE = frozenset(" \t\n\v\f\r")
LINE_MAX = 255  # a C buffer of 256 bytes holds 255 characters and the NUL

_SINGLE = {c: EXPR for c in "()/+-%!="}
_SINGLE.update({c: ADDR for c in "#$@<>*{}"})
_SINGLE.update({"&": APND, ";": COMM, ",": FSEP, ".": MODF})

_TOKEN = re.compile(r"[ \t\n\v\f\r]*([0-9]+|[A-Za-z_][A-Za-z0-9_]*|&&|\|\||[^ \t\n\v\f\r])")
_KIND = dict(_SINGLE)
_KIND.update({c: NUMB for c in "0123456789"})
_KIND.update({c: CHAR for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"})

Token = tuple[int, str, int, int]  # kind, text, start, end (end: index after the token)


@lru_cache(maxsize=8192)
def tokenize(line: str) -> tuple[Token, ...]:
    """All tokens of ``line``; pMARS rescans the same strings, hence the cache."""
    out = []
    kinds = _KIND
    for m in _TOKEN.finditer(line):
        s, e = m.span(1)
        text = line[s:e]
        if e - s == 2 and text[0] in "&|":
            out.append((EXPR, text, s, e))  # && and ||
        else:
            out.append((kinds.get(text[0], MISC), text, s, e))
    return tuple(out)


def byte_view(source: str) -> str:
    """The source as pMARS sees it: its UTF-8 bytes, one character per byte."""
    return source.encode("utf-8", "surrogatepass").decode("latin-1")


def text_view(raw: str) -> str:
    """Back from the byte view to readable text (names, authors)."""
    return raw.encode("latin-1").decode("utf-8", "replace")


class ContinuationAtEnd(Exception):
    """A line continued with a backslash at the very end of the file.

    pMARS loops forever on such a file; the assembler reports it instead.
    """

    def __init__(self, lineno: int):
        super().__init__(lineno)
        self.lineno = lineno


class LineReader:
    """Split the byte view into pMARS's logical lines, with physical line numbers.

    Like ``fgets`` into a 256-byte buffer: a physical line longer than 255
    bytes is read in several pieces, each its own line; a line ends at the
    first newline, carriage return or NUL (the rest of that piece is lost); a
    trailing backslash joins the next piece to this line.

    ``scratch`` mirrors the bytes left in that buffer, because pMARS later
    reuses it and, in one case (see redcode_expand.Expander.instruction),
    reads what an earlier line left there.
    """

    def __init__(self, raw: str):
        self.raw = raw
        self.scratch = bytearray(LINE_MAX + 1)

    def __iter__(self):
        raw, scratch = self.raw, self.scratch
        pos, n, phys = 0, len(raw), 1
        while pos < n:
            start_line = phys
            scratch[0] = 0
            i = 0  # length of the line so far
            while True:
                if pos >= n:
                    # fgets hit end of file while the line was being continued.
                    raise ContinuationAtEnd(start_line)
                # Never below 1: a continued buffer lost its backslash.
                room = LINE_MAX - i
                nl = raw.find("\n", pos, pos + room)
                piece_end = nl + 1 if nl >= 0 else min(n, pos + room)
                chunk = raw[pos:piece_end]
                pos = piece_end
                if chunk.endswith("\n"):
                    phys += 1
                data = chunk.encode("latin-1")
                scratch[i : i + len(data)] = data
                scratch[i + len(data)] = 0
                for k, ch in enumerate(chunk):
                    if ch in "\n\r\x00":
                        data = data[:k]
                        break
                i += len(data)
                scratch[i] = 0
                if i and scratch[i - 1] == 0x5C:  # a backslash continues the line
                    i -= 1
                    scratch[i] = 0
                    continue
                break
            yield start_line, scratch[:i].decode("latin-1")
        scratch[0] = 0  # pMARS clears the buffer once more before seeing EOF

    def cut_comment(self, line: str, at: int) -> str:
        """Drop the text from the first ';' at or after ``at``, as pMARS does in place."""
        cut = line.find(";", at)
        if cut < 0:
            return line
        self.scratch[cut] = 0
        return line[:cut]

"""The BFF family: Brainfuck with two heads on a self-modifying tape.

The tape is a pair of programs side by side. cubff defines seven members,
all here, each one ``Variant`` (its byte-to-op table and three switches):

* ``bff_noheads``: ip and both heads start at 0 (the paper's default).
* ``bff``: the heads start at ``tape[0]`` and ``tape[1]`` (mod the tape), ip at 2.
* ``bff8`` / ``bff8_noheads``: as ``bff`` / ``bff_noheads``, but ``[`` and ``]``
  do not look for their partner: ``[`` on a zero jumps 8 bytes forward and
  ``]`` on a non-zero 8 bytes back (then the ip steps on as usual).
* ``bff_noheads_4bit``: only the low 4 bits of a byte count (6 ``[``, 7 ``]``,
  8 ``+``, 9 ``-``, A ``.``, B ``,``, C ``<``, D ``>``, E ``{``, F ``}``); a loop
  test sees "zero" when the head's byte has low nibble 0.
* ``bff_perm``: the ops are bytes 1-10 (``<>{}+-.,[]``), with heads.
* ``bff_selfmove``: seven ops, bytes 0-6 = ``> < + - , [ ]``, with heads;
  ``,`` copies ``tape[h1]`` to ``tape[h0]`` and then moves h1 right; there is
  no ``.``, ``{`` or ``}``, and byte 0 is an op, not a zero.

Unmatched ``[`` or ``]`` ends the run. Heads wrap around the tape. The op
count is what cubff's ``Evaluate`` returns: steps that executed an op (the
step that ends the run included), not the no-op bytes passed over.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

# Op kinds; 0 is "not an instruction" so the hot loop can skip it with one test,
# and the loop ops are the largest so "is a bracket" is one comparison.
NOOP, H0_DEC, H0_INC, H1_DEC, H1_INC, DEC, INC, COPY01, COPY10, COPY10_MOVE, LOOP, END = range(12)
# How `render` shows each kind (COPY10_MOVE is bff_selfmove's ',').
KIND_CHARS = " <>{}-+.,,[]"


class Variant(NamedTuple):
    kind: np.ndarray  # uint8[256]: byte -> op kind
    null: np.ndarray  # bool[256]: bytes a loop test reads as zero
    heads: bool  # heads from tape[0], tape[1]; ip from 2
    jump8: bool  # '[' / ']' jump 8 bytes instead of to their partner


def _table(ops: dict[int, int]) -> np.ndarray:
    table = np.zeros(256, dtype=np.uint8)
    for byte, kind in ops.items():
        table[byte] = kind
    return table


_ASCII_OPS = {ord(ch): kind for kind, ch in enumerate("<>{}-+.,", start=H0_DEC)}
_ASCII_OPS.update({ord("["): LOOP, ord("]"): END})
ASCII = _table(_ASCII_OPS)
_NIBBLE = {
    6: LOOP,
    7: END,
    8: INC,
    9: DEC,
    10: COPY01,
    11: COPY10,
    12: H0_DEC,
    13: H0_INC,
    14: H1_DEC,
    15: H1_INC,
}
FOUR_BIT = _table({b: _NIBBLE[b % 16] for b in range(256) if b % 16 in _NIBBLE})
PERM = _table(
    {
        1: H0_DEC,
        2: H0_INC,
        3: H1_DEC,
        4: H1_INC,
        5: INC,
        6: DEC,
        7: COPY01,
        8: COPY10,
        9: LOOP,
        10: END,
    }
)
SELFMOVE = _table({0: H0_INC, 1: H0_DEC, 2: INC, 3: DEC, 4: COPY10_MOVE, 5: LOOP, 6: END})

ZERO = np.zeros(256, dtype=np.bool_)
ZERO[0] = True
LOW_NIBBLE_ZERO = np.array([b % 16 == 0 for b in range(256)], dtype=np.bool_)

BFF_NOHEADS = Variant(ASCII, ZERO, False, False)
BFF = Variant(ASCII, ZERO, True, False)
BFF8 = Variant(ASCII, ZERO, True, True)
BFF8_NOHEADS = Variant(ASCII, ZERO, False, True)
BFF_NOHEADS_4BIT = Variant(FOUR_BIT, LOW_NIBBLE_ZERO, False, False)
BFF_PERM = Variant(PERM, ZERO, True, False)
BFF_SELFMOVE = Variant(SELFMOVE, ZERO, True, False)


@njit(cache=True, nogil=True, inline="always")
def run(tape, max_steps, v):
    """Run ``tape`` (uint8[2L]) in place with variant ``v``; return the ops executed.

    A loop's ']' usually jumps back to the same '[' many times: the last jump
    each way is cached, and forgotten whenever a write makes or unmakes a
    bracket, so the result is exactly that of scanning every time.
    """
    kind = v.kind
    null = v.null
    n = tape.shape[0]
    if v.heads:
        h0 = np.int64(tape[0]) % n
        h1 = np.int64(tape[1]) % n
        ip = 2
    else:
        h0 = 0
        h1 = 0
        ip = 0
    ops = 0
    back_from = -1
    back_to = -1
    fwd_from = -1
    fwd_to = -1
    for _ in range(max_steps):
        if ip >= n:
            break
        k = kind[tape[ip]]
        if k != NOOP:
            ops += 1
            if k == H0_DEC:
                h0 = h0 - 1 if h0 > 0 else n - 1
            elif k == H0_INC:
                h0 = h0 + 1 if h0 < n - 1 else 0
            elif k == H1_DEC:
                h1 = h1 - 1 if h1 > 0 else n - 1
            elif k == H1_INC:
                h1 = h1 + 1 if h1 < n - 1 else 0
            elif k < LOOP:
                if k == DEC:
                    dst = h0
                    new = np.uint8(tape[h0] - np.uint8(1))
                elif k == INC:
                    dst = h0
                    new = np.uint8(tape[h0] + np.uint8(1))
                elif k == COPY01:
                    dst = h1
                    new = tape[h0]
                else:
                    dst = h0
                    new = tape[h1]
                    if k == COPY10_MOVE:
                        h1 = h1 + 1 if h1 < n - 1 else 0
                if kind[tape[dst]] >= LOOP or kind[new] >= LOOP:
                    back_from = -1
                    fwd_from = -1
                tape[dst] = new
            elif k == LOOP:
                if null[tape[h0]]:
                    if v.jump8:
                        ip += 8
                    elif ip == fwd_from:
                        ip = fwd_to
                    else:
                        depth = 1
                        j = ip + 1
                        while j < n:
                            kj = kind[tape[j]]
                            if kj == LOOP:
                                depth += 1
                            elif kj == END:
                                depth -= 1
                                if depth == 0:
                                    break
                            j += 1
                        if j >= n:
                            break  # unmatched '[': the run ends
                        fwd_from = ip
                        fwd_to = j
                        ip = j
            else:  # END
                if not null[tape[h0]]:
                    if v.jump8:
                        ip -= 8
                        if ip < 0:
                            break
                    elif ip == back_from:
                        ip = back_to
                    else:
                        depth = 1
                        j = ip - 1
                        while j >= 0:
                            kj = kind[tape[j]]
                            if kj == END:
                                depth += 1
                            elif kj == LOOP:
                                depth -= 1
                                if depth == 0:
                                    break
                            j -= 1
                        if j < 0:
                            break  # unmatched ']': the run ends
                        back_from = ip
                        back_to = j
                        ip = j
        ip += 1
    return ops


class Tracer:
    """A plain-Python BFF machine, one step at a time (for ``soup trace`` and as a test oracle).

    It scans for brackets every time (no cache), so it checks the kernel's cache too.
    """

    def __init__(self, tape: np.ndarray, variant: Variant):
        self.tape = np.array(tape, dtype=np.uint8)
        self.v = variant
        n = len(self.tape)
        self.n = n
        if variant.heads:
            self.h0, self.h1, self.ip = int(self.tape[0]) % n, int(self.tape[1]) % n, 2
        else:
            self.h0 = self.h1 = self.ip = 0
        self.ops = 0
        self.steps = 0
        self.halted = self.ip >= n

    def state(self) -> dict:
        return {"step": self.steps, "ip": self.ip, "h0": self.h0, "h1": self.h1, "ops": self.ops}

    def describe(self, byte: int) -> str:
        k = int(self.v.kind[byte])
        return KIND_CHARS[k] if k != NOOP else "nop"

    def _scan(self, start: int, step: int, opener: int, closer: int) -> int:
        """Index of the partner bracket, or -1 / n when there is none."""
        depth, j = 1, start
        while 0 <= j < self.n:
            k = int(self.v.kind[self.tape[j]])
            depth += 1 if k == opener else -1 if k == closer else 0
            if depth == 0:
                return j
            j += step
        return j

    def step(self) -> None:
        t, n, v = self.tape, self.n, self.v
        k = int(v.kind[t[self.ip]])
        self.steps += 1
        if k != NOOP:
            self.ops += 1
        if k == H0_DEC:
            self.h0 = (self.h0 - 1) % n
        elif k == H0_INC:
            self.h0 = (self.h0 + 1) % n
        elif k == H1_DEC:
            self.h1 = (self.h1 - 1) % n
        elif k == H1_INC:
            self.h1 = (self.h1 + 1) % n
        elif k == DEC:
            t[self.h0] = (int(t[self.h0]) - 1) % 256
        elif k == INC:
            t[self.h0] = (int(t[self.h0]) + 1) % 256
        elif k == COPY01:
            t[self.h1] = t[self.h0]
        elif k in (COPY10, COPY10_MOVE):
            t[self.h0] = t[self.h1]
            if k == COPY10_MOVE:
                self.h1 = (self.h1 + 1) % n
        elif k == LOOP and v.null[t[self.h0]]:
            self.ip = self.ip + 8 if v.jump8 else self._scan(self.ip + 1, 1, LOOP, END)
        elif k == END and not v.null[t[self.h0]]:
            self.ip = self.ip - 8 if v.jump8 else self._scan(self.ip - 1, -1, END, LOOP)
        if not 0 <= self.ip < n:
            self.halted = True
            return
        self.ip += 1
        if self.ip >= n:
            self.halted = True


def render(program: np.ndarray, variant: Variant = BFF_NOHEADS) -> str:
    """Ops as their characters, bytes a loop reads as zero as '0', every other byte as a middle dot."""
    out = []
    for b in np.asarray(program, dtype=np.uint8).tolist():
        k = int(variant.kind[b])
        out.append(KIND_CHARS[k] if k != NOOP else ("0" if variant.null[b] else "\u00b7"))
    return "".join(out)


def colors(variant: Variant = BFF_NOHEADS) -> np.ndarray:
    """One RGB colour per byte value, by class: loops, writes, head moves, zero, data."""
    table = np.zeros((256, 3), dtype=np.uint8)
    for b in range(256):
        shade = 40 + b // 8  # data bytes: dark greys, slightly distinct
        table[b] = (shade, shade, shade)
        if variant.null[b] and variant.kind[b] == NOOP:
            table[b] = (200, 30, 30)
    by_kind = {
        LOOP: (40, 200, 60),
        END: (40, 200, 60),
        INC: (230, 160, 30),
        DEC: (230, 160, 30),
        COPY01: (220, 40, 200),
        COPY10: (220, 40, 200),
        COPY10_MOVE: (220, 40, 200),
    }
    for b in range(256):
        k = int(variant.kind[b])
        if k != NOOP:
            table[b] = by_kind.get(k, (70, 140, 255))
    return table

"""BFF: Brainfuck with two heads on a self-modifying tape (the paper's default language).

The tape is a pair of programs side by side. ``bff_noheads`` starts with the
instruction pointer and both heads at 0; ``bff`` reads its starting heads from
the first two bytes and starts executing at byte 2.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Op kinds; 0 is "not an instruction" so the hot loop can skip it with one test.
NOOP, H0_DEC, H0_INC, H1_DEC, H1_INC, DEC, INC, COPY01, COPY10, LOOP, END = range(11)

OP_CHARS = "<>{}-+.,[]"
KIND = np.zeros(256, dtype=np.uint8)
for _kind, _ch in enumerate(OP_CHARS, start=1):
    KIND[ord(_ch)] = _kind


@njit(cache=True, nogil=True)
def run(tape, max_steps, heads):
    """Run ``tape`` (uint8[2L]) in place; return the number of ops executed (no-ops excluded).

    A loop's ']' usually jumps back to the same '[' many times: the last jump
    each way is cached, and forgotten whenever a write makes or unmakes a
    bracket, so the result is exactly that of scanning every time.
    """
    n = tape.shape[0]
    if heads:
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
        k = KIND[tape[ip]]
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
            elif k <= COPY10:
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
                if KIND[tape[dst]] >= LOOP or KIND[new] >= LOOP:
                    back_from = -1
                    fwd_from = -1
                tape[dst] = new
            elif k == LOOP:
                if tape[h0] == 0:
                    if ip == fwd_from:
                        ip = fwd_to
                    else:
                        depth = 1
                        j = ip + 1
                        while j < n:
                            kj = KIND[tape[j]]
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
                if tape[h0] != 0:
                    if ip == back_from:
                        ip = back_to
                    else:
                        depth = 1
                        j = ip - 1
                        while j >= 0:
                            kj = KIND[tape[j]]
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
    """A plain-Python BFF machine, one step at a time (for ``soup trace`` and as a test oracle)."""

    def __init__(self, tape: np.ndarray, heads: bool):
        self.tape = np.array(tape, dtype=np.uint8)
        n = len(self.tape)
        self.n = n
        if heads:
            self.h0, self.h1, self.ip = int(self.tape[0]) % n, int(self.tape[1]) % n, 2
        else:
            self.h0 = self.h1 = self.ip = 0
        self.ops = 0
        self.steps = 0
        self.halted = self.ip >= n

    def state(self) -> dict:
        return {"step": self.steps, "ip": self.ip, "h0": self.h0, "h1": self.h1, "ops": self.ops}

    def describe(self, byte: int) -> str:
        ch = chr(byte)
        return ch if ch in OP_CHARS else "nop"

    def step(self) -> None:
        t, n = self.tape, self.n
        c = chr(t[self.ip])
        self.steps += 1
        if c in OP_CHARS:
            self.ops += 1
        if c == "<":
            self.h0 = (self.h0 - 1) % n
        elif c == ">":
            self.h0 = (self.h0 + 1) % n
        elif c == "{":
            self.h1 = (self.h1 - 1) % n
        elif c == "}":
            self.h1 = (self.h1 + 1) % n
        elif c == "-":
            t[self.h0] = (int(t[self.h0]) - 1) % 256
        elif c == "+":
            t[self.h0] = (int(t[self.h0]) + 1) % 256
        elif c == ".":
            t[self.h1] = t[self.h0]
        elif c == ",":
            t[self.h0] = t[self.h1]
        elif c == "[" and t[self.h0] == 0:
            depth, j = 1, self.ip + 1
            while j < n:
                depth += {"[": 1, "]": -1}.get(chr(t[j]), 0)
                if depth == 0:
                    break
                j += 1
            if j >= n:
                self.halted = True
                return
            self.ip = j
        elif c == "]" and t[self.h0] != 0:
            depth, j = 1, self.ip - 1
            while j >= 0:
                depth += {"]": 1, "[": -1}.get(chr(t[j]), 0)
                if depth == 0:
                    break
                j -= 1
            if j < 0:
                self.halted = True
                return
            self.ip = j
        self.ip += 1
        if self.ip >= n:
            self.halted = True


def render(program: np.ndarray) -> str:
    """Ops as their characters, zero bytes as '0', every other byte as a middle dot."""
    out = []
    for b in np.asarray(program, dtype=np.uint8).tolist():
        ch = chr(b)
        out.append(ch if ch in OP_CHARS else ("0" if b == 0 else "\u00b7"))
    return "".join(out)


def colors() -> np.ndarray:
    """One RGB colour per byte value, by class: loops, writes, head moves, zero, data."""
    table = np.zeros((256, 3), dtype=np.uint8)
    for b in range(256):
        shade = 40 + b // 8  # data bytes: dark greys, slightly distinct
        table[b] = (shade, shade, shade)
    for ch in "[]":
        table[ord(ch)] = (40, 200, 60)
    for ch in "+-":
        table[ord(ch)] = (230, 160, 30)
    for ch in ".,":
        table[ord(ch)] = (220, 40, 200)
    for ch in "<>{}":
        table[ord(ch)] = (70, 140, 255)
    table[0] = (200, 30, 30)
    return table

"""Forth: a tiny byte-coded stack machine over the pair's tape (the paper's Forth substrate).

Opcodes (one byte each), following the paper and its reference simulator:
  00 read0   pop a; push tape[a mod L]            (read from the first program)
  01 read1   pop a; push tape[L + a mod L]        (read from the second program)
  02 write0  pop v; pop a; tape[a mod L] = v
  03 write1  pop v; pop a; tape[L + a mod L] = v
  04 dup     05 drop     06 swap
  07 if0     peek the top; if it is not zero, skip the next instruction
  08 inc     09 dec      (top ± 1)
  0A add     pop a, pop b, push a + b
  0B sub     pop a, pop b, push a − b
  0C–3F      no-op; in the ``forthtrivial`` variant 0C and 0D are
             copy0: pop a; tape[L + a mod L] ← tape[a mod L]  (first to second)
             copy1: pop a; tape[a mod L] ← tape[L + a mod L]  (second to first)
             (a one-byte copy makes self-replication easy), and 0E–3F no-ops
  40–7F      push the constant (byte & 63) and skip the next byte
  80–FF      jump by ±((byte & 63) + 1); bit 6 set means backwards
The constant's skip is what the reference simulator does (in all its Forth
variants). Values are bytes (arithmetic wraps). The stack holds 128 bytes; popping an
empty stack gives 0, pushing onto a full stack ends the run. The run ends
when the instruction pointer leaves the tape or after the step budget.
"""

from __future__ import annotations

import numpy as np
from numba import njit

STACK = 128
MNEMONICS = ("read0", "read1", "write0", "write1", "dup", "drop", "swap", "if0", "inc", "dec", "add", "sub")


@njit(cache=True, nogil=True)
def run(tape, max_steps, copy_ops):
    n = tape.shape[0]
    half = n // 2
    stack = np.zeros(STACK, dtype=np.uint8)
    sp = 0
    ip = 0
    ops = 0
    for _ in range(max_steps):
        if ip < 0 or ip >= n:
            break
        c = tape[ip]
        if c >= 0x80:
            ops += 1
            off = np.int64(c & 63) + 1
            ip = ip - off if c & 64 else ip + off
            continue
        if c >= 0x40:
            ops += 1
            if sp == STACK:
                break
            stack[sp] = c & 63
            sp += 1
            ip += 1
        elif copy_ops and (c == 0x0C or c == 0x0D):
            ops += 1
            a = 0
            if sp > 0:
                sp -= 1
                a = stack[sp]
            a = a % half
            if c == 0x0C:
                tape[half + a] = tape[a]
            else:
                tape[a] = tape[half + a]
        elif c < 0x0C:
            ops += 1
            overflow = False
            if c <= 1:  # read
                a = 0
                if sp > 0:
                    sp -= 1
                    a = stack[sp]
                stack[sp] = tape[c * half + a % half]
                sp += 1
            elif c <= 3:  # write
                v = np.uint8(0)
                a = 0
                if sp > 0:
                    sp -= 1
                    v = stack[sp]
                if sp > 0:
                    sp -= 1
                    a = stack[sp]
                tape[(c - 2) * half + a % half] = v
            elif c == 4:  # dup
                v = np.uint8(0)
                if sp > 0:
                    v = stack[sp - 1]
                else:
                    stack[0] = 0
                    sp = 1
                if sp == STACK:
                    overflow = True
                else:
                    stack[sp] = v
                    sp += 1
            elif c == 5:  # drop
                if sp > 0:
                    sp -= 1
            elif c == 6:  # swap
                a = np.uint8(0)
                b = np.uint8(0)
                if sp > 0:
                    sp -= 1
                    a = stack[sp]
                if sp > 0:
                    sp -= 1
                    b = stack[sp]
                stack[sp] = a
                stack[sp + 1] = b
                sp += 2
            elif c == 7:  # if0
                v = np.uint8(0)
                if sp > 0:
                    v = stack[sp - 1]
                else:
                    stack[0] = 0
                    sp = 1
                if v != 0:
                    ip += 1
            elif c == 8 or c == 9:  # inc, dec
                v = np.uint8(0)
                if sp > 0:
                    v = stack[sp - 1]
                else:
                    sp = 1
                stack[sp - 1] = np.uint8(v + np.uint8(1)) if c == 8 else np.uint8(v - np.uint8(1))
            else:  # add, sub
                a = np.uint8(0)
                b = np.uint8(0)
                if sp > 0:
                    sp -= 1
                    a = stack[sp]
                if sp > 0:
                    sp -= 1
                    b = stack[sp]
                stack[sp] = np.uint8(a + b) if c == 10 else np.uint8(a - b)
                sp += 1
            if overflow:
                break
        ip += 1
    return ops


class Tracer:
    """A plain-Python Forth machine, one step at a time."""

    def __init__(self, tape: np.ndarray, copy_ops: bool = False):
        self.tape = np.array(tape, dtype=np.uint8)
        self.n = len(self.tape)
        self.copy_ops = copy_ops
        self.stack: list[int] = []
        self.ip = 0
        self.ops = 0
        self.steps = 0
        self.halted = False

    def state(self) -> dict:
        return {"step": self.steps, "ip": self.ip, "stack": list(self.stack), "ops": self.ops}

    def describe(self, byte: int) -> str:
        if self.copy_ops and byte in (0x0C, 0x0D):
            return "copy0" if byte == 0x0C else "copy1"
        return describe(byte)

    def _pop(self) -> int:
        return self.stack.pop() if self.stack else 0

    def _push(self, v: int) -> None:
        if len(self.stack) == STACK:
            self.halted = True  # overflow ends the run
        else:
            self.stack.append(v % 256)

    def step(self) -> None:
        t, half = self.tape, self.n // 2
        c = int(t[self.ip])
        self.steps += 1
        copy = self.copy_ops and c in (0x0C, 0x0D)
        if c < 0x0C or c >= 0x40 or copy:
            self.ops += 1
        if copy:
            a = self._pop() % half
            if c == 0x0C:
                t[half + a] = t[a]
            else:
                t[a] = t[half + a]
            self.ip += 1
        elif c >= 0x80:
            off = (c & 63) + 1
            self.ip += -off if c & 64 else off
        else:
            if c >= 0x40:
                self._push(c & 63)
                self.ip += 1
            elif c <= 1:
                a = self._pop()
                self._push(int(t[c * half + a % half]))
            elif c <= 3:
                v, a = self._pop(), self._pop()
                t[(c - 2) * half + a % half] = v
            elif c == 4:
                v = self._pop()
                self._push(v)
                self._push(v)
            elif c == 5:
                self._pop()
            elif c == 6:
                a, b = self._pop(), self._pop()
                self._push(a)
                self._push(b)
            elif c == 7:
                v = self._pop()
                self._push(v)
                if v != 0:
                    self.ip += 1
            elif c == 8:
                self._push(self._pop() + 1)
            elif c == 9:
                self._push(self._pop() - 1)
            elif c == 10:
                self._push(self._pop() + self._pop())
            elif c == 11:
                a, b = self._pop(), self._pop()
                self._push(a - b)
            self.ip += 1
        if not 0 <= self.ip < self.n:
            self.halted = True


def describe(byte: int) -> str:
    if byte < 0x0C:
        return MNEMONICS[byte]
    if byte < 0x40:
        return "nop"
    if byte < 0x80:
        return f"push{byte & 63}"
    return f"jmp{'-' if byte & 64 else '+'}{(byte & 63) + 1}"


def render(program: np.ndarray) -> str:
    return np.asarray(program, dtype=np.uint8).tobytes().hex()


def colors() -> np.ndarray:
    table = np.zeros((256, 3), dtype=np.uint8)
    for b in range(256):
        shade = 40 + b // 8
        table[b] = (shade, shade, shade)
    for b in (0, 1):
        table[b] = (40, 200, 60)  # reads
    for b in (2, 3):
        table[b] = (220, 40, 200)  # writes
    for b in range(4, 12):
        table[b] = (230, 160, 30)  # stack and arithmetic
    for b in range(0x40, 0x80):
        table[b] = (70, 140, 160 + (b & 63) // 1)
    for b in range(0x80, 0x100):
        table[b] = (60, 60, 120 + (b & 63) * 2)
    return table

"""The Forth family: tiny byte-coded stack machines over the pair's tape.

cubff defines four members, each one ``Variant`` here (its byte-to-op table
and whether writes into the second program can reset the first). L is one
program's length, n = 2L the tape's. Shared by all:

  04 dup   05 drop   06 swap
  07 if0     pop v; push v back; if v is not zero, skip the next byte
  08 inc     09 dec    (top +/- 1)
  0A add     pop a, pop b, push a + b
  0B sub     pop a, pop b, push a - b
  40-7F      push the constant (byte & 63)
  80-FF      jump by +/-((byte & 63) + 1); bit 6 set means backwards
  the rest   no-ops

``forth``: 00 read0 (pop a; push tape[a mod L]), 01 read1 (pop a; push
tape[L + a mod L]), 02 write0 (pop v; pop a; tape[a mod L] = v), 03 write1
(pop v; pop a; tape[L + a mod L] = v).
``forthtrivial``: forth plus 0C copy0 (pop a; tape[L + a mod L] = tape[a mod L])
and 0D copy1 (pop a; tape[a mod L] = tape[L + a mod L]): a one-byte copy makes
self-replication easy.
``forthtrivial_reset``: forthtrivial, except that write1 and copy0 whose
target byte holds 0x13 do not write: they refill the first program with
SplitMix64 noise seeded by a hash of the whole tape and the ip.
``forthcopy``: 00 read (pop a; push tape[a mod n]), 01 write (pop v; pop a;
tape[a mod n] = v), 02 copy (pop to; pop from; tape[to mod n] = tape[from mod
n]), 03 xor (top ^= 64), 04-0B as above.

Values are bytes (arithmetic wraps). The stack holds 128 bytes; popping an
empty stack gives 0; a push onto a full stack is lost and ends the run after
that step. The run ends when the ip leaves the tape or after the step budget.
The op count is cubff's ``Evaluate`` return value: steps minus no-op steps.
A constant push is one byte: the byte after it is the next instruction
(an earlier primordium skipped it; cubff never did).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from primordium.soup.languages.splitmix import splitmix64, splitmix64_py

STACK = 128
RESET_MARK = 0x13

(
    NOOP,
    READ0,
    READ1,
    READ,
    WRITE0,
    WRITE1,
    WRITE,
    DUP,
    DROP,
    SWAP,
    IF0,
    INC,
    DEC,
    ADD,
    SUB,
    COPY0,
    COPY1,
    COPY,
    XOR,
    CONST,
    JMP,
) = range(21)
NAMES = (
    "nop",
    "read0",
    "read1",
    "read",
    "write0",
    "write1",
    "write",
    "dup",
    "drop",
    "swap",
    "if0",
    "inc",
    "dec",
    "add",
    "sub",
    "copy0",
    "copy1",
    "copy",
    "xor",
    "push",
    "jmp",
)


class Variant(NamedTuple):
    kind: np.ndarray  # uint8[256]: byte -> op kind
    reset: bool  # write1 / copy0 onto a 0x13 byte reset the first program


def _table(low: tuple[int, ...]) -> np.ndarray:
    """Bytes 0.. get the kinds in ``low``; then no-ops to 3F, constants, jumps."""
    table = np.full(256, NOOP, dtype=np.uint8)
    table[: len(low)] = low
    table[0x40:0x80] = CONST
    table[0x80:] = JMP
    return table


_COMMON = (DUP, DROP, SWAP, IF0, INC, DEC, ADD, SUB)
FORTH = Variant(_table((READ0, READ1, WRITE0, WRITE1) + _COMMON), False)
FORTHTRIVIAL = Variant(_table((READ0, READ1, WRITE0, WRITE1) + _COMMON + (COPY0, COPY1)), False)
FORTHTRIVIAL_RESET = Variant(FORTHTRIVIAL.kind, True)
FORTHCOPY = Variant(_table((READ, WRITE, COPY, XOR) + _COMMON), False)


@njit(cache=True, nogil=True)
def _reset(tape, ip):
    half = tape.shape[0] // 2
    seed = np.uint64(0)
    for i in range(tape.shape[0]):
        seed = splitmix64(seed ^ np.uint64(tape[i]))
    base = seed * np.uint64(half) * np.uint64(half) + np.uint64(ip) * np.uint64(half)
    for i in range(half):
        tape[i] = np.uint8(splitmix64(base + np.uint64(i)) & np.uint64(255))


@njit(cache=True, nogil=True, inline="always")
def run(tape, max_steps, v, stack):
    """Run ``tape`` (uint8[2L]) in place with variant ``v``; return the ops executed.

    ``stack`` is the caller's scratch of ``STACK`` bytes (its contents do not
    matter): a CUDA thread cannot allocate, so the CPU and GPU callers each
    bring their own.
    """
    kind = v.kind
    n = tape.shape[0]
    half = n // 2
    sp = 0
    ip = 0
    ops = 0
    for _ in range(max_steps):
        if ip < 0 or ip >= n:
            break
        c = tape[ip]
        k = kind[c]
        if k == NOOP:
            ip += 1
            continue
        ops += 1
        if k == JMP:
            off = np.int64(c & 63) + 1
            ip = ip - off if c & 64 else ip + off
            continue
        if k == CONST:
            if sp == STACK:
                break
            stack[sp] = c & 63
            sp += 1
            ip += 1
            continue
        # Pops of an empty stack give 0: read the top two (or zeros) once.
        a = stack[sp - 1] if sp > 0 else np.uint8(0)
        b = stack[sp - 2] if sp > 1 else np.uint8(0)
        if k == DUP:
            if sp == STACK:
                break  # pop then two pushes: the second one is lost
            if sp == 0:
                stack[0] = 0
                sp = 1
            stack[sp] = a
            sp += 1
        elif k == IF0:
            if sp == 0:
                stack[0] = 0
                sp = 1
            if a != 0:
                ip += 1
        elif k == INC or k == DEC or k == XOR or k == READ0 or k == READ1 or k == READ:
            # pop one, push one
            if sp == 0:
                sp = 1
            if k == INC:
                r = np.uint8(a + np.uint8(1))
            elif k == DEC:
                r = np.uint8(a - np.uint8(1))
            elif k == XOR:
                r = np.uint8(a ^ np.uint8(64))
            elif k == READ0:
                r = tape[a % half]
            elif k == READ1:
                r = tape[half + a % half]
            else:
                r = tape[a % n]
            stack[sp - 1] = r
        elif k == DROP:
            if sp > 0:
                sp -= 1
        elif k == SWAP or k == ADD or k == SUB:
            sp = sp - 2 if sp >= 2 else 0
            if k == SWAP:
                stack[sp] = a
                stack[sp + 1] = b
                sp += 2
            else:
                stack[sp] = np.uint8(a + b) if k == ADD else np.uint8(a - b)
                sp += 1
        elif k == COPY0 or k == COPY1:
            if sp > 0:
                sp -= 1
            addr = a % half
            if k == COPY1:
                tape[addr] = tape[half + addr]
            elif v.reset and tape[half + addr] == RESET_MARK:
                _reset(tape, ip)
            else:
                tape[half + addr] = tape[addr]
        else:  # WRITE0, WRITE1, WRITE, COPY: pop two
            sp = sp - 2 if sp >= 2 else 0
            if k == WRITE0:
                tape[b % half] = a
            elif k == WRITE1:
                if v.reset and tape[half + b % half] == RESET_MARK:
                    _reset(tape, ip)
                else:
                    tape[half + b % half] = a
            elif k == WRITE:
                tape[b % n] = a
            else:  # COPY: to = a, from = b
                tape[a % n] = tape[b % n]
        ip += 1
    return ops


class Tracer:
    """A plain-Python Forth machine, one step at a time, written as pushes and pops.

    It follows cubff's Evaluate literally (a list for the stack, an overflow
    flag), so it checks the kernel's shortcuts.
    """

    def __init__(self, tape: np.ndarray, variant: Variant = FORTH):
        self.tape = np.array(tape, dtype=np.uint8)
        self.n = len(self.tape)
        self.v = variant
        self.stack: list[int] = []
        self.ip = 0
        self.ops = 0
        self.steps = 0
        self.halted = False

    def state(self) -> dict:
        return {"step": self.steps, "ip": self.ip, "stack": list(self.stack), "ops": self.ops}

    def describe(self, byte: int) -> str:
        return describe(byte, self.v)

    def _pop(self) -> int:
        return self.stack.pop() if self.stack else 0

    def _push(self, value: int) -> None:
        if len(self.stack) == STACK:
            self.halted = True  # the push is lost and the run ends after this step
        else:
            self.stack.append(value % 256)

    def _reset(self) -> None:
        t, half, seed = self.tape, self.n // 2, 0
        for byte in t.tolist():
            seed = splitmix64_py(seed ^ byte)
        for i in range(half):
            t[i] = splitmix64_py((seed * half * half + self.ip * half + i) % (1 << 64)) % 256

    def step(self) -> None:
        t, n, half = self.tape, self.n, self.n // 2
        c = int(t[self.ip])
        k = int(self.v.kind[c])
        pop, push = self._pop, self._push
        self.steps += 1
        if k != NOOP:
            self.ops += 1
        if k == READ0:
            push(int(t[pop() % half]))
        elif k == READ1:
            push(int(t[half + pop() % half]))
        elif k == READ:
            push(int(t[pop() % n]))
        elif k in (WRITE0, WRITE1, WRITE):
            value, addr = pop(), pop()
            if k == WRITE0:
                t[addr % half] = value
            elif k == WRITE:
                t[addr % n] = value
            elif self.v.reset and t[half + addr % half] == RESET_MARK:
                self._reset()
            else:
                t[half + addr % half] = value
        elif k == DUP:
            value = pop()
            push(value)
            push(value)
        elif k == DROP:
            pop()
        elif k == SWAP:
            a, b = pop(), pop()
            push(a)
            push(b)
        elif k == IF0:
            value = pop()
            if value:
                self.ip += 1
            push(value)
        elif k == INC:
            push(pop() + 1)
        elif k == DEC:
            push(pop() - 1)
        elif k == ADD:
            push(pop() + pop())
        elif k == SUB:
            a, b = pop(), pop()
            push(a - b)
        elif k == CONST:
            push(c & 63)
        elif k == COPY0:
            addr = pop() % half
            if self.v.reset and t[half + addr] == RESET_MARK:
                self._reset()
            else:
                t[half + addr] = t[addr]
        elif k == COPY1:
            addr = pop() % half
            t[addr] = t[half + addr]
        elif k == COPY:
            to, frm = pop() % n, pop() % n
            t[to] = t[frm]
        elif k == XOR:
            push(pop() ^ 64)
        elif k == JMP:
            off = (c & 63) + 1
            self.ip += (-off if c & 64 else off) - 1
        self.ip += 1
        if not 0 <= self.ip < n:
            self.halted = True


def describe(byte: int, variant: Variant = FORTH) -> str:
    k = int(variant.kind[byte])
    if k == CONST:
        return f"push{byte & 63}"
    if k == JMP:
        return f"jmp{'-' if byte & 64 else '+'}{(byte & 63) + 1}"
    return NAMES[k]


def render(program: np.ndarray) -> str:
    return np.asarray(program, dtype=np.uint8).tobytes().hex()


def colors(variant: Variant = FORTH) -> np.ndarray:
    """One RGB colour per byte value, by class: reads, writes and copies, stack and arithmetic, pushes, jumps."""
    by_kind = {
        READ0: (40, 200, 60),
        READ1: (40, 200, 60),
        READ: (40, 200, 60),
        WRITE0: (220, 40, 200),
        WRITE1: (220, 40, 200),
        WRITE: (220, 40, 200),
        COPY0: (220, 40, 200),
        COPY1: (220, 40, 200),
        COPY: (220, 40, 200),
    }
    table = np.zeros((256, 3), dtype=np.uint8)
    for b in range(256):
        k = int(variant.kind[b])
        shade = 40 + b // 8
        if k == CONST:
            table[b] = (70, 140, 160 + (b & 63))
        elif k == JMP:
            table[b] = (60, 60, 120 + (b & 63) * 2)
        elif k == NOOP:
            table[b] = (shade, shade, shade)
        else:
            table[b] = by_kind.get(k, (230, 160, 30))
    return table

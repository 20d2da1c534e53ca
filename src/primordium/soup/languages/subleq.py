"""SUBLEQ and RSUBLEQ4: one-instruction machines on the pair's tape (paper's substrates).

Bytes are read as signed when tested (``<= 0`` means 0 or bit 7 set); n = 2L.

SUBLEQ, instruction at ip = (A, B, C):
    a = A mod n, b = B mod n; tape[a] ← tape[a] − tape[b];
    if tape[a] <= 0: ip ← C  else ip ← ip + 3.
RSUBLEQ4, instruction at ip = (A, B, C, D), addresses relative to ip:
    a, b, c = (ip + A, ip + B, ip + C) mod n; tape[a] ← tape[b] − tape[c];
    if tape[a] <= 0: ip ← ip + signed(D)  else ip ← ip + 4.
The run ends when a whole instruction no longer fits on the tape at ip (or ip
is negative) or after the step budget. Every executed instruction is an op.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def run_subleq(tape, max_steps):
    n = tape.shape[0]
    ip = 0
    ops = 0
    for _ in range(max_steps):
        if ip < 0 or ip + 3 > n:
            break
        a = np.int64(tape[ip]) % n
        b = np.int64(tape[ip + 1]) % n
        v = np.uint8(tape[a] - tape[b])
        tape[a] = v
        ops += 1
        if v == 0 or v >= 128:
            ip = np.int64(tape[ip + 2])
        else:
            ip += 3
    return ops


@njit(cache=True, nogil=True)
def run_rsubleq4(tape, max_steps):
    n = tape.shape[0]
    ip = 0
    ops = 0
    for _ in range(max_steps):
        if ip < 0 or ip + 4 > n:
            break
        a = (ip + np.int64(tape[ip])) % n
        b = (ip + np.int64(tape[ip + 1])) % n
        c = (ip + np.int64(tape[ip + 2])) % n
        v = np.uint8(tape[b] - tape[c])
        tape[a] = v
        ops += 1
        if v == 0 or v >= 128:
            d = np.int64(tape[ip + 3])
            ip += d - 256 if d >= 128 else d
        else:
            ip += 4
    return ops


class Tracer:
    """A plain-Python SUBLEQ / RSUBLEQ4 machine, one step at a time."""

    def __init__(self, tape: np.ndarray, relative: bool):
        self.tape = np.array(tape, dtype=np.uint8)
        self.n = len(self.tape)
        self.relative = relative
        self.width = 4 if relative else 3
        self.ip = 0
        self.ops = 0
        self.steps = 0
        self.halted = self.n < self.width

    def state(self) -> dict:
        return {"step": self.steps, "ip": self.ip, "ops": self.ops}

    def describe(self, byte: int) -> str:
        t, ip = self.tape, self.ip
        args = " ".join(f"{int(x):02x}" for x in t[ip : ip + self.width])
        return ("rsubleq4 " if self.relative else "subleq ") + args

    def step(self) -> None:
        t, n, ip = self.tape, self.n, self.ip
        self.steps += 1
        self.ops += 1
        if self.relative:
            a, b, c = ((ip + int(t[ip + k])) % n for k in range(3))
            t[a] = (int(t[b]) - int(t[c])) % 256
            if t[a] == 0 or t[a] >= 128:
                d = int(t[ip + 3])
                self.ip = ip + (d - 256 if d >= 128 else d)
            else:
                self.ip = ip + 4
        else:
            a, b = int(t[ip]) % n, int(t[ip + 1]) % n
            t[a] = (int(t[a]) - int(t[b])) % 256
            self.ip = int(t[ip + 2]) if (t[a] == 0 or t[a] >= 128) else ip + 3
        if self.ip < 0 or self.ip + self.width > n:
            self.halted = True


def render(program: np.ndarray) -> str:
    return np.asarray(program, dtype=np.uint8).tobytes().hex()


def colors() -> np.ndarray:
    """A smooth ramp: in SUBLEQ every byte is an address or a jump target."""
    b = np.arange(256)
    return np.stack([b, np.full(256, 40), 255 - b], axis=1).astype(np.uint8)

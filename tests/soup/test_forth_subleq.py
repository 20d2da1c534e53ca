"""Forth, SUBLEQ and RSUBLEQ4 on hand-made tapes."""

from __future__ import annotations

import numpy as np

from primordium.soup.languages import execute
from tests.soup.conftest import L

NOP = 0x20  # a Forth no-op


def tape(*prefix, fill: int = NOP) -> np.ndarray:
    flat = []
    for p in prefix:
        flat.extend(p if isinstance(p, tuple) else (p,))
    t = np.full(2 * L, fill, dtype=np.uint8)
    t[: len(flat)] = flat
    return t


def push(v: int) -> int:
    """A constant push is one byte (cubff never skips the byte after it)."""
    return 0x40 | v


def test_forth_push_and_write_into_the_other_program():
    # push 5 (address), push 33 (value), write1: tape[L + 5] = 33.
    out, ops = execute("forth", tape(push(5), push(33), 0x03), 8192)
    assert out[L + 5] == 33 and ops == 3


def test_forth_push_does_not_skip_the_next_byte():
    # push 7, push 32, write0 pops v = 32 (a no-op byte) and a = 7: tape[7] = 32.
    out, ops = execute("forth", tape(0x47, 0x60, 0x02, fill=0x21), 8192)
    assert out[7] == 32 and out[0] == 0x47 and ops == 3


def test_forth_read_dup_add_write0():
    # read0 of address 0 pushes tape[0] (push0 = 0x40); dup; add -> 0x80; push 1; swap; write0: tape[1] = 0x80
    # (behind the instruction pointer, so it is not run).
    out, ops = execute("forth", tape(push(0), 0x00, 0x04, 0x0A, push(1), 0x06, 0x02), 8192)
    assert out[1] == 0x80 and ops == 7


def test_forth_read1_inc_dec_sub():
    t = tape(push(3), 0x01, 0x08, 0x08, 0x09, push(1), 0x0B, push(20), 0x06, 0x02)
    t[L + 3] = 10
    out, _ = execute("forth", t, 8192)
    # read1 3 -> 10; inc inc dec -> 11; push 1; sub -> top - second = 1 - 11 = -10 (246); write0 at 20.
    assert out[20] == 246


def test_forth_if0_skips_on_nonzero_and_drop():
    # push 1; if0 (non-zero: skip the next instruction, a dup); push 2; write0 writes 2 at address 1.
    out, _ = execute("forth", tape(push(1), 0x07, 0x04, push(2), 0x02), 8192)
    assert out[1] == 2  # the skipped dup would have made it tape[1] = 1
    # push 0; if0 (zero: run the next); push 7 -> stack 0 7; write0: tape[0] = 7.
    out, _ = execute("forth", tape(push(0), 0x07, push(7), 0x02), 8192)
    assert out[0] == 7
    # drop: push 3, push 4, drop, push 9, write0 -> tape[3] = 9.
    out, _ = execute("forth", tape(push(3), push(4), 0x05, push(9), 0x02), 8192)
    assert out[3] == 9


def test_forth_jumps_and_leaving_the_tape():
    # A backwards jump of 1 onto itself... jmp-1 at 0 leaves the tape at once.
    _, ops = execute("forth", tape(0xC0), 8192)
    assert ops == 1
    # jmp+2 skips push 1: push 2 and write0 run: v = 2 written at address 0.
    out, ops = execute("forth", tape(0x81, push(1), push(2), 0x02), 8192)
    assert out[0] == 2 and ops == 3
    # An endless loop (jmp-1 at 1 after a no-op... jmp back to itself is -0: use jmp-1 at 1 -> 0, a no-op).
    _, ops = execute("forth", tape(0x20, 0xC0), 100)
    assert ops == 50  # every other step is the no-op


def test_forth_stack_overflow_ends_the_run():
    # push 1 then jump back by 1, forever: the 129th push overflows the stack and ends the run.
    _, ops = execute("forth", tape(push(1), 0xC0), 8192)
    assert ops == 2 * 128 + 1


def test_forthtrivial_copies_between_programs():
    # push 20; copy0: tape[L + 20] <- tape[20]; push 21; copy1: tape[21] <- tape[L + 21].
    t = tape(push(20), 0x0C, push(21), 0x0D)
    t[20], t[L + 21] = 0x21, 0x22  # values that are no-ops when the ip passes
    out, ops = execute("forthtrivial", t, 8192)
    assert out[L + 20] == 0x21 and out[21] == 0x22 and ops == 4
    # In plain Forth the same bytes are no-ops.
    out, ops = execute("forth", t, 8192)
    assert out[L + 20] == t[L + 20] and out[21] == t[21] and ops == 2


def test_forthtrivial_reset_refills_the_first_program():
    # write1 onto a 0x13 byte does not write: it refills the first program with noise.
    t = tape(push(5), push(9), 0x03)
    t[L + 5] = 0x13
    # Three steps only: after the reset the ip runs into the noise.
    out, ops = execute("forthtrivial_reset", t, 3)
    assert out[L + 5] == 0x13 and ops == 3
    assert not np.array_equal(out[:L], t[:L]) and np.array_equal(out[L:], t[L:])
    out, _ = execute("forthtrivial", t, 3)
    assert out[L + 5] == 9


def test_forthcopy_reads_writes_and_copies_the_whole_tape():
    # push 40 (from), push 5 (to), copy: to is popped first, so tape[5] = tape[40].
    t = tape(push(40), push(5), 0x02)
    t[40] = 0x21
    out, ops = execute("forthcopy", t, 8192)
    assert out[5] == 0x21 and ops == 3
    # xor flips bit 6 of the top: push 1, xor (65), push 63, add -> 128: write pops v = 128 and a = 0.
    out, _ = execute("forthcopy", tape(push(1), 0x03, push(63), 0x0A, 0x01), 8192)
    assert out[0] == 128


def test_subleq():
    # tape[a] -= tape[b]; a = 10, b = 11, jump to C if the result <= 0.
    t = np.zeros(2 * L, np.uint8)
    t[:3] = (10, 11, 200)  # jump target 200 leaves the tape
    t[3:6] = (12, 12, 250)  # the next instruction zeroes tape[12] and jumps off the tape
    t[10], t[11] = 5, 3
    out, ops = execute("subleq", t, 8192)
    assert out[10] == 2 and ops == 2  # 5 - 3 = 2 > 0: on to ip 3
    t[11] = 5  # 5 - 5 = 0 <= 0: jump to 200 -> ends after one op
    out, ops = execute("subleq", t, 8192)
    assert out[10] == 0 and ops == 1
    # Addresses wrap modulo 2L: 10 + 128 = 138.
    t2 = t.copy()
    t2[:3] = (138, 11 + 128, 255)
    t2[10], t2[11] = 9, 4
    out, _ = execute("subleq", t2, 8192)
    assert out[10] == 5


def test_rsubleq4_relative_addresses_and_signed_jump():
    t = np.zeros(2 * L, np.uint8)
    # At ip 0: a = 0+20, b = 0+21, c = 0+22: tape[20] = tape[21] - tape[22] = 3 - 5 = -2 <= 0: jump by D = -1 -> ip -1 ends.
    t[:4] = (20, 21, 22, 255)
    t[21], t[22] = 3, 5
    out, ops = execute("rsubleq4", t, 8192)
    assert out[20] == 254 and ops == 1
    # Positive result: ip += 4; the next instruction (all zeros) computes tape[4] = 0 - 0 and jumps by 0 forever.
    t[22] = 1
    out, ops = execute("rsubleq4", t, 500)
    assert out[20] == 2 and ops == 500

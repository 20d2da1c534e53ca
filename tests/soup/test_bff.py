"""BFF semantics, op by op, against the issue's definition."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.soup.languages import LANGUAGES, execute, trace
from primordium.soup.metrics import copy_check
from tests.soup.conftest import L, tape_of


def run(text, steps=8192, lang="bff_noheads", fill=ord("a")):
    return execute(lang, tape_of(text, fill), steps)


def test_noops_use_steps_but_are_not_ops():
    out, ops = run("aaaa+", steps=4)
    assert ops == 0 and out[0] == ord("a")
    out, ops = run("aaaa+", steps=5)
    assert ops == 1 and out[0] == ord("a") + 1  # h0 = 0: '+' bumps the first byte


def test_plus_minus_wrap_bytes():
    # '<' puts h0 on the tape's last byte (a zero): '-' wraps it to 255, '+' back past 0.
    out, ops = run("<-", fill=0)
    assert out[-1] == 255 and ops == 2
    out, _ = run("<-++", fill=0)
    assert out[-1] == 1
    out, _ = run("<---", fill=0)
    assert out[-1] == 253
    # '+' on the byte under h0 = 0: the '+' itself becomes ','.
    out, _ = run("+", fill=0)
    assert out[0] == ord("+") + 1


def test_head_moves_and_copies():
    # h0 = 2L-3, h1 = 2L-5 (both wrap below 0 into the zero region at the tape's end).
    t = tape_of(b"<<<{{{{{.", fill=0)
    t[-3] = 7
    out, ops = execute("bff_noheads", t, 8192)
    assert out[-5] == 7 and out[-3] == 7 and ops == 9  # '.': tape[h1] <- tape[h0]
    t = tape_of(b"<<<{{{{{,", fill=0)
    t[-5] = 9
    out, _ = execute("bff_noheads", t, 8192)
    assert out[-3] == 9 and out[-5] == 9  # ',': tape[h0] <- tape[h1]
    # '>' and '}' move the heads right: h0 = 12, h1 = 11 over zeros placed there.
    t = tape_of(b"}}}}}}>>>>>>>>>>>>" + b"aaaaaa" + b"+.", fill=0)
    # h1 = 6, h0 = 12 (both on '>' bytes); '+' makes tape[12] '?'; '.' copies it to tape[6].
    out, _ = execute("bff_noheads", t, 8192)
    assert out[12] == ord(">") + 1 and out[6] == ord(">") + 1


def test_h1_moves_left_and_right():
    prog = b"}}}{" + b"."  # h1 = 2; '.' writes tape[h0=0] there
    out, _ = execute("bff_noheads", tape_of(prog, fill=0), 8192)
    assert out[2] == out[0] == ord("}")


def test_head_wrap():
    # '<' from 0 wraps h0 to 2L-1; '+' then bumps the tape's last byte.
    out, ops = run("<+", fill=0)
    assert out[2 * L - 1] == 1 and ops == 2
    out, _ = run("{" + ".", fill=0)  # h1 wraps to 2L-1 and receives tape[0] = '{'
    assert out[2 * L - 1] == ord("{")
    # '>' 2L times comes back to 0.
    prog = b">" * (2 * L - 2)
    t = tape_of(prog, fill=0)
    t[-2:] = np.frombuffer(
        b">+", np.uint8
    )  # the (2L-1)th '>' then '+' at h0 = 2L-1 ... wraps at the end
    out, _ = execute("bff_noheads", t, 8192)
    assert out[2 * L - 1] == ord("+") + 1


def test_loop_skipped_when_zero_and_unmatched_forward_ends():
    # '<' puts h0 on the last byte (zero): '[' jumps past its ']' (the '+' never runs),
    # then '}' '.' copy that zero to tape[1].
    out, ops = run("<[+]}.", fill=0)
    assert out[-1] == 0 and out[1] == 0 and ops == 4
    # An unmatched '[' over a zero ends the run at once.
    out, ops = run("<[+", fill=0)
    assert ops == 2 and out[-1] == 0


def test_loop_runs_and_nested_matching():
    # The last byte holds 3; the inner loop counts it down; both loops then fall through.
    t = tape_of(b"<[[-]]}.", fill=0)
    t[-1] = 3
    out, ops = execute("bff_noheads", t, 8192)
    assert out[-1] == 0 and out[1] == 0
    # '<' '[' '[' then 3 x ('-' ']') then the outer ']' and '}' '.'.
    assert ops == 3 + 3 * 2 + 1 + 2
    # An outer loop with an inner loop that is skipped on every pass (its cell is zero).
    t = tape_of(b"<[<[+]>-]}.", fill=0)
    t[-1] = 2
    out, ops = execute("bff_noheads", t, 8192)
    assert out[-1] == 0 and out[-2] == 0
    assert ops == 2 + 2 * 5 + 2  # '<' '['; 2 passes of '<' '[' '>' '-' ']'; '}' '.'


def test_loop_whose_bracket_is_overwritten_mid_run():
    # h0 on the last byte (3); each pass moves h1 right and copies that byte there. The
    # second pass overwrites the loop's own '[' (index 2), so the next ']' finds no match
    # and the run ends: a cached jump target must not outlive the bracket.
    t = tape_of(b"<a[}.-]", fill=0)
    t[-1] = 3
    out, ops = execute("bff_noheads", t, 8192)
    assert out[2] == 2 and out[-1] == 1 and ops == 2 + 4 + 4


def test_unmatched_backward_ends():
    # ']' with non-zero under h0 and no '[' before it: the run ends; '+' never runs.
    out, ops = run("]+", fill=0)
    assert ops == 1 and out[0] == ord("]")


def test_step_budget():
    # '[' with tape[0] = '[' (non-zero) enters; ']' jumps back forever: every step is an op.
    _, ops = run("[]", steps=100)
    assert ops == 100
    _, ops = run("[]")
    assert ops == 2**13


def test_run_ends_when_ip_leaves_the_tape():
    out, ops = run("", fill=0)
    assert ops == 0 and not out.any()


def test_bff_with_heads_reads_them_from_the_first_two_bytes():
    # h0 = 0x82 mod 128 = 2, h1 = 0x81 mod 128 = 1; ip starts at 2: '.' copies tape[2] ('.') to tape[1].
    t = tape_of(b"\x82\x81.", fill=0)
    out, ops = execute("bff", t, 8192)
    assert out[1] == ord(".") and ops == 1
    # Without heads the same tape runs from byte 0: 0x82, 0x81 are no-ops; '.' copies tape[0] onto itself.
    out, ops = execute("bff_noheads", t, 8192)
    assert out[1] == 0x81 and ops == 1


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_kernel_matches_step_by_step_tracer(lang):
    """The fast kernel and the plain-Python machine agree on random tapes (tape and ops)."""
    rng = np.random.default_rng(123)
    for i in range(150):
        t = rng.integers(0, 256, 2 * L, dtype=np.uint8)
        if i % 2:  # dense in instructions, so loops and writes happen
            if lang.startswith("bff"):
                pool = np.frombuffer(b"<>{}-+.,[]\x00", np.uint8)
            elif lang.startswith("forth"):
                pool = np.arange(0, 14, dtype=np.uint8)
            else:
                pool = np.arange(0, 2 * L, dtype=np.uint8)
            m = rng.random(2 * L) < 0.6
            t[m] = rng.choice(pool, m.sum())
        steps = int(rng.integers(1, 4000))
        out, ops = execute(lang, t, steps)
        *_, final = trace(lang, t, steps)
        assert np.array_equal(out, final["tape"]), (lang, i)
        assert ops == final["ops"], (lang, i)


def test_hand_written_replicator_copies_itself(replicator):
    tape = np.concatenate([replicator, np.zeros(L, np.uint8)])
    out, _ = execute("bff_noheads", tape, 8192)
    assert np.array_equal(out[L:], replicator) and np.array_equal(out[:L], replicator)
    rng = np.random.default_rng(5)
    tape = np.concatenate([replicator, rng.integers(0, 256, L, dtype=np.uint8)])
    out, _ = execute("bff_noheads", tape, 8192)
    assert np.array_equal(out[L:], replicator)
    for partner in ("zero", "random"):
        check = copy_check(replicator, "bff_noheads", partner=partner)
        assert check["replicates"] and check["left"]["replicates"]
        assert check["left"]["copy_fraction"] == [1.0] * 4


def test_back_to_front_copier_counts_as_a_replicator():
    # Not a palindrome: the copy is the program reversed, whose copy is the program again.
    prog = np.frombuffer(b"[{.>]" + bytes(range(ord("a"), ord("a") + L - 10)) + b"]>.{[", np.uint8)
    out, _ = execute("bff_noheads", np.concatenate([prog, np.zeros(L, np.uint8)]), 8192)
    assert np.array_equal(out[L:], prog[::-1])
    check = copy_check(prog, "bff_noheads", partner="random")
    assert check["replicates"]
    assert (
        check["left"]["reversed_copy_fraction"] == [1.0] * 4
        and check["left"]["parent_kept"] == [1.0] * 4
    )


def test_random_program_is_not_a_replicator():
    rng = np.random.default_rng(0)
    prog = rng.integers(0, 256, L, dtype=np.uint8)
    assert not copy_check(prog, "bff_noheads", partner="random")["replicates"]


def test_bff8_brackets_jump_eight_bytes():
    # '[' on a zero jumps 8 bytes on (then the ip steps on as usual).
    t = tape_of(b"\x01" + b"-" + b"[" + b"a" * 8 + b"+", fill=ord("a"))
    out, ops = execute("bff8_noheads", t, 8192)
    # '-' makes tape[0] = 0; '[' at 2 sees zero and jumps to 2 + 8 + 1 = 11: the '+' at 11 runs.
    assert out[0] == 1 and ops == 3
    # The same tape in bff_noheads: '[' has no partner, so the run ends there.
    out, ops = execute("bff_noheads", t, 8192)
    assert out[0] == 0 and ops == 2


def test_bff_selfmove_copy_moves_its_source_head():
    # Heads from bytes 0, 1: h0 = 10, h1 = 20; ',' (byte 4) copies tape[20] to tape[10] and moves h1 to 21.
    t = np.full(2 * L, 7, dtype=np.uint8)  # 7 is a no-op in bff_selfmove
    t[:6] = (10, 20, 4, 0, 4, 9)  # ',' '>' ',' then a no-op
    t[20], t[21] = 0x33, 0x44
    out, ops = execute("bff_selfmove", t, 8192)
    # First ',': tape[10] = tape[20]; '>' moves h0 to 11; second ',': tape[11] = tape[21].
    assert out[10] == 0x33 and out[11] == 0x44 and ops == 3


def test_bff_noheads_4bit_reads_low_nibbles():
    # 0x16 is '[' and 0x17 ']' (low nibbles 6, 7); a loop test sees "zero" in any byte with low nibble 0.
    t = np.full(2 * L, 0x21, dtype=np.uint8)  # low nibble 1: a no-op
    t[:3] = (
        0x10,
        0x16,
        0x28,
    )  # h0 = 0 reads 0x10: "zero", so '[' at 1 looks for its ']': there is none
    out, ops = execute("bff_noheads_4bit", t, 8192)
    assert ops == 1 and np.array_equal(out, t)

"""Unit tests of the assembler, one feature at a time (no pMARS needed)."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.corewar.isa import Mod, Mode, Op, Settings
from primordium.corewar.redcode import assemble, assemble_file, listing
from primordium.corewar.redcode_expr import BAD, DIV_ZERO, OK, Evaluator
from primordium.corewar.redcode_fields import default_modifier
from primordium.corewar.redcode_lex import LineReader, tokenize
from primordium.errors import AssemblyError, PrimordiumError


def row(src: str, i: int = 0, settings: Settings = Settings()) -> list:
    return assemble(src, settings).code[i].tolist()


# -- expressions -----------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [
        ("1+2*3", 7),
        ("(1+2)*3", 9),
        ("10-2-3", 5),
        ("1-2*3-4", -1),  # pMARS's associativity after a higher-precedence operator
        ("2*3+4*5", 26),
        ("7/2", 3),
        ("-7/2", -3),  # C truncation
        ("-7%3", -1),
        ("7%-3", 1),
        ("--5", 5),
        ("!0", 1),
        ("!7", 0),
        ("3>2", 1),
        ("2>=3", 0),
        ("1==1&&2!=3", 1),
        ("0||0", 0),
        ("7=37", 1),  # a lone '=' compares
        ("99999999999999999999", (1 << 63) - 1),  # sscanf saturates
    ],
)
def test_evaluator_matches_pmars_arithmetic(text, value):
    assert Evaluator().evaluate(text) == (OK, value)


@pytest.mark.parametrize("text", ["", "(1", "1)", "1+", "#", "1 2"])
def test_evaluator_rejects_bad_expressions(text):
    assert Evaluator().evaluate(text)[0] == BAD


def test_evaluator_division_by_zero():
    assert Evaluator().evaluate("5/(1-1)")[0] == DIV_ZERO
    assert Evaluator().evaluate("5%0")[0] == DIV_ZERO


def test_evaluator_registers_persist():
    ev = Evaluator()
    assert ev.evaluate("a=6*7") == (OK, 42)
    assert ev.evaluate("A+1") == (OK, 43)


# -- lines and tokens ----------------------------------------------------------
def test_tokens():
    kinds = [t[1] for t in tokenize("lab: MOV.AB #x&&1, }2 ; c")]
    assert kinds == ["lab", ":", "MOV", ".", "AB", "#", "x", "&&", "1", ",", "}", "2", ";", "c"]


def test_line_reader_cuts_like_fgets():
    lines = list(LineReader("a\\\nb\r\n" + "x" * 300 + "\nc"))
    assert lines == [(1, "ab"), (3, "x" * 255), (3, "x" * 45), (4, "c")]


# -- instructions ----------------------------------------------------------------
def test_code_layout_and_normalisation():
    w = assemble("  MOV.AB #-1, }4001\n", Settings(core_size=8000))
    assert w.code.dtype == np.int32 and w.code.shape == (1, 6)
    assert w.code[0].tolist() == [Op.MOV, Mod.AB, Mode.IMMEDIATE, 7999, Mode.A_POSTINC, 4001]


@pytest.mark.parametrize("sym, mode", list(zip("#$@<>*{}", Mode, strict=False)))
def test_all_modes(sym, mode):
    assert row(f"  JMP {sym}1, {sym}2")[2] == mode
    assert row(f"  JMP {sym}1, {sym}2")[4] == mode


def test_default_mode_is_direct_and_missing_b():
    assert row("  JMP 3") == [Op.JMP, Mod.B, Mode.DIRECT, 3, Mode.DIRECT, 0]
    assert row("  DAT 3") == [Op.DAT, Mod.F, Mode.IMMEDIATE, 0, Mode.DIRECT, 3]
    with pytest.raises(AssemblyError, match="two operands"):
        assemble("  MOV 3\n")


def test_cmp_and_seq_stay_distinct():
    w = assemble("  CMP 1, 2\n  SEQ 1, 2\n")
    assert w.code[:, 0].tolist() == [Op.CMP, Op.SEQ]
    assert "CMP.I" in listing(w) and "SEQ.I" in listing(w)


@pytest.mark.parametrize(
    "op, a, b, mod",
    [
        (Op.DAT, Mode.DIRECT, Mode.DIRECT, Mod.F),
        (Op.MOV, Mode.IMMEDIATE, Mode.DIRECT, Mod.AB),
        (Op.MOV, Mode.DIRECT, Mode.IMMEDIATE, Mod.B),
        (Op.MOV, Mode.DIRECT, Mode.DIRECT, Mod.I),
        (Op.ADD, Mode.DIRECT, Mode.DIRECT, Mod.F),
        (Op.SLT, Mode.DIRECT, Mode.IMMEDIATE, Mod.B),
        (Op.SLT, Mode.IMMEDIATE, Mode.DIRECT, Mod.AB),
        (Op.JMZ, Mode.IMMEDIATE, Mode.DIRECT, Mod.B),
        (Op.NOP, Mode.IMMEDIATE, Mode.DIRECT, Mod.F),
        (Op.LDP, Mode.IMMEDIATE, Mode.DIRECT, Mod.AB),
    ],
)
def test_default_modifiers(op, a, b, mod):
    assert default_modifier(op, a, b) == mod


def test_opcodes_and_modifiers_are_case_insensitive():
    assert row("  sPl.Ab 1, 2")[:2] == [Op.SPL, Mod.AB]


# -- labels, EQU, FOR -----------------------------------------------------------
def test_labels_are_relative_and_forward():
    w = assemble("a b: DAT 0\n  JMP a, last\nlast DAT b\n")
    assert w.code[1].tolist()[3] == 7999 and w.code[1].tolist()[5] == 1
    assert w.code[2].tolist()[5] == 7998


def test_equ_is_text_substitution():
    assert row("x EQU 1+2\n  DAT 3*x, x*3\n")[3::2] == [5, 7]


def test_multiline_equ_block_emits_lines():
    w = assemble("m EQU MOV 0, 1\n  EQU JMP -1\n  m\n")
    assert w.code[:, 0].tolist() == [Op.MOV, Op.JMP]


def test_for_with_counter_and_concatenation():
    w = assemble("i FOR 3\nx&i DAT i, x&i\n  ROF\n  JMP x02\n")
    assert w.code[:3, 3].tolist() == [1, 2, 3]
    assert w.code[:3, 5].tolist() == [0, 0, 0]
    assert w.code[3, 3] == 8000 - 2


def test_for_zero_skips_block_and_nested_for():
    w = assemble("  FOR 0\n garbage here\n  ROF\ni FOR 2\nj FOR 2\n  DAT i, j\n  ROF\n  ROF\n")
    assert w.code[:, 3].tolist() == [1, 1, 2, 2] and w.code[:, 5].tolist() == [1, 2, 1, 2]


def test_predefined_constants_follow_settings():
    s = Settings(
        core_size=800, cycles=1234, processes=77, length=50, distance=60, rounds=3, warriors=2
    )
    src = "  DAT MAXCYCLES, MAXPROCESSES\n  DAT MAXLENGTH, MINDISTANCE\n  DAT ROUNDS, WARRIORS\n  DAT VERSION, PSPACESIZE\n"
    w = assemble(src, s)
    assert w.code[:, 3].tolist() == [1234 % 800, 50, 3, 92]
    assert w.code[:, 5].tolist() == [77, 60, 2, s.pspace]
    assert row("  DAT CORESIZE-1, CURLINE", 0, s)[3] == 799


def test_org_end_and_pin():
    assert assemble("  DAT 0\ngo SPL 0\n  END go\n").start == 1
    assert assemble("  ORG 2\n  DAT 0\n  DAT 0\n  DAT 0\n  END 1\n").start == 2
    w = assemble("  PIN 42\n  DAT 0\n")
    assert w.pin == 42 and assemble("  DAT 0\n").pin is None


def test_assert_is_checked_with_settings():
    assemble(";assert CORESIZE == 8000\n  DAT 0\n")
    with pytest.raises(AssemblyError, match="assertion failed") as info:
        assemble("  DAT 0\n;assert CORESIZE == 8000\n", Settings(core_size=800), file="w.red")
    assert str(info.value).startswith("w.red:2: ")


# -- header ----------------------------------------------------------------------
def test_header_comments():
    src = "junk before redcode\n;redcode-94\n;name Imp\n;author A. K. Dewdney\n;strategy one\n;strategy two\n  MOV 0, 1\n"
    w = assemble(src, file="imp.red")
    assert (w.name, w.author, w.strategy) == ("Imp", "A. K. Dewdney", "one\ntwo")
    assert w.file == "imp.red" and w.source == src and w.length == 1


def test_pmars_default_names():
    w = assemble("  DAT 0\n")
    assert (w.name, w.author) == ("Unknown", "Anonymous")


def test_second_redcode_line_stops_reading():
    assert assemble(";redcode\n  DAT 0\n;redcode\n  DAT 1\n").length == 1


# -- errors ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "src, line, message",
    [
        ("  DAT 0\n  FOO 1, 2\n", 2, "unexpected"),
        ("  MOV.Q 0, 1\n", 1, "modifier"),
        ("  JMP nowhere\n", 1, "undefined label 'nowhere'"),
        ("  DAT 1/0\n", 1, "division by zero"),
        ("x DAT 0\nx DAT 1\n", 2, "already defined"),
        ("  DAT (1\n", 1, "bad expression"),
        ("  MOV 0,\n", 1, "syntax error"),
        ("a EQU a\n  DAT a\n", 1, "recursive"),
        ("  ROF\n", 1, "ROF without"),
        ("  DAT 0\n  DAT 1\\", 2, "continued"),
    ],
)
def test_errors_name_file_and_line(src, line, message):
    with pytest.raises(AssemblyError, match=message) as info:
        assemble(src, file="bad.red")
    assert info.value.line == line and info.value.file == "bad.red"


def test_too_long_and_empty():
    with pytest.raises(AssemblyError, match="maximum length 5"):
        assemble("  FOR 6\n  DAT 0\n  ROF\n", Settings(length=5, distance=5))
    with pytest.raises(AssemblyError, match="no instructions"):
        assemble(";name nothing\n")
    with pytest.raises(AssemblyError, match="outside"):
        assemble("  ORG 3\n  DAT 0\n")


def test_runaway_expansion_is_an_error():
    # Expands to ever more nothing: pMARS would grind through 8**6 expansions.
    names = "abcdefg"
    src = (
        "".join(
            f"{x} EQU " + " ".join([y] * 8) + "\n" for x, y in zip(names, names[1:], strict=False)
        )
        + "g EQU\n  DAT a\n"
    )
    with pytest.raises(AssemblyError, match="runaway"):
        assemble(src)


def test_assemble_file(tmp_path):
    p = tmp_path / "imp.red"
    p.write_text(";name Imp\n  MOV 0, 1\n")
    assert assemble_file(p).name == "Imp"
    with pytest.raises(PrimordiumError, match="no such file"):
        assemble_file(tmp_path / "missing.red")
    with pytest.raises(PrimordiumError, match="directory"):
        assemble_file(tmp_path)


# -- listing ---------------------------------------------------------------------
def test_listing_format():
    w = assemble(";name Imp\n;author Me\nstart MOV 0, 1\n  DAT -1\n  END start\n")
    assert listing(w) == (
        'Program "Imp" (length 2) by "Me"\n\n'
        "       ORG      START\n"
        "START  MOV.I  $     0, $     1     \n"
        "       DAT.F  #     0, $    -1     \n\n"
    )


def test_listing_uses_the_core_size_of_assembly():
    w = assemble("  DAT 401, 400\n", Settings(core_size=800, length=10, distance=10))
    assert "$  -399, $   400" in listing(w)

"""The assembler against the real pMARS 0.9.2: same listing, same verdict."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from primordium.corewar.isa import Op, Settings
from primordium.corewar.redcode import assemble, assemble_file, listing
from primordium.errors import AssemblyError

# `pmars -r 0 FILE` assembles one warrior and plays no round: ROUNDS is 0 and
# WARRIORS is 1 there, so our settings say the same.
DEFAULT = Settings(rounds=0, warriors=1)
SMALL = Settings(core_size=800, length=100, distance=100, rounds=0, warriors=1)
ODD = Settings(
    core_size=1237, cycles=5000, processes=64, length=50, distance=60, rounds=0, warriors=1
)


def run_pmars(pmars: str, path: Path, settings: Settings) -> str | None:
    """pMARS's stdout for one warrior, or None when it rejects the file."""
    args = [pmars, "-r", "0", "-s", str(settings.core_size), "-l", str(settings.length)]
    args += [
        "-d",
        str(settings.distance),
        "-p",
        str(settings.processes),
        "-c",
        str(settings.cycles),
    ]
    # pMARS can crash on long file paths: run it beside the file.
    out = subprocess.run([*args, path.name], capture_output=True, timeout=30, cwd=path.parent)
    try:
        text = out.stdout.decode("utf-8")
    except UnicodeDecodeError:  # a Latin-1 name, as read_text_file reads it
        text = out.stdout.decode("latin-1")
    if out.returncode != 0 or not text.startswith("Program"):
        return None
    return text


def ours(path: Path, settings: Settings) -> str | None:
    try:
        return listing(assemble_file(path, settings))
    except AssemblyError:
        return None


@pytest.mark.parametrize("settings", [DEFAULT, SMALL, ODD], ids=["8000", "800", "1237"])
def test_every_human_warrior_lists_as_pmars(pmars, human_warriors, settings):
    mismatches = []
    for path in human_warriors:
        expected = run_pmars(pmars, path, settings)
        got = ours(path, settings)
        if got != expected:
            mismatches.append(path.name)
    assert not mismatches, mismatches


def test_human_warriors_all_assemble_at_default_settings(human_warriors):
    for path in human_warriors:
        w = assemble_file(path, DEFAULT)
        assert 1 <= w.length <= 100
        assert 0 <= w.start < w.length


# Small sources, one per feature, each compared with pMARS's listing.
FEATURES = {
    "expressions": """
        DAT 1+2*3, 10-2-3
        DAT 1-2*3-4, 2*3+4*5
        DAT 7/2*2, -7/2
        DAT -7%3, 7%-3
        DAT (1+2)*3, -(4-10)
        DAT 1<2, 2<=2
        DAT 3>4, 4>=5
        DAT 1==1, 1!=1
        DAT 1&&0||1, !0
        DAT 2*3==6, 1+1==2&&3
        DAT --5, +-+3
        DAT 8000*3+7, -8001
        DAT 9999*9999, -99999
        DAT 2*3-1*2, 1<2+3
        DAT 1 2, 3  4
        DAT 10/3/2, 100%7%3
        DAT (((1))), !(2-2)
    """,
    "equ_text": """
        x     EQU 1+2
        y     EQU x*2
        step  EQU 5
              DAT 3*x, y
              DAT x, step*step
              MOV #step, @step+1
    """,
    "equ_forward_and_modes": """
              DAT fwd*2, imm
              MOV mode 3, 4
        fwd   EQU 2+3
        imm   EQU #7
        mode  EQU @
    """,
    "equ_multiline_block": """
        pair  EQU  MOV 0, 1
              EQU  DAT #1, #2
        top   pair
              pair
              JMP top
    """,
    "equ_instruction_macro": """
        imp   EQU MOV.I 0, 1
              imp
        dwarf EQU ADD #4, 3
              dwarf
              imp
    """,
    "labels": """
        a b c:  DAT 1, a
        d:
        e       MOV d, e
                JMP a, c
        f       DJN f, b
                SPL last-1
        last    DAT 0, f-last
    """,
    "org_label": """
                ORG start
        data    DAT #0, #0
        start   MOV data, data+2
                JMP start
    """,
    "end_label": """
        data    DAT #0, #0
        go      MOV data, data+2
                JMP go
                END go
    """,
    "org_and_end": """
                ORG 2
                DAT 0
                DAT 1
                JMP 0
                END 1
    """,
    "org_expression_and_end_zero": """
                ORG 4-3
                DAT 0
                SPL 0
                END 0
    """,
    "code_after_end_ignored": """
                MOV 0, 1
                END
                this is not redcode at all
    """,
    "for_counter_and_concat": """
        i       FOR 3
        lbl&i   DAT i, lbl&i
                ROF
                JMP lbl02
    """,
    "for_nested": """
        i       FOR 2
        j       FOR 3
                DAT i, j
                ROF
                ROF
    """,
    "for_zero_skips": """
                FOR 0
                DAT 1, 1
                ROF
                DAT 2, 2
        n       FOR 2-2
                this would not assemble
                ROF
                DAT 3, 3
    """,
    "for_count_expression_and_labels": """
        k       EQU 2
        x y     FOR k*2
                MOV y, x
                ROF
                DAT CURLINE, 0
    """,
    "curline": """
                DAT CURLINE, CURLINE*2
                DAT CURLINE, 0
        i       FOR 3
                DAT CURLINE, i
                ROF
    """,
    "predefined_constants": """
                DAT CORESIZE, MAXPROCESSES
                DAT MAXCYCLES, MAXLENGTH
                DAT MINDISTANCE, VERSION
                DAT WARRIORS, ROUNDS
                DAT PSPACESIZE, CORESIZE-1
    """,
    "all_modes": """
                MOV #1, #2
                MOV $1, $2
                MOV @1, @2
                MOV <1, <2
                MOV >1, >2
                MOV *1, *2
                MOV {1, {2
                MOV }1, }2
                MOV 1, 2
    """,
    "one_operand": """
                DAT 5
                DAT #5
                DAT <5
                JMP 5
                JMP @5
                SPL 5
                NOP 5
                NOP }5
    """,
    "case_insensitive": """
                mOv.aB #1, 2
                dAt.F 1, 2
                SpL 0
                cmp 1, 2
                seq.x 1, 2
                sne.BA 1, 2
    """,
    "every_modifier": """
                MOV.A 1, 2
                MOV.B 1, 2
                MOV.AB 1, 2
                MOV.BA 1, 2
                MOV.F 1, 2
                MOV.X 1, 2
                MOV.I 1, 2
    """,
    "every_opcode": """
                DAT 1, 2
                MOV 1, 2
                ADD 1, 2
                SUB 1, 2
                MUL 1, 2
                DIV 1, 2
                MOD 1, 2
                JMP 1, 2
                JMZ 1, 2
                JMN 1, 2
                DJN 1, 2
                SPL 1, 2
                SLT 1, 2
                CMP 1, 2
                SEQ 1, 2
                SNE 1, 2
                NOP 1, 2
                LDP 1, 2
                STP 1, 2
    """,
    "registers": """
                DAT a=7, a+1
                DAT a, b
                DAT q=a*2, q
    """,
    "negative_and_wrapping_numbers": """
                DAT -1, -4000
                DAT 4000, 4001
                DAT -8000, 16001
                DAT -3999, 3999
    """,
    "assert_true": """
        ;assert CORESIZE == 8000 || CORESIZE == 800 || CORESIZE == 1237
        ;assert MAXLENGTH >= 10
                DAT 0
    """,
    "pin": """
                PIN 12345
                SPL 0
    """,
    "redcode_header_and_names": """
        this text comes before ;redcode and is ignored
        ;name   Spaced   Name
        ;author Some Body
        ;redcode-94
                MOV 0, 1
        ;redcode
                this is after the second ;redcode and ignored
    """,
    "empty_name_and_author": """
        ;name
        ;author
                MOV 0, 1
    """,
    "comments_everywhere": """
        ; a comment line
        start   MOV 0, 1    ; trailing comment
                ; indented comment
                JMP start   ; another
    """,
    "colon_and_tabs": "top:\tMOV.I\t$0,\t$1\n\tJMP\ttop\n",
    "crlf_line_endings": "\r\n".join(["  MOV 0, 1", "x DAT 1, x", "  JMP -1", ""]),
    "continuation_lines": "  MOV 0, \\\n 1\n  DAT 1,\\\n2\n",
    "glued_opcode": """
        code    MOV.I#0,1 ; comment
                DAT.F#3   ; the comment leaves a space
                JMP.B$-1,$0 ; so does this one
                DAT 0
    """,
    "label_on_its_own_line": """
        first
        second:
                MOV first, second
    """,
}


def _dedent(src: str) -> str:
    lines = src.split("\n")
    body = [ln for ln in lines if ln.strip()]
    indent = min((len(ln) - len(ln.lstrip(" ")) for ln in body), default=0)
    return "\n".join(ln[indent:] for ln in lines).strip("\n") + "\n"


def _source(src: str) -> str:
    return _dedent(src) if src.startswith("\n") else src


@pytest.mark.parametrize("settings", [DEFAULT, SMALL, ODD], ids=["8000", "800", "1237"])
@pytest.mark.parametrize("name", sorted(FEATURES))
def test_feature_lists_as_pmars(pmars, tmp_path, name, settings):
    path = tmp_path / f"{name}.red"
    path.write_bytes(_source(FEATURES[name]).encode())
    expected = run_pmars(pmars, path, settings)
    assert expected is not None, f"pMARS rejects the {name} example"
    assert ours(path, settings) == expected


# pMARS oddities: whatever pMARS does (accept with this listing, or reject), we do.
QUIRKS = {
    # An opcode with its operands glued on and nothing after them reads what an
    # earlier line left in pMARS's line buffer.
    "glued_at_line_end": "code    MOV.I#0,1 ; c\n        DAT.F#3\n        JMP.B$-1,$0\n        DAT 0\n",
    "glued_short": "  MOV 0, 1\n  DAT.F#3\n",
    "glued_after_long_line": "; " + "x" * 60 + "\n  SPL.B#1\n  DAT 0\n",
    # A lone '=' compares (pMARS leaves the operator unset; it acts as ==).
    "single_equals": "  DAT 7=37, 7=23\n  DAT 1+7=37, (2=22)*5\n",
    # Lines longer than 255 bytes are read in pieces.
    "long_comment_line": "  MOV 0, 1 ;" + "c" * 300 + "\n  DAT 0\n",
    "long_code_line": "  DAT " + "+".join(["1"] * 140) + "\n",
    # Text pasted from an EQU is not parenthesised.
    "equ_precedence": "x EQU 2+3\n  DAT x*2, 2*x\n",
    # Whitespace between numbers disappears in pass 1.
    "numbers_squeezed": "  DAT 1 2, 3 4\n",
    # A carriage return ends the line, even in the middle.
    "bare_carriage_return": "  MOV 0, 1\r  DAT 0\n  JMP -1\n",
    "assert_bad_expression_is_only_a_warning": ";assert CORESIZE ==\n  DAT 0\n",
    "equ_without_label_ignored": "  EQU 5\n  DAT 0\n",
    "unclosed_for": "  FOR 2\n  DAT 1\n",
    "registers_persist": "  DAT a=5, b=a*2\n  DAT a, b\n;assert c=3\n  DAT c, 0\n",
    "for_65536_is_zero_iterations": "  FOR 65536\n  DAT 1\n  ROF\n",
}


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_quirk_matches_pmars(pmars, tmp_path, name):
    path = tmp_path / f"{name}.red"
    path.write_bytes(QUIRKS[name].encode())
    assert ours(path, DEFAULT) == run_pmars(pmars, path, DEFAULT)


@pytest.mark.parametrize("op", [op.name for op in Op])
def test_default_modifier_for_every_mode_pair(pmars, tmp_path, op):
    lines = [f"  {op} {a}1, {b}2" for a in "#$@<>*{}" for b in "#$@<>*{}"]
    path = tmp_path / f"{op}.red"
    path.write_text("\n".join(lines) + "\n")
    expected = run_pmars(pmars, path, DEFAULT)
    assert expected is not None
    assert ours(path, DEFAULT) == expected


@pytest.mark.parametrize("op", [op.name for op in Op])
def test_one_operand_rule_for_every_opcode(pmars, tmp_path, op):
    path = tmp_path / f"{op}1.red"
    path.write_text(f"  {op} @3\n  DAT 0\n")
    expected = run_pmars(pmars, path, DEFAULT)
    assert ours(path, DEFAULT) == expected


# Sources pMARS rejects, with the line we blame.
ERRORS = {
    "syntax_missing_b": ("  MOV 0, 1\n  MOV 1,\n", 2),
    "missing_operand": ("  DAT 0\n  ADD #1\n", 2),
    "no_operand": ("  DAT 0\n  JMP\n", 2),
    "unknown_opcode": ("  MOV 0, 1\n  FOO 1, 2\n", 2),
    "unknown_modifier": ("  MOV.Z 0, 1\n", 1),
    "undefined_label": ("  MOV 0, 1\n  JMP nowhere\n", 2),
    "bad_mode_in_expression": ("  MOV 1+#2, 0\n", 1),
    "bad_expression": ("  DAT (1+2, 0\n", 1),
    "division_by_zero": ("  DAT 0\n  DAT 1/0, 1\n", 2),
    "modulo_by_zero": ("  DAT 5%(2-2), 1\n", 1),
    "assert_false": ("  DAT 0\n;assert CORESIZE == 55\n", 2),
    "too_long": ("  FOR 101\n  DAT 0\n  ROF\n", 2),
    "recursive_equ": ("a EQU b+1\nb EQU a+1\n  DAT a\n", 2),
    "rof_without_for": ("  DAT 0\n  ROF\n", 2),
    "concat_not_counter": ("x EQU 1\ny&x DAT 0\n", 2),
    "extra_comma": ("  MOV 0, 1, 2\n", 1),
    "stray_symbol": ("  DAT 0\n  DAT 1 ? 2\n", 2),
    "curline_as_label": ("CURLINE DAT 0\n", 1),
    "for_count_bad": ("  FOR 1/0\n  DAT 0\n  ROF\n", 1),
    "too_many_labels": ("a b c d e f g h DAT 0\n", 1),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_pmars_rejects(pmars, tmp_path, name):
    src, line = ERRORS[name]
    path = tmp_path / f"{name}.red"
    path.write_text(src)
    assert run_pmars(pmars, path, DEFAULT) is None, "pMARS accepts this; the test is wrong"
    with pytest.raises(AssemblyError) as info:
        assemble(src, DEFAULT, file=str(path))
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: ")


# Where pMARS only warns but drops or mangles code, we refuse (documented).
DEVIATIONS = {
    "duplicate_label": "x DAT 0\nx DAT 1\n",
    "label_repeated_in_for": "  FOR 2\nlab DAT 0\n  ROF\n",
    "start_outside": "  ORG 5\n  DAT 0\n",
    "empty": "; nothing here\n",
}


@pytest.mark.parametrize("name", sorted(DEVIATIONS))
def test_pmars_warnings_that_we_refuse(pmars, tmp_path, name):
    path = tmp_path / f"{name}.red"
    path.write_text(DEVIATIONS[name])
    done = subprocess.run(
        [pmars, "-r", "0", path.name], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0 and "Warning" in done.stderr
    with pytest.raises(AssemblyError):
        assemble(DEVIATIONS[name], DEFAULT)

"""Any text either assembles to a valid Warrior or raises PrimordiumError.

And, against the real pMARS: mutated human warriors get pMARS's verdict and
pMARS's listing.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordium.corewar.isa import Mod, Op, Settings, Warrior
from primordium.corewar.redcode import assemble, listing
from primordium.errors import AssemblyError, PrimordiumError

ORACLE = Settings(rounds=0, warriors=1)
_TOKEN = re.compile(r"\s+|\w+|.", re.S)
PIECES = [
    "#", "$", "@", "<", ">", "*", "{", "}", ",", ".", ":", ";", "(", ")", "+", "-", "/", "%",
    "==", "!=", "<=", ">=", "&&", "||", "!", "&", "=", "EQU", "FOR", "ROF", "ORG", "END", "PIN",
    "CURLINE", "CORESIZE", "a", "x", "i", "1", "0", "-1", "99999", "\n", "\\\n", "\r", " ", "\t",
    "DAT", "MOV", "SPL", "JMP", "djn", "seq", "cmp", ".ab", ".x", ".i", ";assert 1\n",
    ";redcode\n", "x&i", "i FOR 2\n", "ROF\n", "\n  FOR 0\n", "é", "\x00",
]  # fmt: skip


def check_warrior(w: Warrior, s: Settings) -> None:
    code = w.code
    assert isinstance(w, Warrior)
    assert code.dtype == np.int32 and code.ndim == 2 and code.shape[1] == 6
    assert 1 <= w.length <= s.length
    assert 0 <= w.start < w.length
    assert set(code[:, 0].tolist()) <= {int(op) for op in Op}
    assert set(code[:, 1].tolist()) <= {int(m) for m in Mod}
    for col in (2, 4):
        assert ((code[:, col] >= 0) & (code[:, col] < 8)).all()
    for col in (3, 5):
        assert ((code[:, col] >= 0) & (code[:, col] < s.core_size)).all()
    assert listing(w).startswith("Program ")


def assemble_or_error(src: str, s: Settings = Settings()) -> Warrior | None:
    try:
        w = assemble(src, s, file="fuzz.red")
    except PrimordiumError as e:
        assert "\n" not in str(e)
        return None
    check_warrior(w, s)
    return w


def mutate(src: str, edits: list[tuple[int, float, str]]) -> str:
    toks = _TOKEN.findall(src)
    for kind, where, piece in edits:
        k = int(where * len(toks)) if toks else 0
        if kind == 0 and toks:
            del toks[min(k, len(toks) - 1)]
        elif kind == 1:
            toks.insert(k, piece)
        elif kind == 2 and toks:
            toks[min(k, len(toks) - 1)] = piece
        else:
            text = "".join(toks)
            j = int(where * len(text))
            toks = _TOKEN.findall(text[:j] + piece[:1] + text[j + 1 :])
    return "".join(toks)


edit = st.tuples(
    st.integers(0, 3),
    st.floats(0, 1, exclude_max=True),
    st.one_of(st.sampled_from(PIECES), st.characters(max_codepoint=0x2FF)),
)

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=400))
def test_random_text_never_crashes(src):
    assemble_or_error(src)


@FUZZ
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_random_token_soup_never_crashes(pieces):
    assemble_or_error(" ".join(pieces), Settings(core_size=97, length=20, distance=20))


@FUZZ
@given(data=st.data())
def test_mutated_human_warriors_never_crash(human_warriors, data):
    path = data.draw(st.sampled_from(human_warriors))
    src = path.read_bytes().decode("latin-1")
    edits = data.draw(st.lists(edit, min_size=1, max_size=5))
    assemble_or_error(mutate(src, edits))


# pMARS prints these warnings where we refuse (see test_redcode_oracle).
_OUR_REFUSALS = ("redefinition of label", "outside of the program", "No instructions")

# An expression ending in a lone `&`, `|`, `=` or `!` makes pMARS read past the
# end of its string into what earlier lines left in the buffer: the same line
# assembles or not depending on an unrelated operand before it (oracle-checked:
# `spl @dst, <dst!` fails after `mov fix, -1` and gives `<0` after
# `mov fix, -123456789`). That is undefined, so we refuse it and do not compare.
_PAST_THE_END = re.compile(r"bad expression '.*[&|=!]'$")


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_mutated_human_warriors_match_pmars(pmars, human_warriors, tmp_path_factory, data):
    path = data.draw(st.sampled_from(human_warriors))
    src = mutate(
        path.read_bytes().decode("latin-1"), data.draw(st.lists(edit, min_size=1, max_size=4))
    )
    raw = src.encode("utf-8", "surrogatepass")
    folder = tmp_path_factory.mktemp("m")
    (folder / "m.red").write_bytes(raw)
    try:
        done = subprocess.run(
            [pmars, "-r", "0", "m.red"], capture_output=True, timeout=5, cwd=folder
        )
    except subprocess.TimeoutExpired:
        return  # pMARS hangs on some inputs (huge FOR counts, '\' at end of file)
    expected = done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None
    try:
        got = listing(assemble(src, ORACLE))
    except AssemblyError as e:
        got = None
        if expected is not None and any(w in done.stderr.decode("latin-1") for w in _OUR_REFUSALS):
            return
        if expected is not None and _PAST_THE_END.search(str(e)):
            return
    if expected is not None and not expected.startswith("Program"):
        expected = None  # pMARS's internal "logic error" exit prints on stdout
    assert got == expected, src


@pytest.mark.parametrize(
    "src",
    [
        "\\",
        "  DAT 0\\",
        "  DAT 0 \\\n",
        "\x00",
        "a EQU a\n  DAT a\n",
        "  FOR 1000\n  FOR 1000\n  FOR 1000\n  ROF\n  ROF\n  ROF\n  DAT 0\n",
        "\n".join(f"e{i} EQU e{i + 1}" for i in range(400)) + "\ne400 EQU 1\n  DAT e0\n",
        "  DAT " + "(" * 200 + "1" + ")" * 200 + "\n",
        "  DAT " + "-" * 250 + "1\n",
        "a EQU b b b b b b\nb EQU c c c c c c\nc EQU d d d d d d\nd EQU e e e e e e\ne EQU\n  DAT a 1\n",
        "  DAT 99999999999999999999999999, 1\n",
    ],
)
def test_nasty_inputs_raise_cleanly(src):
    assemble_or_error(src)

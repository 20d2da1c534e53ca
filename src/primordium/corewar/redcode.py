"""The ICWS'94 Redcode assembler, matching pMARS 0.9.2 instruction for instruction.

    assemble(source, settings) -> Warrior
    assemble_file(path, settings) -> Warrior
    listing(warrior) -> str   # what ``pmars -r 0 FILE`` prints for it

The work is split the way pMARS splits it: redcode_lex cuts lines and tokens,
redcode_expand rewrites lines (labels, EQU, FOR/ROF, ;assert), redcode_fields
reads each rewritten instruction, redcode_expr evaluates its operands. Every
mistake in the source is an AssemblyError naming the line; where pMARS merely
warns and then silently drops code (a label defined twice, a start outside the
warrior, no instructions at all) this assembler refuses instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from primordium.corewar.isa import MODE_SYMBOLS, Mod, Op, Settings, Warrior
from primordium.corewar.redcode_expand import (
    ENDOP,
    ORGOP,
    PINOP,
    TEXT,
    Expander,
    ExpandError,
    Node,
    Symbol,
    chain,
)
from primordium.corewar.redcode_expr import DIV_ZERO, OK, Evaluator
from primordium.corewar.redcode_fields import OP_OF, FieldParser
from primordium.corewar.redcode_lex import (
    CHAR,
    COMM,
    SPACE,
    ContinuationAtEnd,
    LineReader,
    byte_view,
    text_view,
    tokenize,
)
from primordium.errors import AssemblyError, ConfigError, read_text_file

__all__ = ["assemble", "assemble_file", "listing"]

PMARS_VERSION = 92  # the VERSION constant pMARS 0.9.2 predefines
PMARS_MAX_INSTR = 1000  # pMARS refuses longer warriors whatever -l says


def assemble(source: str, settings: Settings = Settings(), *, file: str | None = None) -> Warrior:
    """Assemble Redcode source into a Warrior; AssemblyError for any mistake."""
    try:
        ok = int(settings.core_size) == settings.core_size >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(
            f"core_size: value {settings.core_size} is out of range", field="core_size"
        )
    try:
        return _assemble(source, settings, file)
    except ExpandError as e:
        raise AssemblyError(e.message, file=file, line=e.lineno) from None
    except ContinuationAtEnd as e:
        raise AssemblyError(
            "line continued with '\\' at the end of the file", file=file, line=e.lineno
        ) from None
    except RecursionError:
        raise AssemblyError("expressions or EQU definitions nested too deeply", file=file) from None


def assemble_file(path: str | Path, settings: Settings = Settings()) -> Warrior:
    return assemble(read_text_file(path), settings, file=str(path))


class _Header:
    """What the comment lines say, and the lines left to assemble."""

    def __init__(self) -> None:
        self.name = "Unknown"
        self.author = "Anonymous"
        self.strategy: list[str] = []
        self.code: list[tuple[int, str]] = []


def _read(reader: LineReader) -> _Header:
    h = _Header()
    seen_redcode = False
    for lineno, text in reader:
        toks = tokenize(text)
        if not toks:
            continue
        if toks[0][0] != COMM:
            h.code.append((lineno, reader.cut_comment(text, 0)))
            continue
        # A comment starting the line may carry a directive.
        after = toks[0][3]
        word = toks[1] if len(toks) > 1 else None
        key = word[1].upper() if word is not None else ""
        if key == "REDCODE" and word[0] == CHAR and word[2] == after:
            # pMARS ignores everything before the first ;redcode line and
            # stops reading at the second.
            if seen_redcode:
                break
            seen_redcode = True
            h.code = []
            continue
        i = word[3] if word is not None else len(text)
        while i < len(text) and text[i] in SPACE:
            i += 1
        rest = text[i:]
        if key == "NAME":
            h.name = text_view(rest) if rest else "Unknown"
        elif key == "AUTHOR":
            h.author = text_view(rest) if rest else "Anonymous"
        elif key == "STRATEGY":
            h.strategy.append(text_view(rest))
        elif key == "ASSERT":
            h.code.append((lineno, reader.cut_comment(text, i)))
    return h


def _predefined(settings: Settings) -> dict[str, Symbol]:
    values = {
        "CORESIZE": settings.core_size,
        "MAXPROCESSES": settings.processes,
        "MAXCYCLES": settings.cycles,
        "MAXLENGTH": settings.length,
        "MINDISTANCE": settings.distance,
        "VERSION": PMARS_VERSION,
        "WARRIORS": settings.warriors,
        "ROUNDS": settings.rounds,
        "PSPACESIZE": settings.pspace,
    }
    # pMARS substitutes them as text, like an EQU.
    return {
        name: Symbol(TEXT, head=Node(str(value), 0), names=[name]) for name, value in values.items()
    }


def _assemble(source: str, settings: Settings, file: str | None) -> Warrior:
    core = int(settings.core_size)
    reader = LineReader(byte_view(source))
    header = _read(reader)
    symbols = _predefined(settings)
    registers = [0] * 26
    # pMARS sets W and S for its score formula before assembling; the first
    # warrior it assembles can read them (a lone letter is a register).
    registers[ord("W") - 65] = registers[ord("S") - 65] = settings.warriors
    evaluator = Evaluator(registers)
    max_lines = min(settings.length, PMARS_MAX_INSTR)
    expander = Expander(symbols, evaluator, max_lines, reader.scratch)
    expander.run(chain(header.code))

    parser = FieldParser(symbols)
    rows: list[tuple[int, int, int, int, int, int]] = []
    start, pin = 0, None

    def value(text: str, lineno: int) -> int:
        status, v = evaluator.evaluate(text or "0")
        if status == DIV_ZERO:
            raise AssemblyError("division by zero in an expression", file=file, line=lineno)
        if status < OK:
            raise AssemblyError(f"bad expression {text.strip()!r}", file=file, line=lineno)
        return v

    for text, lineno in expander.out:
        parser.line = len(rows)
        f = parser.parse(text, lineno)
        if f.pseudo:
            v = value(f.b_expr, lineno)
            if f.opcode == ORGOP:
                start = v % core
            elif f.opcode == PINOP:
                pin = v
            elif f.opcode == ENDOP and v and not start:
                # pMARS ignores END's address once ORG has set a start (not 0).
                start = v % core
            continue
        a = value(f.a_expr, lineno) % core
        b = value(f.b_expr, lineno) % core
        rows.append((int(OP_OF[f.opcode]), int(f.modifier), int(f.a_mode), a, int(f.b_mode), b))

    if not rows:
        raise AssemblyError("no instructions", file=file, line=None)
    if start >= len(rows):
        raise AssemblyError(
            f"start address {start} (ORG/END) is outside the warrior (length {len(rows)})",
            file=file,
            line=None,
        )
    warrior = Warrior(
        code=np.array(rows, dtype=np.int32).reshape(-1, 6),
        start=start,
        name=header.name,
        author=header.author,
        strategy="\n".join(header.strategy),
        pin=pin,
        file=file,
        source=source,
        core_size=core,
    )
    return warrior


def _signed(x: int, core: int) -> int:
    return x - core if x > core // 2 else x


def listing(warrior: Warrior, core_size: int | None = None) -> str:
    """The warrior exactly as ``pmars -r 0 FILE`` prints it on stdout.

    Numbers above half the core print as negative; the core size is the one
    the warrior was assembled with (``core_size`` overrides it).
    """
    core = core_size or warrior.core_size
    code = np.asarray(warrior.code)
    n = int(code.shape[0])
    out = [f'Program "{warrior.name}" (length {n}) by "{warrior.author}"', ""]
    if 0 <= warrior.start < n:
        out.append("%-6s %3s%3s  %6s" % ("", "ORG", "", "START"))  # noqa: UP031 (pMARS printf)
    for i in range(n):
        op, mod, am, a, bm, b = (int(x) for x in code[i])
        cell = "%3s.%-2s %s%6d, %s%6d %4s" % (  # noqa: UP031 (pMARS printf)
            Op(op).name,
            Mod(mod).name,
            MODE_SYMBOLS[am],
            _signed(a, core),
            MODE_SYMBOLS[bm],
            _signed(b, core),
            "",
        )
        out.append("%-6s %s" % ("START" if i == warrior.start else "", cell))  # noqa: UP031
    out.append("")
    return "\n".join(out) + "\n"

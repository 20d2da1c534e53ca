"""Pass 2 of the assembler: split a rewritten line into opcode, modifier and
the two operands (mode + expression text), as pMARS's field automaton does.

Labels still unknown in pass 1 (forward references) and EQUs defined after
their use are resolved here; a single letter that is no label is left in the
expression as a register. Missing modifiers get pMARS's defaults.
"""

from __future__ import annotations

from primordium.corewar.isa import Mod, Mode, Op
from primordium.corewar.redcode_expand import (
    DEPTH_MAX,
    OPINDEX,
    OPNUM,
    TEXT,
    ExpandError,
    Symbol,
)
from primordium.corewar.redcode_lex import ADDR, CHAR, EXPR, FSEP, MODF, NUMB, tokenize

# Automaton states.
S_OP, S_MOD_ADDR_EXP, S_MODF, S_ADDR_EXP_A, S_EXP_FS, S_ADDR_EXP_B, S_EXPR = range(7)
_RESETS = frozenset((S_OP, S_MOD_ADDR_EXP, S_MODF, S_ADDR_EXP_A, S_ADDR_EXP_B))

MODE_OF = {c: Mode(i) for i, c in enumerate("#$@<>*{}")}
MODIFIERS = {m.name: m for m in Mod}
BUF_MAX = 255

# pMARS opcode index -> Op.
OP_OF = [
    Op.MOV, Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.MOD, Op.JMZ, Op.JMN, Op.DJN, Op.CMP,
    Op.SLT, Op.SPL, Op.DAT, Op.JMP, Op.SEQ, Op.SNE, Op.NOP, Op.LDP, Op.STP,
]  # fmt: skip


def default_modifier(op: Op, a_mode: Mode, b_mode: Mode) -> Mod:
    """pMARS's choice when an instruction has no modifier (ICWS'94 draft rules)."""
    imm = Mode.IMMEDIATE
    if op in (Op.DAT, Op.NOP):
        return Mod.F
    if op in (Op.MOV, Op.CMP, Op.SEQ, Op.SNE):
        return Mod.AB if a_mode == imm else Mod.B if b_mode == imm else Mod.I
    if op in (Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.MOD):
        return Mod.AB if a_mode == imm else Mod.B if b_mode == imm else Mod.F
    if op in (Op.SLT, Op.LDP, Op.STP):
        return Mod.AB if a_mode == imm else Mod.B
    return Mod.B


class Fields:
    """The parts of one instruction line, before its expressions are evaluated."""

    __slots__ = ("opcode", "modifier", "a_mode", "b_mode", "a_expr", "b_expr")

    def __init__(self) -> None:
        self.opcode = -1  # pMARS index (OPINDEX)
        self.modifier: Mod | None = None
        self.a_mode = Mode.DIRECT
        self.b_mode = Mode.DIRECT
        self.a_expr = ""
        self.b_expr = ""

    @property
    def pseudo(self) -> bool:
        return self.opcode >= OPNUM


class FieldParser:
    """pMARS's dfashell/automaton over one assembly's final symbol table."""

    def __init__(self, symbols: dict[str, Symbol]):
        self.symbols = symbols
        self.line = 0  # index of the instruction being parsed
        self.lineno: int | None = None
        self.fine = False  # the last operand read has an expression
        self.depth = 0
        self.f = Fields()

    def fail(self, message: str) -> ExpandError:
        return ExpandError(message, self.lineno)

    def parse(self, text: str, lineno: int) -> Fields:
        self.lineno = lineno
        f = self.f = Fields()
        self.run(text, S_OP)
        if f.opcode < 0:
            raise self.fail("expected an opcode")
        if f.pseudo:
            return f
        name = OP_OF[f.opcode].name
        if not self.fine:
            raise self.fail(f"syntax error in {name}: an operand is missing or incomplete")
        if f.b_expr == "":
            op = OP_OF[f.opcode]
            if op == Op.DAT:
                # A lone DAT operand is the B operand.
                f.b_mode, f.b_expr = f.a_mode, f.a_expr
                f.a_mode, f.a_expr = Mode.IMMEDIATE, "0"
            elif op in (Op.SPL, Op.JMP, Op.NOP):
                f.b_mode, f.b_expr = Mode.DIRECT, "0"
            else:
                raise self.fail(f"{name} needs two operands")
        if f.modifier is None:
            f.modifier = default_modifier(OP_OF[f.opcode], f.a_mode, f.b_mode)
        return f

    def _add(self, which: str, text: str) -> None:
        f = self.f
        cur = f.a_expr if which == "a" else f.b_expr
        if len(cur) + len(text) > BUF_MAX:
            raise self.fail(f"operand longer than {BUF_MAX} characters")
        if which == "a":
            f.a_expr = cur + text
        else:
            f.b_expr = cur + text

    def _substitute(self, sym: Symbol, state: int, name: str) -> int:
        """Feed a symbol's text (EQU) or value (label) through the automaton."""
        if sym.visit:
            raise self.fail(f"recursive EQU: {name!r} refers to itself")
        self.depth += 1
        if self.depth > DEPTH_MAX:
            raise self.fail("EQU definitions nested too deeply")
        if sym.kind == TEXT:
            text = sym.head.text
        elif state == S_EXPR and self.f.pseudo:
            text = str(sym.value)  # ORG/END/PIN take absolute addresses
        else:
            text = str(sym.value - self.line)
        sym.visit = True
        state = self.run(text, state)
        sym.visit = False
        self.depth -= 1
        return state

    def run(self, text: str, state: int) -> int:
        """Process ``text`` from ``state``; return the state it ends in."""
        f = self.f
        toks = tokenize(text)
        i, n = 0, len(toks)
        while True:
            if state in _RESETS:
                self.fine = False
            if i >= n:
                return state
            kind, tok, _s, _e = toks[i]
            if state == S_OP:
                op = OPINDEX.get(tok.upper()) if kind == CHAR else None
                if op is None:
                    raise self.fail(f"expected an opcode, found {tok!r}")
                f.opcode = op
                state = S_MOD_ADDR_EXP if op < OPNUM else S_EXPR
                i += 1
            elif state == S_MODF:
                mod = MODIFIERS.get(tok.upper()) if kind == CHAR else None
                if mod is None:
                    raise self.fail(f"unknown modifier {tok!r}")
                f.modifier = mod
                state = S_ADDR_EXP_A
                i += 1
            elif state in (S_MOD_ADDR_EXP, S_ADDR_EXP_A, S_ADDR_EXP_B):
                b = state == S_ADDR_EXP_B
                after = S_EXPR if b else S_EXP_FS
                if kind == MODF and state == S_MOD_ADDR_EXP:
                    state = S_MODF
                    i += 1
                elif kind == ADDR:
                    if b:
                        f.b_mode = MODE_OF[tok]
                    else:
                        f.a_mode = MODE_OF[tok]
                    state = after
                    i += 1
                elif kind in (NUMB, EXPR):
                    state = after
                elif kind == CHAR:
                    sym = self.symbols.get(tok)
                    if sym is not None:
                        state = self._substitute(sym, state, tok)
                        i += 1
                    elif len(tok) == 1:
                        state = after  # a register
                    else:
                        raise self.fail(f"undefined label {tok!r}")
                elif state == S_MOD_ADDR_EXP:
                    raise self.fail(f"unexpected {tok!r}")
                else:
                    raise self.fail(f"missing {'B' if b else 'A'} operand, found {tok!r}")
            else:  # S_EXP_FS or S_EXPR: inside an expression
                which = "a" if state == S_EXP_FS else "b"
                if kind == FSEP and state == S_EXP_FS:
                    state = S_ADDR_EXP_B
                elif kind == ADDR:
                    if tok not in "<>*":
                        raise self.fail(f"addressing mode {tok!r} inside an expression")
                    self._add(which, tok)
                    self.fine = True
                elif kind == NUMB:
                    self._add(which, tok + " ")
                    self.fine = True
                elif kind == EXPR:
                    self._add(which, tok)
                    self.fine = True
                elif kind == CHAR:
                    sym = self.symbols.get(tok)
                    if sym is not None:
                        state = self._substitute(sym, state, tok)
                        if which == "b":
                            state = S_EXPR
                    elif len(tok) == 1:
                        self._add(which, tok)
                        self.fine = True
                    else:
                        raise self.fail(f"undefined label {tok!r}")
                else:
                    raise self.fail(f"unexpected {tok!r}")
                i += 1

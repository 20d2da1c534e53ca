"""Pass 1 of the assembler: labels, EQU, FOR/ROF and ;assert, as pMARS does it.

pMARS does not build a syntax tree. Its first pass rewrites each source line
into a new line of text: labels it already knows become numbers (relative to
the current instruction), EQU names are replaced by their *text* (so
``x EQU 1+2`` makes ``3*x`` equal 5), FOR blocks are unrolled and label
definitions are recorded. Whitespace between tokens is dropped on the way,
except after an identifier and after the opcode (so ``DAT 1 2`` is ``DAT 12``).
The second pass (redcode_fields) reads operands out of the rewritten lines.
This module reproduces that rewriting; where pMARS only warns but silently
drops or changes code (a label defined twice) it raises instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from primordium.corewar.redcode_expr import DIV_ZERO, OK, Evaluator
from primordium.corewar.redcode_lex import CHAR, COMM, SPACE, tokenize

# What a walk over a line found (pMARS's trav2 results).
SERR, SNIL, SLBL, SVAL, SCOM, SPSE, SFOR, SROF = -1, 0, 1, 2, 3, 4, 5, 6

# Opcode names in pMARS's order; the last three are pseudo-opcodes.
OPNAMES = (
    "MOV", "ADD", "SUB", "MUL", "DIV", "MOD", "JMZ", "JMN", "DJN", "CMP", "SLT",
    "SPL", "DAT", "JMP", "SEQ", "SNE", "NOP", "LDP", "STP", "ORG", "END", "PIN",
)  # fmt: skip
OPINDEX = {name: i for i, name in enumerate(OPNAMES)}
OPNUM = 19  # real opcodes come first
ORGOP, ENDOP, PINOP = 19, 20, 21

GROUP_MAX = 7  # labels one line may carry
STEP_BUDGET = 400_000  # tokens walked before the expansion counts as runaway
DEPTH_MAX = 150  # nested EQU expansions
BUF_MAX = 255  # pMARS's line buffers hold 255 characters

# Symbol kinds.
TEXT, STACK, LABEL = 0, 1, 2


class ExpandError(Exception):
    """A mistake found while expanding; the caller adds file and line."""

    def __init__(self, message: str, lineno: int | None):
        super().__init__(message)
        self.message = message
        self.lineno = lineno


class Node:
    """One line of text in a chain (source lines, or the lines of an EQU)."""

    __slots__ = ("text", "lineno", "next")

    def __init__(self, text: str, lineno: int):
        self.text = text
        self.lineno = lineno
        self.next: Node | None = None


@dataclass
class Symbol:
    kind: int
    value: int = 0
    head: Node | None = None  # TEXT: the first line of its definition
    visit: bool = False  # being expanded (to catch recursive EQUs)
    names: list[str] = field(default_factory=list)


def chain(lines: list[tuple[int, str]]) -> Node | None:
    head = prev = None
    for lineno, text in lines:
        node = Node(text, lineno)
        if prev is None:
            head = node
        else:
            prev.next = node
        prev = node
    return head


class Expander:
    """Runs pass 1 over a chain of source lines."""

    def __init__(
        self,
        symbols: dict[str, Symbol],
        evaluator: Evaluator,
        max_lines: int,
        scratch: bytearray | None = None,
    ):
        self.symbols = symbols
        # pMARS's 256-byte scratch buffer, as the line reader left it.
        self.scratch = scratch if scratch is not None else bytearray(BUF_MAX + 1)
        self.evaluator = evaluator
        self.max_lines = max_lines
        self.out: list[tuple[str, int]] = []  # rewritten lines and where they came from
        self.line = 0  # instructions so far
        self.pending: list[str] = []  # labels waiting for their instruction
        self.dest = ""
        self.aline: Node | None = None
        self.vcont = True  # False after END
        self.skip = 0  # depth of FOR blocks being skipped (count <= 0)
        self.steps = 0
        self.depth = 0
        self.use_line = 0  # source line of the outermost EQU use being expanded

    # -- helpers ---------------------------------------------------------
    def fail(self, message: str) -> ExpandError:
        # Predefined constants have no line of their own (0): blame the use.
        lineno = self.aline.lineno if self.aline is not None else None
        return ExpandError(message, lineno or self.use_line or None)

    def append(self, text: str) -> None:
        if len(self.dest) + len(text) > BUF_MAX:
            raise self.fail(f"line longer than {BUF_MAX} characters after expansion")
        self.dest += text

    def put(self, at: int, text: str) -> None:
        """Write a C string into the scratch buffer (strcpy/sprintf)."""
        data = text.encode("latin-1")[: max(0, BUF_MAX - at)]
        self.scratch[at : at + len(data)] = data
        self.scratch[at + len(data)] = 0

    def emit(self) -> None:
        self.out.append((self.dest, self.aline.lineno))

    def evaluate(self, text: str, what: str) -> int:
        status, value = self.evaluator.evaluate(text)
        if status == DIV_ZERO:
            raise self.fail(f"division by zero in {what}")
        if status < OK:
            raise self.fail(f"bad expression in {what}: {text.strip()!r}")
        return value

    # -- the pass ----------------------------------------------------------
    def run(self, head: Node | None) -> None:
        self.aline = head
        while self.aline is not None and self.vcont:
            self.dest = ""
            result = self.walk(self.aline.text, SNIL)
            if result == SCOM:
                self.emit()
            elif result == SROF:
                raise self.fail("ROF without a matching FOR")
            self.aline = self.aline.next
        # pMARS discards labels left at the end with a warning; so do we.
        self.pending = []

    def walk(self, buf: str, wdecl: int) -> int:
        """Rewrite the tokens of ``buf`` onto ``self.dest`` (pMARS's trav2)."""
        toks = tokenize(buf)
        i, n = 0, len(toks)
        while True:
            self.steps += 1
            if self.steps > STEP_BUDGET:
                raise self.fail("runaway expansion (FOR/EQU) produces too much text")
            if i >= n:
                return wdecl
            kind, text, _start, end = toks[i]
            if kind == COMM:
                if (
                    wdecl == SNIL
                    and self.skip == 0
                    and i + 1 < n
                    and toks[i + 1][0] == CHAR
                    and toks[i + 1][1].upper() == "ASSERT"
                ):
                    self.assertion(buf[toks[i + 1][3] :])
                return wdecl
            if kind != CHAR:
                if self.skip:
                    return SNIL
                if wdecl <= SLBL:
                    raise self.fail(f"unexpected {text!r} (expected a label or an opcode)")
                self.append(text)
                i += 1
                continue
            up = text.upper()
            self.put(0, up)
            if up == "ROF":
                if self.skip:
                    self.skip -= 1
                    return SERR
                if wdecl <= SLBL:
                    return SROF
                raise self.fail("ROF in the wrong place")
            if up == "FOR":
                if self.skip:
                    self.skip += 1
                    return SERR
                if wdecl <= SLBL:
                    return self.block_for(buf[end:])
                raise self.fail("FOR in the wrong place")
            if text == "CURLINE":
                if self.skip:
                    return SNIL
                if wdecl <= SLBL:
                    raise self.fail("CURLINE cannot be a label")
                value = str(self.line) + (" " if end < len(buf) and buf[end] in SPACE else "")
                self.put(0, value)
                self.append(value)
                i += 1
                continue
            if up == "EQU":
                if self.skip:
                    return SNIL
                if wdecl <= SLBL:
                    return self.equ_define(buf[end:])
                raise self.fail("EQU in the wrong place")
            op = OPINDEX.get(up)
            if op is not None:
                if self.skip:
                    return SNIL
                if wdecl > SLBL:
                    raise self.fail(f"opcode {up} in the wrong place")
                return self.instruction(buf, up, op, end)
            if self.skip:
                i += 1
                wdecl = SNIL
                continue
            # An identifier: maybe glued to FOR counters with '&'.
            name, k = text, end
            while (
                k + 1 < len(buf) and buf[k] == "&" and buf[k + 1].isascii() and buf[k + 1].isalpha()
            ):
                part = tokenize(buf[k + 1 :])[0]
                sym = self.symbols.get(part[1])
                if sym is None or sym.kind != STACK:
                    raise self.fail(f"cannot concatenate {part[1]!r}: not a FOR counter")
                self.put(0, part[1])
                self.put(0, f"{sym.value:02d}")
                name += f"{sym.value:02d}"
                if len(name) > BUF_MAX:
                    raise self.fail(f"line longer than {BUF_MAX} characters after expansion")
                k += 1 + part[3]
            sym = self.symbols.get(name)
            if sym is not None:
                if sym.kind == TEXT:
                    if sym.visit:
                        raise self.fail(f"recursive EQU: {name!r} refers to itself")
                    return self.equ_use(buf[k:], wdecl, sym)
                if wdecl <= SLBL:
                    raise self.fail(f"label {name!r} is already defined")
                if sym.kind == STACK:
                    value = f"{sym.value:02d}"
                elif wdecl == SPSE:
                    value = str(sym.value)
                else:
                    value = str(sym.value - self.line)
                value += " " if k < len(buf) and buf[k] in SPACE else ""
                self.put(0, value)
                self.append(value)
            elif wdecl <= SLBL:
                if len(self.pending) >= GROUP_MAX:
                    raise self.fail(f"too many labels on one line (at {name!r})")
                self.pending.append(name)
                if k < len(buf) and buf[k] == ":":
                    k += 1
                wdecl = SLBL
            else:
                self.append(name + (" " if k < len(buf) and buf[k] in SPACE else ""))
            if k == end:
                i += 1
            else:
                buf = buf[k:]
                toks = tokenize(buf)
                i, n = 0, len(toks)

    def instruction(self, buf: str, up: str, op: int, end: int) -> int:
        # The opcode keeps whatever is glued to it ('.AB', '#1,2'...) verbatim.
        j = end
        while j < len(buf) and buf[j] not in SPACE:
            j += 1
        glued = buf[end:j]
        if j < len(buf):
            self.put(len(up), glued + " ")
            self.append(up + glued + " ")
        else:
            # pMARS copies the glued text into its scratch buffer without a
            # terminating NUL when the line ends there, so whatever an earlier
            # line left in the buffer after it is read as part of this line.
            at = len(up) + len(glued)
            self.scratch[len(up) : at] = glued.encode(
                "latin-1"
            )  # same length: lines fit the buffer
            stale = self.scratch[at:]
            cut = stale.find(0)
            stale = stale if cut < 0 else stale[:cut]
            self.append(up + glued + stale.decode("latin-1"))
        result = self.walk(buf[j:], SVAL if op < OPNUM else SPSE)
        if result == SERR:
            return SERR
        self.define_pending(self.line)
        if op < OPNUM:
            self.line += 1
            if self.line > self.max_lines:
                raise self.fail(f"warrior is longer than the maximum length {self.max_lines}")
        elif op == ENDOP:
            self.vcont = False
        return SCOM

    def define_pending(self, value: int) -> None:
        if self.pending:
            sym = Symbol(LABEL, value=value, names=self.pending)
            for name in self.pending:
                self.symbols[name] = sym
            self.pending = []

    def assertion(self, rest: str) -> None:
        self.walk(rest, SVAL)
        status, value = self.evaluator.evaluate(self.dest)
        # pMARS only warns about an ;assert it cannot evaluate.
        if status >= OK and value == 0:
            raise self.fail(f"assertion failed: {rest.strip()}")

    def block_for(self, rest: str) -> int:
        counter = None
        if self.pending:
            counter = self.pending[-1]
            others = self.pending[:-1]
            self.pending = others
            self.define_pending(self.line)
            self.pending = []
        self.dest = ""
        self.walk(rest, SVAL)
        count = self.evaluate(self.dest, "FOR count")
        if count <= 0:
            self.skip += 1
            return SFOR
        sym = Symbol(STACK, value=1, names=[counter] if counter else [])
        if counter:
            self.symbols[counter] = sym
        first = self.aline
        limit = count & 0xFFFF  # pMARS counts in an unsigned short
        while self.vcont and sym.value <= limit and self.aline is not None:
            self.aline = first
            while self.vcont:
                if self.aline.next is None:
                    # pMARS warns and stops at the end of the file.
                    self.vcont = False
                    break
                self.aline = self.aline.next
                self.dest = ""
                result = self.walk(self.aline.text, SNIL)
                if result == SROF:
                    break
                if result == SCOM:
                    self.emit()
            sym.value += 1
        if counter and self.symbols.get(counter) is sym:
            del self.symbols[counter]
        return SFOR

    def equ_define(self, rest: str) -> int:
        if not self.pending:
            return SVAL  # pMARS ignores an EQU without a label, with a warning
        sym = Symbol(TEXT, names=self.pending)
        for name in self.pending:
            self.symbols[name] = sym
        self.pending = []
        sym.head = last = Node(rest, self.aline.lineno)
        # Following lines that start with EQU continue the definition.
        while self.aline.next is not None:
            toks = tokenize(self.aline.next.text)
            if not toks or toks[0][0] != CHAR or toks[0][1].upper() != "EQU":
                break
            self.aline = self.aline.next
            last.next = Node(self.aline.text[toks[0][3] :], self.aline.lineno)
            last = last.next
        return SVAL

    def equ_use(self, rest: str, wdecl: int, sym: Symbol) -> int:
        self.depth += 1
        if self.depth > DEPTH_MAX:
            raise self.fail("EQU definitions nested too deeply")
        sym.visit = True
        caller = self.aline
        if caller.lineno:
            self.use_line = caller.lineno
        self.aline = sym.head
        wdecl = self.walk(self.aline.text, wdecl)
        # A multi-line EQU emits every line but its last, which the use continues.
        while self.aline.next is not None and self.vcont:
            if self.skip == 0 and wdecl == SCOM:
                self.emit()
            self.aline = self.aline.next
            self.dest = ""
            wdecl = self.walk(self.aline.text, SNIL)
        self.aline = caller
        if rest and rest[0] in SPACE and len(self.dest) < BUF_MAX:
            self.dest += " "
        sym.visit = False
        self.depth -= 1
        return self.walk(rest, wdecl)

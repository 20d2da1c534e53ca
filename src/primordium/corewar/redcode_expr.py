"""pMARS 0.9.2's expression evaluator, quirks included.

pMARS evaluates operands with a hand-written precedence climber whose
associativity is not always the textbook one: ``1-2*3-4`` is -1 there, not -9,
because after a higher-precedence operator it folds the rest of the expression
to the right. Warriors are tuned against pMARS, so the assembler reproduces
its results rather than ordinary arithmetic. Other pMARS behaviour kept here:

- 64-bit C ``long`` arithmetic (wrapping), C division and remainder
  (truncating toward zero);
- 26 registers ``a``..``z`` (case-insensitive): a lone letter that is not a
  label reads one, ``a=expr`` assigns one; they persist across the lines of
  one assembly;
- ``!`` is logical not; ``==`` ``!=`` ``<`` ``>`` ``<=`` ``>=`` ``&&`` ``||``
  give 0 or 1.
"""

from __future__ import annotations

OK, OVERFLOW, BAD, DIV_ZERO = 0, 1, -1, -2

# Two-character operators are coded below any printable character, as in pMARS
# (a control character in an expression therefore reads as one of them).
EQUAL, NEQU, GTE, LTE, AND, OR, IDENT = range(7)

LONG_MAX = (1 << 63) - 1
LONG_MIN = -(1 << 63)
_SPACE = " \t\n\v\f\r"


def _wrap(x: int) -> int:
    return ((x - LONG_MIN) & 0xFFFFFFFFFFFFFFFF) + LONG_MIN


def _prec(op: int) -> int:
    if op in (42, 47, 37):  # * / %
        return 5
    if op in (43, 45):  # + -
        return 4
    if op in (62, 60, EQUAL, NEQU, GTE, LTE):
        return 3
    if op == AND:
        return 2
    if op == OR:
        return 1
    return 0


class _Bad(Exception):
    """The expression is already an error; nothing later can repair it."""


class Evaluator:
    """Evaluates pMARS expressions against one assembly's registers."""

    def __init__(self, registers: list[int] | None = None):
        self.registers = registers if registers is not None else [0] * 26
        self._err = OK
        self._save = 0
        self._s = ""

    def evaluate(self, text: str) -> tuple[int, int]:
        """(status, value): status is OK, OVERFLOW (a warning), BAD or DIV_ZERO."""
        self._err = OK
        self._save = 0
        self._s = text + "\x00"
        try:
            pos, value = self._eval(-1, 0, IDENT, 0)
        except _Bad:
            return BAD, 0
        except RecursionError:
            return BAD, 0
        if self._s[pos] != "\x00":
            return BAD, 0
        if self._err == DIV_ZERO:
            return DIV_ZERO, 0
        return self._err, value

    def _skip(self, pos: int) -> int:
        s = self._s
        while s[pos] in _SPACE and s[pos] != "\x00":
            pos += 1
        return pos

    def _calc(self, x: int, y: int, op: int) -> int:
        if op == 43:  # +
            z = x + y
        elif op == 45:  # -
            z = x - y
        elif op == 42:  # *
            z = x * y
        elif op == 47:  # /
            if y == 0:
                self._err = DIV_ZERO
                return 0
            q = abs(x) // abs(y)
            z = q if (x < 0) == (y < 0) else -q
        elif op == 37:  # %
            if y == 0:
                self._err = DIV_ZERO
                return 0
            r = abs(x) % abs(y)
            z = -r if x < 0 else r
        elif op == AND:
            return int(bool(x) and bool(y))
        elif op == OR:
            return int(bool(x) or bool(y))
        elif op == EQUAL:
            return int(x == y)
        elif op == NEQU:
            return int(x != y)
        elif op == 60:  # <
            return int(x < y)
        elif op == 62:  # >
            return int(x > y)
        elif op == LTE:
            return int(x <= y)
        elif op == GTE:
            return int(x >= y)
        elif op == IDENT:
            return y
        else:
            raise _Bad
        if z > LONG_MAX or z < LONG_MIN:
            if self._err == OK:
                self._err = OVERFLOW
            z = _wrap(z)
        return z

    def _getop(self, pos: int) -> tuple[int, int]:
        s = self._s
        ch = s[pos]
        pos += 1
        if ch in "&|=!":
            nxt = s[pos]
            pos += 1 if nxt != "\x00" else 0
            want = {"&": ("&", AND), "|": ("|", OR), "=": ("=", EQUAL), "!": ("=", NEQU)}[ch]
            if nxt == want[0]:
                return pos, want[1]
            if nxt == "\x00":
                # pMARS steps past the string's end here; the result is an error.
                raise _Bad
            # pMARS consumes the second character anyway and leaves the operator
            # unset; the compiled pMARS then compares for equality (oracle-checked:
            # "7=37" is 1, "7=23" is 0).
            return pos, EQUAL
        if ch in "<>":
            if s[pos] == "=":
                return pos + 1, LTE if ch == "<" else GTE
            return pos, ord(ch)
        return pos, ord(ch)

    def _getval(self, pos: int) -> tuple[int, int]:
        pos = self._skip(pos)
        s = self._s
        ch = s[pos]
        if ch == "(":
            pos, val = self._eval(-1, 0, IDENT, pos + 1)
            if s[pos] != ")":
                raise _Bad
            return pos + 1, val
        if ch == "-":
            pos, val = self._getval(pos + 1)
            return pos, _wrap(-val)
        if ch == "!":
            pos, val = self._getval(pos + 1)
            return pos, 0 if val else 1
        if ch == "+":
            return self._getval(pos + 1)
        up = ch.upper() if ch.isascii() else ch
        if "A" <= up <= "Z":
            return self._getreg(pos + 1, ord(up) - 65)
        start = pos
        while "0" <= s[pos] <= "9":
            pos += 1
        if pos == start:
            raise _Bad  # no digits
        val = int(s[start:pos])
        # sscanf("%ld") saturates.
        return pos, min(val, LONG_MAX)

    def _getreg(self, pos: int, reg: int) -> tuple[int, int]:
        pos = self._skip(pos)
        s = self._s
        if s[pos] == "=" and s[pos + 1] != "=":
            pos, val = self._eval(-1, 0, IDENT, pos + 1)
            self.registers[reg] = val
            return pos, val
        return pos, self.registers[reg]

    def _eval(self, prev_prec: int, val1: int, op1: int, pos: int) -> tuple[int, int]:
        pos, val2 = self._getval(pos)
        pos = self._skip(pos)
        ch = self._s[pos]
        if ch == ")" or ch == "\x00":
            return pos, self._calc(val1, val2, op1)
        pos, op2 = self._getop(pos)
        self._save = 0
        prec1, prec2 = _prec(op1), _prec(op2)
        if prec1 >= prec2:
            if prec2 >= prev_prec or prec1 <= prev_prec:
                pos, result = self._eval(prec1, self._calc(val1, val2, op1), op2, pos)
            else:
                result = self._calc(val1, val2, op1)
                self._save = op2
        else:
            pos, result2 = self._eval(prec1, val2, op2, pos)
            result = self._calc(val1, result2, op1)
            # EQUAL is coded 0, the same as "nothing saved": pMARS drops it too.
            if self._save and _prec(self._save) >= prev_prec:
                pos, result = self._eval(prec2, result, self._save, pos)
                self._save = 0
        return pos, result

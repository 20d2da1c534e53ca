"""The Redcode instruction set as numbers, and the settings every engine shares.

An assembled warrior is an int32 array of shape (length, 6):
``[opcode, modifier, a_mode, a_number, b_mode, b_number]`` with numbers already
reduced to 0..coresize-1, the form the MARS kernel consumes directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

import numpy as np

# The largest value a 32-bit word of the kernel holds (pMARS keeps these in C ints).
INT32_MAX = 2**31 - 1


class Op(IntEnum):
    DAT = 0
    MOV = 1
    ADD = 2
    SUB = 3
    MUL = 4
    DIV = 5
    MOD = 6
    JMP = 7
    JMZ = 8
    JMN = 9
    DJN = 10
    SPL = 11
    SLT = 12
    SEQ = 13
    SNE = 14
    NOP = 15
    LDP = 16
    STP = 17
    # CMP behaves exactly as SEQ but stays a distinct opcode, as in pMARS: it
    # lists as CMP and a CMP.I/SEQ.I comparison of the two cells differs.
    CMP = 18


class Mod(IntEnum):
    A = 0
    B = 1
    AB = 2
    BA = 3
    F = 4
    X = 5
    I = 6  # noqa: E741  (the standard's name)


class Mode(IntEnum):
    IMMEDIATE = 0  # #
    DIRECT = 1  # $
    B_INDIRECT = 2  # @
    B_PREDEC = 3  # <
    B_POSTINC = 4  # >
    A_INDIRECT = 5  # *
    A_PREDEC = 6  # {
    A_POSTINC = 7  # }


MODE_SYMBOLS = "#$@<>*{}"
OPCODE_NAMES = {op.name: op for op in Op}
MODIFIER_NAMES = {m.name: m for m in Mod}

# Field indices of an instruction row.
OP, MOD, AMODE, ANUM, BMODE, BNUM = range(6)


@dataclass(frozen=True)
class Settings:
    """A MARS configuration. Defaults are the ICWS'94 hill values DRQ uses."""

    core_size: int = 8000
    cycles: int = 80000
    processes: int = 8000
    length: int = 100
    distance: int = 100
    rounds: int = 1
    warriors: int = 2
    pspace_size: int | None = None  # None: pMARS's default, CORESIZE/16 for the usual cores

    @property
    def pspace(self) -> int:
        if self.pspace_size is not None:
            return self.pspace_size
        # pMARS: CORESIZE/k for the largest k <= 16 that divides the core.
        for k in range(16, 0, -1):
            if self.core_size % k == 0:
                return self.core_size // k
        return self.core_size  # unreachable: k = 1 always divides

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def validate(self) -> Settings:
        from primordium.errors import ConfigError

        # The kernel holds addresses, counters and round numbers in 32-bit words.
        top = INT32_MAX
        checks = [
            ("core_size", 2 <= self.core_size <= top),
            ("cycles", 1 <= self.cycles <= top),
            ("processes", 1 <= self.processes <= top),
            ("length", 1 <= self.length <= self.core_size),
            ("distance", 0 <= self.distance <= self.core_size),
            ("rounds", 1 <= self.rounds <= top),
            ("warriors", 1 <= self.warriors <= top),
        ]
        for name, ok in checks:
            if not ok:
                raise ConfigError(
                    f"{name}: value {getattr(self, name)} is out of range", field=name
                )
        if self.warriors * self.distance > self.core_size:
            raise ConfigError(
                f"distance: {self.warriors} warriors at minimum distance {self.distance} "
                f"do not fit in a core of {self.core_size}",
                field="distance",
            )
        return self


@dataclass
class Warrior:
    """An assembled warrior: code plus where it starts and who wrote it."""

    code: np.ndarray  # int32[length, 6]
    start: int = 0  # offset of the first instruction to execute
    name: str = "Unknown"
    author: str = "Anonymous"
    strategy: str = ""
    pin: int | None = None  # P-space identifier; warriors sharing a PIN share P-space
    file: str | None = None
    source: str = field(default="", repr=False)
    core_size: int = 8000  # the core the numbers were reduced for

    @property
    def length(self) -> int:
        return int(self.code.shape[0])

    def __repr__(self) -> str:
        # The code would fill a screen; its listing is `primordium corewar assemble`.
        return (
            f"Warrior({self.name!r} by {self.author!r}, {self.length} instructions, "
            f"start {self.start}, core {self.core_size})"
        )

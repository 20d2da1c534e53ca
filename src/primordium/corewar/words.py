"""The MARS's instruction words and numbers, without numba.

What the kernel in ``mars.py`` and its callers share: how an instruction is
packed into one int, the opcode/modifier/mode numbers, and pMARS's
generator modulus. It lives apart from the kernel so that code which only
packs warriors or reads a core (the battle wrapper, on the ahead-of-time
path) never imports numba.
"""

from __future__ import annotations

import numpy as np

# Instruction word layout: opcode, modifier and both modes packed in one int so
# that copying or comparing a whole instruction word is a single operation.
OP_SHIFT = 9
MOD_SHIFT = 6
AMODE_SHIFT = 3

# Opcode numbers (must match isa.Op).
DAT, MOV, ADD, SUB, MUL, DIV, MOD, JMP, JMZ, JMN, DJN, SPL, SLT, SEQ, SNE, NOP, LDP, STP, CMP = (
    range(19)
)
# Modifiers (isa.Mod).
M_A, M_B, M_AB, M_BA, M_F, M_X, M_I = range(7)
# Modes (isa.Mode).
IMMEDIATE, DIRECT, B_INDIRECT, B_PREDEC, B_POSTINC, A_INDIRECT, A_PREDEC, A_POSTINC = range(8)

# The empty core holds DAT.F $0, $0.
EMPTY_WORD = (DAT << OP_SHIFT) | (M_F << MOD_SHIFT) | (DIRECT << AMODE_SHIFT) | DIRECT

RNG_MODULUS = 2147483647


def pack_code(code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split int32[n, 6] rows into (word, a_number, b_number) arrays."""
    code = np.asarray(code, dtype=np.int64)
    word = (
        (code[:, 0] << OP_SHIFT)
        | (code[:, 1] << MOD_SHIFT)
        | (code[:, 2] << AMODE_SHIFT)
        | code[:, 4]
    )
    return word.astype(np.int32), code[:, 3].astype(np.int32), code[:, 5].astype(np.int32)

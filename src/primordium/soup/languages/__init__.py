"""The soup's languages: one numba kernel per family (BFF, Forth, SUBLEQ), behind one parallel batch runner.

``run_batch(lang_id, tapes, max_steps)`` runs every row of ``tapes`` (uint8[P, 2L])
in place, in parallel over rows, and returns the ops executed per row; numba
compiles each language's kernel on its first use (``for_language``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

from primordium.errors import ConfigError
from primordium.soup.languages import bff, forth, subleq
from primordium.soup.threads import MIN_TAPES, in_blocks

(
    BFF_NOHEADS,
    BFF,
    FORTH,
    SUBLEQ,
    RSUBLEQ4,
    FORTH_TRIVIAL,
    BFF8,
    BFF8_NOHEADS,
    BFF_NOHEADS_4BIT,
    BFF_PERM,
    BFF_SELFMOVE,
    FORTHCOPY,
    FORTH_TRIVIAL_RESET,
) = range(13)

# Numba's on-disk cache keys a function on its own file only: after editing a
# kernel module, delete __pycache__/*.nbi here too, or these dispatchers keep
# the old kernel compiled in (the kernel-vs-tracer tests catch it).

# Each language's interpreter with its variant as a compile-time constant.
_KERNELS = {
    BFF_NOHEADS: (bff.run, bff.BFF_NOHEADS),
    BFF: (bff.run, bff.BFF),
    BFF8: (bff.run, bff.BFF8),
    BFF8_NOHEADS: (bff.run, bff.BFF8_NOHEADS),
    BFF_NOHEADS_4BIT: (bff.run, bff.BFF_NOHEADS_4BIT),
    BFF_PERM: (bff.run, bff.BFF_PERM),
    BFF_SELFMOVE: (bff.run, bff.BFF_SELFMOVE),
    FORTH: (forth.run, forth.FORTH),
    FORTH_TRIVIAL: (forth.run, forth.FORTHTRIVIAL),
    FORTHCOPY: (forth.run, forth.FORTHCOPY),
    FORTH_TRIVIAL_RESET: (forth.run, forth.FORTHTRIVIAL_RESET),
    SUBLEQ: (subleq.run_subleq, None),
    RSUBLEQ4: (subleq.run_rsubleq4, None),
}


def run_tape(lang_id, tape, max_steps, stack):
    """Run one tape in place with language ``lang_id``; return ops executed.

    ``stack`` is scratch for the Forth family (``forth.STACK`` bytes). The
    CPU batch runner below, the self-replication test and the CUDA kernels
    (soup/gpu.py) all call this one function. In compiled code it is the
    overload below; called from Python (and from kernels under the CUDA
    simulator) it runs the language's batch kernel on a batch of one.
    """
    ops = np.zeros(1, dtype=np.int64)
    for_language(lang_id)(tape[np.newaxis], max_steps, ops)  # a view: the tape runs in place
    return ops[0]


def _one_language(lang_id: int):
    run, variant = _KERNELS[lang_id]
    if run is forth.run:

        def impl(lang_id, tape, max_steps, stack):
            return forth.run(tape, max_steps, variant, stack)

    elif run is bff.run:

        def impl(lang_id, tape, max_steps, stack):
            return bff.run(tape, max_steps, variant)

    else:

        def impl(lang_id, tape, max_steps, stack):
            return run(tape, max_steps)

    return impl


@overload(run_tape, prefer_literal=True, target="generic")
def _run_tape_overload(lang_id, tape, max_steps, stack):
    """The one interpreter of language ``lang_id``, which must be a compile-time constant.

    The families' ``run`` are inlined with their variant as constants; one
    switch over all 13 took numba 22-40 s to compile, against about 1 s for
    one language (measured on the 2-core machine). A kernel gets a constant
    language by being made per language with ``lang_id`` in its closure
    (numba types a closure's integer as a literal; see ``for_language``),
    and passes it on to the njit functions it calls.
    """
    if not isinstance(lang_id, types.IntegerLiteral):
        raise TypingError(
            "run_tape needs the language as a compile-time constant "
            f"(a closure's integer), got {lang_id}"
        )
    return _one_language(lang_id.literal_value)


@njit(cache=True, nogil=True)
def run_tapes(lang_id, tapes, max_steps, ops):
    stack = np.empty(forth.STACK, dtype=np.uint8)
    for i in range(tapes.shape[0]):
        ops[i] = run_tape(lang_id, tapes[i], max_steps, stack)


@functools.cache
def for_language(lang_id: int):
    """``batch(tapes, max_steps, ops)``: run each row of ``tapes``, ops into ``ops``, for one language.

    ``lang_id`` is a closure constant, which numba types as a literal, so it
    compiles one interpreter; numba caches the kernel on disk per language
    (its cache key includes a closure's values). It fills ``ops`` rather
    than returning an array: numba's boxing of a returned array is not safe
    on first calls from several threads at once ("NRT_adapt_ndarray_to_python:
    descr is NULL", seen with Forth).
    """

    @njit(cache=True, nogil=True)
    def batch(tapes, max_steps, ops):
        run_tapes(lang_id, tapes, max_steps, ops)

    return batch


def run_batch(lang_id: int, tapes: np.ndarray, max_steps: int) -> np.ndarray:
    """Run every tape in place (on every core when the batch is large); return ops per tape."""
    batch = for_language(lang_id)
    count = tapes.shape[0]
    ops = np.zeros(count, dtype=np.int64)
    in_blocks(count, lambda lo, hi: batch(tapes[lo:hi], max_steps, ops[lo:hi]), MIN_TAPES)
    return ops


@dataclass(frozen=True)
class Language:
    name: str
    id: int
    summary: str
    tracer: Callable[[np.ndarray], object]
    render: Callable[[np.ndarray], str]
    colors: Callable[[], np.ndarray]
    # How `soup exec/inspect` show a program: op characters or hex.
    text_form: str


def _bff(name: str, lang_id: int, variant: bff.Variant, summary: str) -> Language:
    return Language(
        name,
        lang_id,
        summary,
        lambda t: bff.Tracer(t, variant),
        lambda p: bff.render(p, variant),
        lambda: bff.colors(variant),
        "ops",
    )


def _forth(name: str, lang_id: int, variant: forth.Variant, summary: str) -> Language:
    return Language(
        name,
        lang_id,
        summary,
        lambda t: forth.Tracer(t, variant),
        forth.render,
        lambda: forth.colors(variant),
        "hex",
    )


# cubff's 13 languages, by cubff's names; each family module defines the variants.
LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        _bff(
            "bff_noheads",
            BFF_NOHEADS,
            bff.BFF_NOHEADS,
            "BFF, ip and both heads start at 0 (the paper's default)",
        ),
        _bff("bff", BFF, bff.BFF, "BFF, heads start at tape[0] and tape[1], ip at 2"),
        _bff("bff8", BFF8, bff.BFF8, "bff whose [ and ] jump 8 bytes instead of to their partner"),
        _bff(
            "bff8_noheads", BFF8_NOHEADS, bff.BFF8_NOHEADS, "bff_noheads whose [ and ] jump 8 bytes"
        ),
        _bff(
            "bff_noheads_4bit",
            BFF_NOHEADS_4BIT,
            bff.BFF_NOHEADS_4BIT,
            "bff_noheads on the low 4 bits of each byte (ops 6-F, zero = low nibble 0)",
        ),
        _bff("bff_perm", BFF_PERM, bff.BFF_PERM, "bff with the ops on bytes 1-10"),
        _bff(
            "bff_selfmove",
            BFF_SELFMOVE,
            bff.BFF_SELFMOVE,
            "bff with seven ops on bytes 0-6; the copy moves its source head",
        ),
        _forth("forth", FORTH, forth.FORTH, "byte-coded Forth stack machine"),
        _forth(
            "forthtrivial",
            FORTH_TRIVIAL,
            forth.FORTHTRIVIAL,
            "Forth plus one-byte copy instructions (0C, 0D)",
        ),
        _forth(
            "forthtrivial_reset",
            FORTH_TRIVIAL_RESET,
            forth.FORTHTRIVIAL_RESET,
            "forthtrivial whose writes onto a 0x13 byte reset the first program",
        ),
        _forth(
            "forthcopy",
            FORTHCOPY,
            forth.FORTHCOPY,
            "Forth with whole-tape read, write, copy and xor (00-03)",
        ),
        Language(
            "subleq",
            SUBLEQ,
            "SUBLEQ, absolute addresses, 3-byte instructions",
            lambda t: subleq.Tracer(t, relative=False),
            subleq.render,
            subleq.colors,
            "hex",
        ),
        Language(
            "rsubleq4",
            RSUBLEQ4,
            "relative SUBLEQ with 4-byte instructions",
            lambda t: subleq.Tracer(t, relative=True),
            subleq.render,
            subleq.colors,
            "hex",
        ),
    )
}


def get_language(name: str) -> Language:
    try:
        return LANGUAGES[name]
    except KeyError:
        raise ConfigError(
            f"unknown language {name!r} (choose from {', '.join(LANGUAGES)})"
        ) from None


def execute(
    lang: str | Language, tape: np.ndarray, max_steps: int = 8192
) -> tuple[np.ndarray, int]:
    """Run one tape with the fast kernel; return (final tape, ops). The input is not modified."""
    language = lang if isinstance(lang, Language) else get_language(lang)
    out = np.array(tape, dtype=np.uint8).copy()
    ops = run_tape(language.id, out, int(max_steps), np.empty(forth.STACK, dtype=np.uint8))
    return out, int(ops)


def trace(lang: str | Language, tape: np.ndarray, max_steps: int = 8192):
    """Yield the machine's state before each step, then the final state (``final`` = True)."""
    language = lang if isinstance(lang, Language) else get_language(lang)
    machine = language.tracer(np.array(tape, dtype=np.uint8))
    while not machine.halted and machine.steps < max_steps:
        state = machine.state()
        state["op"] = machine.describe(int(machine.tape[machine.ip]))
        state["tape"] = machine.tape.copy()
        yield state
        machine.step()
    final = machine.state()
    final["final"] = True
    final["tape"] = machine.tape.copy()
    yield final

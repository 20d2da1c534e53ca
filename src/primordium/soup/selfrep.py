"""cubff's self-replication test, computed the way cubff's ``eval_selfrep`` computes it.

For each program: 13 noise programs are drawn. For each noise, the tape
``program + noise`` runs, then four more times the tape ``(right half) + noise``
runs (the child is made to copy itself into the same noise again). Of the 13
final tapes, a position of the left half *holds* if at least 4 of the tapes
agree there on the program's own byte; a position of the right half holds if
at least 4 tapes agree on any one byte (noise differs between the 13, so
agreement means the byte was written there by the program's lineage). The
score is the smaller of the two halves' counts of holding positions, and a
program is a self-replicator when its score is at least 5.

The noise bytes come from SplitMix64 of (seed, epoch, soup size, program
index) exactly as in cubff, so on the same soup bytes the scores are cubff's.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from primordium.soup.cubff_draws import base_seed, stream
from primordium.soup.languages import Language, forth, get_language, run_tape
from primordium.soup.languages.splitmix import splitmix64
from primordium.soup.threads import in_blocks

SELFREP_THRESHOLD = 5  # cubff's kSelfrepThreshold
NOISE_TAPES = 13
EXTRA_GENERATIONS = 4


def stream_seed(seed, k):
    """cubff's seed(k) for a run seeded with ``seed``: one independent stream per k."""
    return stream(base_seed(seed), k)


@njit(cache=True, nogil=True)
def _score(lang_id, prog, slot, base, total, max_steps):
    length = prog.shape[0]
    local = splitmix64(np.uint64(total) * base + np.uint64(slot))
    finals = np.zeros((NOISE_TAPES, 2 * length), dtype=np.uint8)
    noise = np.empty(length, dtype=np.uint8)
    stack = np.empty(forth.STACK, dtype=np.uint8)
    for i in range(NOISE_TAPES):
        for j in range(length):
            noise[j] = np.uint8(
                splitmix64(local ^ splitmix64(np.uint64((i + 1) * length + j))) & np.uint64(255)
            )
        tape = finals[i]
        # Generation 0 runs program + noise; each later one, child + the same noise.
        # Byte loops, not slice assignments: numba compiles them in a third of the time.
        for g in range(EXTRA_GENERATIONS + 1):
            for j in range(length):
                tape[j] = prog[j] if g == 0 else tape[length + j]
                tape[length + j] = noise[j]
            run_tape(lang_id, tape, max_steps, stack)
    held_left = 0
    held_right = 0
    for pos in range(2 * length):
        for a in range(NOISE_TAPES):
            if pos < length and finals[a, pos] != prog[pos]:
                continue
            agree = 1
            for b in range(a + 1, NOISE_TAPES):
                if finals[b, pos] == finals[a, pos]:
                    agree += 1
            if agree > NOISE_TAPES // 4:
                if pos < length:
                    held_left += 1
                else:
                    held_right += 1
                break
    return min(held_left, held_right)


@functools.cache
def _scores_for(lang_id: int):
    """Scores of programs lo..hi-1, the language a compile-time constant (see languages.for_language)."""

    @njit(cache=True, nogil=True)
    def scores(soup, slots, base, total, max_steps, lo, hi, out):
        for k in range(lo, hi):
            out[k] = _score(lang_id, soup[k], slots[k], base, total, max_steps)

    return scores


def selfrep_scores(
    soup: np.ndarray,
    lang: str | Language,
    *,
    seed: int,
    epoch: int,
    total: int | None = None,
    slots: np.ndarray | None = None,
    max_steps: int = 8192,
) -> np.ndarray:
    """cubff's score of each program (row) of ``soup``, as cubff computes it after epoch index ``epoch``.

    The noise depends on each program's slot in the whole soup (``slots``,
    default 0..n-1) and on the whole soup's size (``total``, default n), as
    in cubff. A score of ``SELFREP_THRESHOLD`` or more marks a replicator.
    """
    language = lang if isinstance(lang, Language) else get_language(lang)
    soup = np.ascontiguousarray(soup, dtype=np.uint8)
    n = soup.shape[0]
    slots = np.arange(n, dtype=np.int64) if slots is None else np.asarray(slots, dtype=np.int64)
    if slots.shape != (n,):
        raise ValueError(f"slots must give one slot per program ({n}), got shape {slots.shape}")
    total = n if total is None else int(total)
    base = np.uint64(stream_seed(np.uint64(seed), np.uint64(epoch)))
    kernel = _scores_for(language.id)
    out = np.zeros(n, dtype=np.int64)
    in_blocks(
        n,
        lambda lo, hi: kernel(soup, slots, base, np.uint64(total), int(max_steps), lo, hi, out),
    )
    return out


def selfrep_score(
    program: np.ndarray,
    lang: str | Language = "bff_noheads",
    *,
    seed: int = 0,
    epoch: int = 0,
    max_steps: int = 8192,
) -> int:
    """One program's score as cubff's ``EvalSelfrep(program, epoch, seed)`` gives it (a soup of one)."""
    return int(
        selfrep_scores(
            np.asarray(program, dtype=np.uint8).reshape(1, -1),
            lang,
            seed=seed,
            epoch=epoch,
            max_steps=max_steps,
        )[0]
    )


def count_selfreps(scores: np.ndarray) -> int:
    return int(np.count_nonzero(np.asarray(scores) >= SELFREP_THRESHOLD))

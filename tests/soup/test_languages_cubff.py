"""Every soup language against cubff's own ``Evaluate`` (the oracle's ``eval_<lang>``).

For each of cubff's 13 languages, 10,000 tapes (half uniform random bytes,
half biased towards the bytes that are instructions in some language) must
give the same final tape and the same op count as cubff, at cubff's step
budget (8192) and at small ones. Each (language, budget) is one batched
``eval_<lang>`` call and one batched numba run. The op count means the same
in both: cubff's ``Evaluate`` return value (BFF and Forth: steps that ran an
op, no-op bytes excluded; SUBLEQ: every step).

The plain-Python tracers (``soup trace``) are checked against the same oracle
on fewer tapes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from primordium.soup.languages import LANGUAGES, run_batch, trace

TAPE = 128  # cubff's tape: two programs of kSingleTapeSize = 64 bytes
TAPES = 10_000
BUDGETS = (8192, 300, 64)

# Bytes worth over-sampling: every BFF-family op (ASCII, 4-bit, permuted,
# selfmove), all Forth opcodes, 0x13 (forthtrivial_reset's trigger), small
# constants, short jumps both ways, and small SUBLEQ addresses.
HOT = np.array(
    sorted(
        set(b"<>{}-+.,[]")
        | set(range(0x20))
        | {0x13}
        | set(range(0x40, 0x48))
        | set(range(0x80, 0x84))
        | set(range(0xC0, 0xC4))
        | set(range(0x16, 0x100, 0x10))
    ),
    dtype=np.uint8,
)


def tapes_for(lang: str, count: int, seed: int) -> np.ndarray:
    """``count`` tapes: the first half uniform bytes, the second half 80% hot bytes.

    In a third of the biased tapes three quarters of the second program are 0x13, so
    forthtrivial_reset's reset happens often.
    """
    rng = np.random.default_rng([seed, sorted(LANGUAGES).index(lang)])
    tapes = rng.integers(0, 256, size=(count, TAPE), dtype=np.uint8)
    biased = tapes[count // 2 :]
    hot = rng.random(biased.shape) < 0.8
    biased[hot] = rng.choice(HOT, int(hot.sum()))
    marked = biased[: len(biased) // 3, TAPE // 2 :]
    marked[rng.random(marked.shape) < 0.75] = 0x13
    return tapes


def cubff_eval(
    cubff: Path, lang: str, tapes: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    text = "".join(t.tobytes().hex() + "\n" for t in tapes)
    done = subprocess.run(
        [str(cubff / f"eval_{lang}"), str(steps)],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows = [line.split() for line in done.stdout.splitlines()]
    assert len(rows) == len(tapes), done.stderr
    final = np.frombuffer(bytes.fromhex("".join(r[0] for r in rows)), dtype=np.uint8).reshape(
        len(rows), TAPE
    )
    return final, np.array([int(r[1]) for r in rows], dtype=np.int64)


def test_all_of_cubffs_languages_are_here(cubff_dir):
    cubff = sorted(p.name[len("eval_") :] for p in cubff_dir.glob("eval_*"))
    assert cubff == sorted(LANGUAGES)


@pytest.mark.parametrize("steps", BUDGETS)
@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_kernel_equals_cubff(cubff_dir, lang, steps):
    tapes = tapes_for(lang, TAPES, steps)
    want_tape, want_ops = cubff_eval(cubff_dir, lang, tapes, steps)
    got = tapes.copy()
    ops = run_batch(LANGUAGES[lang].id, got, steps)
    wrong = np.nonzero((got != want_tape).any(axis=1) | (ops != want_ops))[0]
    assert wrong.size == 0, (
        f"{wrong.size} of {TAPES} tapes differ from cubff; first: {tapes[wrong[0]].tobytes().hex()}"
        f" ops {ops[wrong[0]]} vs {want_ops[wrong[0]]}"
    )
    # The workload is not trivial: tapes do run ops, and some use the whole budget.
    assert want_ops.sum() > TAPES


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_tracer_equals_cubff(cubff_dir, lang):
    tapes = tapes_for(lang, 200, 7)
    steps = 300
    want_tape, want_ops = cubff_eval(cubff_dir, lang, tapes, steps)
    for i, t in enumerate(tapes):
        *_, final = trace(lang, t, steps)
        assert np.array_equal(final["tape"], want_tape[i]) and final["ops"] == want_ops[i], (
            lang,
            t.tobytes().hex(),
        )


def test_forthtrivial_reset_is_exercised(cubff_dir):
    """The biased tapes do reach the reset (a write onto 0x13 refills the first program)."""
    tapes = tapes_for("forthtrivial_reset", TAPES, 8192)
    reset, _ = cubff_eval(cubff_dir, "forthtrivial_reset", tapes, 8192)
    plain, _ = cubff_eval(cubff_dir, "forthtrivial", tapes, 8192)
    assert (reset != plain).any(axis=1).sum() > 150

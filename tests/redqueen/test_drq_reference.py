"""DRQ evaluation against the public DRQ code (../shared/reference/drq), imported and run at test time.

Both engines run the same melees: placements (n-th slice of the core plus a
shift from Python's ``random`` seeded with the round index), every round run
to the cycle limit, and per round the reference's score, total spawned
processes and memory coverage must agree.

The warriors are those where the two simulators' semantics coincide. The
reference keeps numbers unreduced (a loaded ``-1`` stays ``-1``, a sum can
reach 8000 without wrapping to 0) and computes ``ADD.BA``/``SUB.BA`` from the
wrong fields, so a warrior that branches on a value (SEQ/SNE/CMP/SLT/JMZ/
JMN/DJN), multiplies, divides, or uses ``.BA`` arithmetic can legitimately
differ; ``_comparable`` checks that none of the chosen warriors does, and
that both assemblers produce the same code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from primordium.corewar import Settings
from primordium.corewar.battle import drq_positions
from primordium.corewar.redcode import assemble_file
from primordium.redqueen.fitness import drq_round_seeds, melee

# The reference's opcode numbers, mapped to ours (isa.Op).
_OPS = {
    0: 0,
    1: 1,
    2: 2,
    3: 3,
    4: 4,
    5: 5,
    6: 6,
    7: 7,
    8: 8,
    9: 9,
    10: 10,
    11: 11,
    12: 12,
    13: 18,
    14: 13,
    15: 14,
    16: 15,
}
_VALUE_OPS = {4, 5, 6, 8, 9, 10, 12, 13, 14, 18}  # MUL DIV MOD JMZ JMN DJN SLT SEQ SNE CMP
_ADD, _SUB, _BA = 2, 3, 3

# (candidate, opponents...): pairs and melees with deaths, splitting and bombing.
MELEES = [
    ("human_warriors/imp.red", "corewar/warriors/dwarf.red"),
    (
        "corewar/gpt_warriors/12_8.red",
        "corewar/gpt_warriors/22_1.red",
        "corewar/gpt_warriors/24_2.red",
        "human_warriors/imp.red",
    ),
    (
        "corewar/gpt_warriors/14_7.red",
        "corewar/warriors/dwarf.red",
        "corewar/gpt_warriors/19_9.red",
    ),
    (
        "corewar/warriors/fastestcoreclear.red",
        "corewar/gpt_warriors/26_7.red",
        "corewar/gpt_warriors/13_5.red",
        "corewar/gpt_warriors/5_0.red",
    ),
    (
        "corewar/gpt_warriors/22_5.red",
        "corewar/gpt_warriors/19_0.red",
        "corewar/gpt_warriors/16_5.red",
        "corewar/warriors/advanceddwarf.red",
    ),
    (
        "corewar/gpt_warriors/16_5.red",
        "corewar/gpt_warriors/0_2.red",
        "corewar/gpt_warriors/19_0.red",
    ),
]


@pytest.fixture(scope="module")
def drq(shared_dir):
    """The reference's corewar_util module (its Python MARS underneath)."""
    root = shared_dir / "reference" / "drq"
    paths = [str(root / "src"), str(root / "corewar")]
    sys.path[:0] = paths
    try:
        import corewar_util
    finally:
        # Its src/ has generic module names (util, llm): keep them off the path.
        for p in paths:
            sys.path.remove(p)
    return corewar_util


def _settings(cycles: int) -> Settings:
    # The reference's SimulationArgs defaults (its core is always 8000 cells).
    return Settings(core_size=8000, cycles=cycles, processes=8000, length=100, distance=100)


def _comparable(drq, ref_warrior, ours) -> None:
    code = np.array(
        [
            [_OPS[i.opcode], i.modifier, i.a_mode, i.a_number % 8000, i.b_mode, i.b_number % 8000]
            for i in ref_warrior.instructions
        ]
    )
    assert np.array_equal(code, np.asarray(ours.code)) and ref_warrior.start == ours.start, (
        "assembled differently"
    )
    ops = np.asarray(ours.code)[:, :2]
    assert not any(op in _VALUE_OPS for op in ops[:, 0]), "branches on values: semantics differ"
    assert not any(op in (_ADD, _SUB) and mod == _BA for op, mod in ops), (
        ".BA arithmetic: semantics differ"
    )


def _compare(drq, shared_dir: Path, files, cycles: int, rounds: int) -> None:
    sim = drq.SimulationArgs(rounds=rounds, cycles=cycles)
    s = _settings(cycles)
    paths = [shared_dir / "reference" / "drq" / f for f in files]
    theirs = [drq.parse_warrior_from_file(sim, p)[1] for p in paths]
    ours = [assemble_file(p, s) for p in paths]
    for t, o in zip(theirs, ours, strict=False):
        _comparable(drq, t, o)
    ref = drq.run_multiple_rounds(sim, theirs, n_processes=1)
    assert ref is not None, "the reference failed (it prints why)"
    got = melee(ours[:1], ours[1:], s, drq_round_seeds(1, rounds))
    # Ours are [round, warrior]; the reference's [warrior, round]. Scores are
    # sums of the same fractions in another order, hence the tolerance.
    np.testing.assert_allclose(got.scores[0].T, ref["score"], rtol=1e-9, atol=1e-12)
    assert got.spawned[0].T.tolist() == ref["total_spawned_procs"].tolist()
    assert got.coverage[0].T.tolist() == ref["memory_coverage"].tolist()


@pytest.mark.parametrize("files", MELEES, ids=lambda fs: "+".join(Path(f).stem for f in fs))
def test_melee_matches_reference(drq, shared_dir, files):
    _compare(drq, shared_dir, files, cycles=2500, rounds=3)


@pytest.mark.slow
def test_paper_settings_match_reference(drq, shared_dir):
    """The paper's 80000 cycles, where rounds outlive the first deaths by far."""
    _compare(drq, shared_dir, MELEES[1], cycles=80000, rounds=2)
    _compare(drq, shared_dir, MELEES[3], cycles=80000, rounds=2)


def test_placements_are_the_references(drq):
    """``drq_positions`` loads where the reference's MARS loads, for any lengths and round seeds."""
    import random

    rng = np.random.default_rng(7)
    for _trial in range(12):
        n = int(rng.integers(1, 9))
        lengths = [int(x) for x in rng.integers(1, 101, size=n)]
        seed = int(rng.integers(0, 1000))
        ws = []
        for length in lengths:
            w = drq.redcode.Warrior()
            w.instructions = [drq.redcode.Instruction("NOP") for _ in range(length)]
            ws.append(w)
        random.seed(seed)
        mars = drq.MyMARS(warriors=ws, minimum_separation=100, max_processes=8000, randomize=True)
        assert [w.task_queue[0] for w in mars.warriors] == drq_positions(lengths, 8000, 100, seed)


# Generality one-on-one, as the public code's eval_warriors.py runs each pair.
# At 2000 cycles these give wins (22_1 over 13_5 and the dwarf), a loss (14_7 to the dwarf), ties, and a
# warrior against a copy of itself.
CHAMPIONS = (
    "corewar/gpt_warriors/22_1.red",
    "corewar/gpt_warriors/14_7.red",
    "corewar/warriors/dwarf.red",
)
HELD_OUT = ("corewar/gpt_warriors/13_5.red", "corewar/warriors/dwarf.red", "human_warriors/imp.red")


def test_generality_matches_reference_pairs(drq, shared_dir):
    from primordium.redqueen.evaluate import generality

    cycles, rounds = 2000, 3
    sim = drq.SimulationArgs(rounds=rounds, cycles=cycles)
    s = _settings(cycles)
    root = shared_dir / "reference" / "drq"
    theirs = {f: drq.parse_warrior_from_file(sim, root / f)[1] for f in CHAMPIONS + HELD_OUT}
    ours = {f: assemble_file(root / f, s) for f in CHAMPIONS + HELD_OUT}
    for f in theirs:
        _comparable(drq, theirs[f], ours[f])
    rows = generality(
        [(k + 1, ours[f]) for k, f in enumerate(CHAMPIONS)],
        [(f, ours[f]) for f in HELD_OUT],
        s,
        rounds=rounds,
        measure="drq",
    )
    outcomes = set()
    for row, champ in zip(rows, CHAMPIONS, strict=False):
        beat = tie = 0
        for j, opp in enumerate(HELD_OUT):
            # Parsed afresh, as eval_warriors.py parses each opponent: its MARS keys state by warrior object.
            pair = [drq.parse_warrior_from_file(sim, root / f)[1] for f in (champ, opp)]
            ref = drq.run_multiple_rounds(sim, pair, n_processes=1)
            assert ref is not None, "the reference failed (it prints why)"
            mine, their = ref["score"].mean(axis=-1)
            np.testing.assert_allclose(row["scores"][j], [mine, their], rtol=1e-9, atol=1e-12)
            beat += mine > their
            tie += mine == their
            outcomes.add("beat" if mine > their else "tie" if mine == their else "lost")
        assert (row["wins"], row["ties"], row["losses"]) == (
            beat,
            tie,
            len(HELD_OUT) - beat - tie,
        ), champ
        assert row["generality"] == (beat + tie) / len(HELD_OUT)
    assert outcomes == {"beat", "tie", "lost"}, outcomes  # every verdict is exercised

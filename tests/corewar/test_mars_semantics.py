"""Each opcode, modifier and addressing mode, checked against the ICWS'94 draft's descriptions.

A tiny warrior runs alone for a few turns; then we look at the core and its
process queue. Numbers are reduced modulo the core size, so -1 reads as
CORESIZE-1.
"""

from __future__ import annotations

import numpy as np
import pytest

from primordium.corewar import Settings, assemble
from primordium.corewar.battle import battle, simulate_round
from primordium.corewar.isa import Mod, Mode, Op

CS = 8000


def run(source: str, turns: int, settings: Settings | None = None):
    s = (settings or Settings()).with_(cycles=turns)
    w = assemble(source, s)
    return simulate_round([w], [0], s)


def fields(state, addr):
    op, mod, am, a, bm, b = state.cell(addr)
    return Op(op).name, Mod(mod).name, Mode(am), a, Mode(bm), b


# --- MOV -------------------------------------------------------------------
@pytest.mark.parametrize(
    "mod, expect_a, expect_b",
    [
        ("A", 1, 4),  # A-number of source to A-number of target
        ("B", 3, 2),  # B to B
        ("AB", 3, 1),  # A to B
        ("BA", 2, 4),  # B to A
        ("F", 1, 2),  # both, straight
        ("X", 2, 1),  # both, crossed
    ],
)
def test_mov_modifiers(mod, expect_a, expect_b):
    st = run(f"mov.{mod} src, dst\nsrc dat #1, #2\ndst dat #3, #4\n", 1)
    assert fields(st, 2)[3] == expect_a and fields(st, 2)[5] == expect_b
    assert st.queues[0] == [1]


def test_mov_i_copies_whole_instruction():
    st = run("mov.i 0, 2\n", 1)
    assert st.cell(2) == st.cell(0)
    assert fields(st, 2)[:2] == ("MOV", "I")


def test_imp_walks_forward():
    st = run("mov.i 0, 1\n", 10)
    for k in range(11):
        assert fields(st, k)[:2] == ("MOV", "I")
    assert st.queues[0] == [10]


# --- arithmetic ----------------------------------------------------------
@pytest.mark.parametrize(
    "op, mod, a, b",
    [
        ("add", "A", 3 + 10, 20),
        ("add", "B", 10, 4 + 20),
        ("add", "AB", 10, 3 + 20),
        ("add", "BA", 4 + 10, 20),
        ("add", "F", 13, 24),
        ("add", "X", 14, 23),
        ("add", "I", 13, 24),
        ("sub", "A", 7, 20),
        ("sub", "B", 10, 16),
        ("sub", "AB", 10, 17),
        ("sub", "BA", 6, 20),
        ("sub", "F", 7, 16),
        ("sub", "X", 6, 17),
        ("mul", "A", 30, 20),
        ("mul", "B", 10, 80),
        ("mul", "AB", 10, 60),
        ("mul", "BA", 40, 20),
        ("mul", "F", 30, 80),
        ("mul", "X", 40, 60),
        ("div", "A", 3, 20),
        ("div", "B", 10, 5),
        ("div", "AB", 10, 6),
        ("div", "BA", 2, 20),
        ("div", "F", 3, 5),
        ("div", "X", 2, 6),
        ("mod", "A", 1, 20),
        ("mod", "B", 10, 0),
        ("mod", "AB", 10, 2),
        ("mod", "BA", 2, 20),
        ("mod", "F", 1, 0),
        ("mod", "X", 2, 2),
    ],
)
def test_arithmetic_modifiers(op, mod, a, b):
    # source: A=3, B=4; target: A=10, B=20
    st = run(f"{op}.{mod} src, dst\nsrc dat #3, #4\ndst dat #10, #20\n", 1)
    assert (fields(st, 2)[3], fields(st, 2)[5]) == (a, b)
    assert st.queues[0] == [1]


def test_arithmetic_wraps_modulo_core():
    st = run("sub.ab #5, 1\ndat #0, #2\n", 1)
    assert fields(st, 1)[5] == CS - 3
    st = run("add.ab #7999, 1\ndat #0, #2\n", 1)
    assert fields(st, 1)[5] == 1
    st = run("mul.ab #4000, 1\ndat #0, #3\n", 1)
    assert fields(st, 1)[5] == (4000 * 3) % CS


def test_division_by_zero_kills_the_process():
    st = run("div.ab #0, 1\ndat #0, #7\n", 1)
    assert st.queues[0] == [] and st.survivors == 0
    assert fields(st, 1)[5] == 7  # nothing written
    st = run("mod.b 1, 2\ndat #0, #0\ndat #0, #9\n", 1)
    assert st.queues[0] == []


def test_div_f_writes_the_good_half_then_dies():
    # A-half divides by 2, B-half by 0: A is written, then the process dies.
    st = run("div.f src, dst\nsrc dat #2, #0\ndst dat #10, #20\n", 1)
    assert (fields(st, 2)[3], fields(st, 2)[5]) == (5, 20)
    assert st.queues[0] == []


# --- control flow ----------------------------------------------------------
def test_dat_kills():
    st = run("dat #0, #0\n", 1)
    assert st.survivors == 0 and st.queues[0] == []


def test_jmp_queues_target():
    st = run("jmp 3\n", 1)
    assert st.queues[0] == [3]


@pytest.mark.parametrize(
    "instr, target_fields, jumps",
    [
        ("jmz.a", "#0, #5", True),
        ("jmz.a", "#1, #0", False),
        ("jmz.b", "#5, #0", True),
        ("jmz.b", "#0, #5", False),
        ("jmz.f", "#0, #0", True),
        ("jmz.f", "#0, #1", False),
        ("jmz.f", "#1, #0", False),
        ("jmn.a", "#1, #0", True),
        ("jmn.a", "#0, #1", False),
        ("jmn.b", "#0, #1", True),
        ("jmn.b", "#1, #0", False),
        ("jmn.f", "#0, #1", True),
        ("jmn.f", "#1, #0", True),
        ("jmn.f", "#0, #0", False),
    ],
)
def test_conditional_jumps(instr, target_fields, jumps):
    st = run(f"{instr} 5, 1\ndat {target_fields}\n", 1)
    assert st.queues[0] == ([5] if jumps else [1])


@pytest.mark.parametrize(
    "mod, start, after, jumps",
    [
        ("b", "#0, #2", (0, 1), True),
        ("b", "#0, #1", (0, 0), False),
        ("a", "#2, #0", (1, 0), True),
        ("a", "#1, #0", (0, 0), False),
        ("f", "#1, #2", (0, 1), True),  # jumps unless both become zero
        ("f", "#1, #1", (0, 0), False),
        ("b", "#0, #0", (0, CS - 1), True),  # 0 - 1 wraps and is non-zero
    ],
)
def test_djn(mod, start, after, jumps):
    st = run(f"djn.{mod} 5, 1\ndat {start}\n", 1)
    assert (fields(st, 1)[3], fields(st, 1)[5]) == after
    assert st.queues[0] == ([5] if jumps else [1])


def test_spl_queues_next_then_target():
    st = run("spl 3\n", 1)
    assert st.queues[0] == [1, 3]


def test_spl_respects_max_processes():
    st = run("spl 0\njmp -1\n", 5, Settings(processes=3))
    assert len(st.queues[0]) == 3
    st = run("spl 2\n", 1, Settings(processes=1))
    assert st.queues[0] == [1]


@pytest.mark.parametrize(
    "instr, a_fields, b_fields, skips",
    [
        ("seq.a", "#1, #2", "#1, #3", True),
        ("seq.a", "#1, #2", "#2, #2", False),
        ("seq.b", "#1, #2", "#5, #2", True),
        ("seq.ab", "#7, #0", "#0, #7", True),
        ("seq.ba", "#0, #7", "#7, #0", True),
        ("seq.f", "#1, #2", "#1, #2", True),
        ("seq.f", "#1, #2", "#1, #3", False),
        ("seq.x", "#1, #2", "#2, #1", True),
        ("seq.i", "#1, #2", "#1, #2", True),
        ("seq.i", "#1, #2", "$1, #2", False),
        ("cmp.f", "#1, #2", "#1, #2", True),
        ("sne.a", "#1, #2", "#1, #3", False),
        ("sne.a", "#1, #2", "#2, #2", True),
        ("sne.i", "#1, #2", "#1, #2", False),
        ("sne.i", "#1, #2", "$1, #2", True),
        ("slt.a", "#1, #0", "#2, #0", True),
        ("slt.a", "#2, #0", "#2, #0", False),
        ("slt.b", "#0, #1", "#0, #2", True),
        ("slt.ab", "#1, #0", "#0, #2", True),
        ("slt.ba", "#0, #1", "#2, #0", True),
        ("slt.f", "#1, #1", "#2, #2", True),
        ("slt.f", "#1, #1", "#2, #1", False),
        ("slt.x", "#1, #1", "#2, #2", True),
    ],
)
def test_skips(instr, a_fields, b_fields, skips):
    st = run(f"{instr} 1, 2\ndat {a_fields}\ndat {b_fields}\n", 1)
    assert st.queues[0] == ([2] if skips else [1])


def test_seq_i_distinguishes_cmp_from_seq_opcode():
    # CMP and SEQ behave alike but are different opcodes, as in pMARS.
    st = run("seq.i 1, 2\ncmp.i #1, #2\nseq.i #1, #2\n", 1)
    assert st.queues[0] == [1]


def test_nop_just_continues():
    st = run("nop 5, 7\n", 1)
    assert st.queues[0] == [1]


# --- addressing modes ---------------------------------------------------------
def test_immediate_operands_point_at_the_instruction():
    # MOV.AB #7, #0: the target is the instruction itself.
    st = run("mov.ab #7, #0\n", 1)
    assert fields(st, 0)[5] == 7


def test_b_indirect():
    st = run("mov.i 4, @1\ndat #0, #2\ndat #0, #0\ndat #0, #0\ndat #9, #9\n", 1)
    assert (fields(st, 3)[3], fields(st, 3)[5]) == (9, 9)


def test_b_predecrement_and_postincrement():
    st = run("mov.i 4, <1\ndat #0, #3\ndat #0, #0\ndat #0, #0\ndat #6, #6\n", 1)
    assert fields(st, 1)[5] == 2  # decremented first
    assert fields(st, 3)[3] == 6  # 1 + 2
    st = run("mov.i 4, >1\ndat #0, #2\ndat #0, #0\ndat #0, #0\ndat #6, #6\n", 1)
    assert fields(st, 1)[5] == 3  # incremented after use
    assert fields(st, 3)[3] == 6  # 1 + 2


def test_a_field_modes():
    st = run("mov.i 4, *1\ndat #2, #0\ndat #0, #0\ndat #0, #0\ndat #6, #6\n", 1)
    assert fields(st, 3)[3] == 6
    st = run("mov.i 4, {1\ndat #3, #0\ndat #0, #0\ndat #0, #0\ndat #6, #6\n", 1)
    assert fields(st, 1)[3] == 2 and fields(st, 3)[3] == 6
    st = run("mov.i 4, }1\ndat #2, #0\ndat #0, #0\ndat #0, #0\ndat #6, #6\n", 1)
    assert fields(st, 1)[3] == 3 and fields(st, 3)[3] == 6


def test_operand_values_are_read_during_evaluation():
    # The A operand's value is latched before its own post-increment, and the
    # MOV writes the latched value: the increment is overwritten.
    st = run("mov.b >1, 1\ndat #0, #0\n", 1)
    assert fields(st, 1)[5] == 0
    # The B operand's pre-decrement happens after the A operand was read.
    st = run("mov.ab 1, <1\ndat #5, #3\n", 1)
    assert fields(st, 1)[5] == 2
    assert fields(st, 3)[5] == 5


# --- P-space --------------------------------------------------------------------
PSPACE_WARRIOR = """
        ldp.ab  #1, tmp
        jmz.b   first, tmp
        jmp     0
first   stp.ab  #7, #1
        dat     #0, #0
tmp     dat     #0, #0
"""


def test_pspace_persists_across_rounds():
    w = assemble(PSPACE_WARRIOR, Settings())
    res = battle([w], Settings(rounds=3, cycles=200))
    # Round 1: P-space cell 1 is 0, so it stores 7 and dies; then it lives.
    assert res.alive[0].tolist() == [[False], [True], [True]]


def test_pspace_cell_zero_holds_last_result():
    src = """
        ldp.ab  #0, tmp
        sne.ab  #0, tmp       ; died last round? then loop forever
        jmp     0
        dat     #0, #0
tmp     dat     #0, #0
"""
    w = assemble(src, Settings())
    res = battle([w], Settings(rounds=3, cycles=100))
    # Round 1: last result is CORESIZE-1 ("none yet"): dies. Round 2: 0: lives. Round 3: 1: dies.
    assert res.alive[0, :, 0].tolist() == [False, True, False]


def test_shared_pin_shares_pspace():
    writer = assemble("stp.ab #9, #5\njmp 0\nPIN 42\n", Settings())
    reader = assemble("ldp.ab #5, 2\njmz.b 0, 1\ndat #0, #0\ndat 0, 0\nPIN 42\n", Settings())
    loner = assemble("ldp.ab #5, 2\njmz.b 0, 1\ndat #0, #0\ndat 0, 0\n", Settings())
    shared = battle([writer, reader], Settings(rounds=1, cycles=50), position=4000)
    alone = battle([writer, loner], Settings(rounds=1, cycles=50), position=4000)
    # The reader sees 9 in its P-space and falls through to... a loop on jmz
    # only while the value is zero; with 9 it goes on to the DAT and dies.
    assert shared.alive[0, 0].tolist() == [True, False]
    assert alone.alive[0, 0].tolist() == [True, True]


# --- rounds and scoring ---------------------------------------------------------------
def test_tie_at_max_cycles_and_trace_counters():
    imp = assemble("mov.i 0, 1\n", Settings())
    res = battle([imp, imp], Settings(rounds=2, cycles=1000), position=4000)
    assert res.ties()[0].tolist() == [2, 2]
    assert res.executed[0].tolist() == [[1000, 1000], [1000, 1000]]
    assert res.spawned[0].tolist() == [[1, 1], [1, 1]]
    assert res.coverage[0, 0].tolist() == [
        1000,
        1000,
    ]  # one new cell per move; the entry cell is not counted until revisited


def test_first_mover_rotates_each_round():
    # A suicide warrior against a single DAT: whoever moves first decides nothing,
    # but with two DAT warriors the one that moves first dies first.
    dat = assemble("dat #0, #0\n", Settings())
    res = battle([dat, dat], Settings(rounds=4), position=4000)
    # Warrior 1 moves first in rounds 1 and 3, so it dies and warrior 2 wins.
    assert res.alive[0, :, 1].tolist() == [True, False, True, False]
    assert res.alive[0, :, 0].tolist() == [False, True, False, True]


def test_same_seed_same_result_and_positions_respect_distance():
    s = Settings(rounds=20)
    a = assemble("add.ab #4, 3\nmov.i 2, @2\njmp -2\ndat #0, #0\n", s)
    b = assemble("mov.i 0, 1\n", s)
    c = assemble("spl 0\nmov.i 0, 1\n", s)
    r1 = battle([a, b, c], s, seed=7)
    r2 = battle([a, b, c], s, seed=7)
    assert np.array_equal(r1.alive, r2.alive) and np.array_equal(r1.positions, r2.positions)
    pos = r1.positions[0]
    assert (pos[:, 0] == 0).all()
    for r in range(s.rounds):
        p = sorted(pos[r])
        gaps = np.diff(p + [p[0] + s.core_size])
        assert (gaps >= s.distance).all()


def test_pspace_size_defaults_as_pmars():
    # CORESIZE/k for the largest k <= 16 dividing the core.
    assert Settings().pspace == 500
    assert Settings(core_size=8001).pspace == 889
    assert Settings(core_size=7).pspace == 1
    assert Settings(pspace_size=37).pspace == 37


def test_warrior_assembled_for_another_core_is_refused():
    from primordium.errors import ConfigError

    w = assemble("mov.i 0, 1\n", Settings())
    with pytest.raises(ConfigError, match="core size 8000"):
        battle([w, w], Settings(core_size=4000))


# --- until="all_dead": rounds run to the cycle limit (the DRQ code's melees) -----------
def _run(ws, s, until, positions):
    from primordium.corewar.battle import run_battles

    n = len(ws)
    return run_battles(
        ws,
        np.arange(n)[None],
        s,
        np.array([1]),
        until=until,
        positions=np.array([[positions]] * s.rounds).reshape(1, s.rounds, n),
    )


def test_all_dead_runs_on_after_the_last_opponent_dies():
    s = Settings(core_size=400, cycles=300, processes=64, length=20, distance=20, rounds=1)
    imp = assemble("mov.i 0, 1\n", s)
    suicide = assemble("dat #0, #0\n", s)
    late = assemble("nop 0, 0\n" * 9 + "dat #0, #0\n", s)  # dies in its 10th turn
    pmars = _run([imp, suicide], s, "one_left", [0, 200])
    assert pmars.executed[0, 0].tolist() == [1, 1]  # pMARS stops at one survivor
    full = _run([imp, suicide], s, "all_dead", [0, 200])
    assert full.alive[0, 0].tolist() == [True, False]
    assert full.executed[0, 0].tolist() == [300, 1] and full.coverage[0, 0].tolist() == [300, 0]
    # The lone survivor that later kills itself is not credited with the cycles after.
    res = _run([late, suicide], s, "all_dead", [0, 200])
    assert res.alive[0, 0].tolist() == [False, False] and res.executed[0, 0].tolist() == [10, 1]
    # Every survivor gets exactly `cycles` turns, whoever dies in between.
    res = _run([imp, late, suicide, imp], s, "all_dead", [0, 100, 200, 300])
    assert res.executed[0, 0].tolist() == [300, 10, 1, 300]


def test_unknown_until_is_refused():
    from primordium.corewar.battle import run_battles
    from primordium.errors import ConfigError

    s = Settings(core_size=400, cycles=30, processes=64, length=20, distance=20, rounds=1)
    with pytest.raises(ConfigError, match="until"):
        run_battles(
            [assemble("jmp 0\n", s)] * 2, np.array([[0, 1]]), s, np.array([1]), until="never"
        )

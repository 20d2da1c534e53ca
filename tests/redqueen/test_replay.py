"""The replay kernel shows the same battle as the MARS: same final core, same survivors."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.corewar import Settings, battle, builtin_path
from primordium.corewar.battle import simulate_round
from primordium.corewar.redcode import assemble_file
from primordium.corewar.replay import frames, replay


def _check(ws, s, seed):
    pos = battle(ws, s.with_(rounds=1, warriors=len(ws)), seed=seed, track=False).positions[0, 0]
    ref = simulate_round(ws, pos, s)
    rep = replay(ws, s, pos, frames=50)
    np.testing.assert_array_equal(rep.core[0], ref.word)
    np.testing.assert_array_equal(rep.core[1], ref.a)
    np.testing.assert_array_equal(rep.core[2], ref.b)
    assert rep.survivors == ref.survivors
    # The last frame's processes are the MARS's queues (a cell two warriors share shows one of them).
    marked = set(np.flatnonzero(rep.processes[-1] >= 0))
    assert marked == set().union(*map(set, ref.queues))
    for w, q in enumerate(ref.queues):
        assert set(np.flatnonzero(rep.processes[-1] == w)) <= set(q)
    return rep


@pytest.mark.parametrize(
    "names",
    [("imp", "dwarf"), ("dwarf", "scanner"), ("paper", "scanner"), ("scanner", "paper", "dwarf")],
)
def test_same_battle_as_the_mars_builtin(names):
    s = Settings(cycles=6000, processes=400)
    ws = [assemble_file(builtin_path(n), s) for n in names]
    for seed in (0, 5):
        rep = _check(ws, s, seed)
        assert (
            rep.owner.shape[0] >= 2 and (rep.owner[-1] >= 0).sum() >= sum(w.length for w in ws) // 2
        )


def test_same_battle_as_the_mars_human_warriors(human_warriors):
    s = Settings(cycles=4000, processes=800)
    files = human_warriors[::6][:10]
    ws = []
    for f in files:
        try:
            ws.append(assemble_file(f, s))
        except Exception:
            continue
    for a, b in zip(ws, ws[1:], strict=False):
        _check([a, b], s, seed=len(a.source))


def test_frames_are_pictures_of_ownership():
    s = Settings(core_size=800, cycles=800, processes=64, length=20, distance=20)
    ws = [assemble_file(builtin_path("imp"), s), assemble_file(builtin_path("dwarf"), s)]
    rep = replay(ws, s, [0, 400], frames=20)
    img = frames(rep, scale=2)
    assert img.dtype == np.uint8 and img.ndim == 4 and img.shape[0] == rep.owner.shape[0]
    # The imp's territory grows frame after frame.
    imp_cells = (rep.owner == 0).sum(axis=1)
    assert imp_cells[-1] > imp_cells[0]
    assert not np.array_equal(img[0], img[-1])


def test_recorded_battle_ends_like_the_mars_result(human_warriors):
    """The replay is the MARS's own round: same survivors, and it stops at the same cycle."""
    s = Settings(cycles=8000, processes=800)
    ws = [assemble_file(f, s) for f in human_warriors[2::7][:7]]
    endings = set()
    for a, b in zip(ws, ws[1:], strict=False):
        for seed in (1, 2):
            res = battle([a, b], s.with_(rounds=1, warriors=2), seed=seed, track=False)
            rep = replay([a, b], s, res.positions[0, 0], frames=30)
            alive = [bool(x) for x in res.alive[0, 0]]
            assert [bool((rep.processes[-1] == w).any()) for w in range(2)] == alive
            assert rep.survivors == sum(alive)
            # Warrior 0 moves first and a frame's cycle counts finished laps: a
            # round that reaches the limit ends after `cycles` laps; one that
            # ends in a death, in the lap of warrior 0's last turn.
            executed = res.executed[0, 0]
            end = s.cycles if all(alive) else int(executed[0]) - 1
            assert int(rep.cycles[-1]) == end
            assert all(executed == s.cycles) == all(alive)
            endings.add(tuple(alive))
    assert len(endings) >= 2  # the pairs cover both a decided round and a tie, or both winners

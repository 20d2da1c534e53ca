"""The closed-form melee score against the per-cycle definition, on made-up and real battles."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.corewar import Settings, assemble, battle, builtin_path
from primordium.corewar.redcode import assemble_file
from primordium.redqueen.fitness import (
    evaluate,
    lifetimes,
    melee_scores,
    melee_scores_brute,
    round_seeds,
)


@pytest.mark.parametrize(
    "life,cycles",
    [
        ([10, 10], 10),
        ([0, 10], 10),
        ([3, 7, 10], 10),
        ([5, 5, 5, 2], 12),
        ([0, 0, 0], 4),
        ([1, 9, 4, 9, 20], 20),
    ],
)
def test_closed_form_matches_per_cycle_sum(life, cycles):
    np.testing.assert_allclose(
        melee_scores(np.array(life), cycles), melee_scores_brute(life, cycles), atol=1e-12
    )


def test_closed_form_random_cases_and_batch_axes():
    rng = np.random.default_rng(1)
    lifes = rng.integers(0, 41, size=(7, 5, 4))
    lifes[..., 0] = 40  # some survivors
    got = melee_scores(lifes, 40)
    for idx in np.ndindex(lifes.shape[:-1]):
        np.testing.assert_allclose(got[idx], melee_scores_brute(lifes[idx], 40), atol=1e-12)


def test_scale_tie_is_one_lone_survivor_is_n():
    assert melee_scores(np.array([50, 50, 50]), 50).tolist() == pytest.approx([1, 1, 1])
    s = melee_scores(np.array([50, 0, 0]), 50)
    assert s.tolist() == pytest.approx([3, 0, 0])
    # The scores always add up to N when someone survives to the end.
    assert melee_scores(np.array([50, 20, 7, 33]), 50).sum() == pytest.approx(4)


SUICIDE = "dat #0, #0\n"  # dies in its first cycle
SLOW_SUICIDE = "nop 0, 0\nnop 0, 0\nnop 0, 0\ndat #0, #0\n"  # dies in cycle 4


def test_lifetimes_from_a_real_melee():
    """A warrior's cycle c is its c-th turn (one instruction per cycle, as the public code steps)."""
    s = Settings(
        core_size=400, cycles=300, processes=64, length=20, distance=20, rounds=1, warriors=4
    )
    ws = [
        assemble_file(builtin_path("dwarf"), s),
        assemble_file(builtin_path("imp"), s),
        assemble(SUICIDE, s),
        assemble(SLOW_SUICIDE, s),
    ]
    for seed in (3, 11, 12345):
        res = battle(ws, s, seed=seed)
        life = lifetimes(res.executed[0, 0], res.alive[0, 0], s.cycles)
        assert life[2] == 0 and life[3] == 3  # died in their 1st and 4th turn
        assert life[0] == s.cycles  # nothing here kills the dwarf
        np.testing.assert_allclose(
            melee_scores(life, s.cycles), melee_scores_brute(life, s.cycles), atol=1e-12
        )
        # While all four live, each earns 1/4 per cycle; the first death comes after 0 cycles.
        assert melee_scores(life, s.cycles)[3] == pytest.approx(4 * 3 / 3 / s.cycles)


def test_evaluate_rotation_is_undone_and_deterministic():
    s = Settings(core_size=800, cycles=500, processes=64, length=20, distance=20)
    dwarf = assemble_file(builtin_path("dwarf"), s)
    imp = assemble_file(builtin_path("imp"), s)
    dead = assemble(SUICIDE, s)
    seeds = np.stack([round_seeds(0, 1, k, 0, 6) for k in range(3)])
    ev = evaluate([dwarf, dead, imp], [imp, dead], s, seeds, placement="pmars")
    # The instant suicide scores 0 wherever it stands in the rotated rows.
    assert ev[1].fitness == 0.0 and ev[1].descriptors["spawned"] == 0
    assert ev[0].fitness > 1.0  # the dwarf outlives the DAT and often the imp
    assert (
        1 < ev[2].descriptors["coverage"] <= s.cycles + 1
    )  # an imp visits at most one new cell a cycle
    again = evaluate([dwarf, dead, imp], [imp, dead], s, seeds, placement="pmars")
    assert [e.fitness for e in again] == [e.fitness for e in ev]


def test_drq_placement_gives_every_candidate_the_same_rounds():
    """Round r is seeded with r: equal candidates score alike round by round (common random numbers)."""
    from primordium.redqueen.fitness import drq_round_seeds, melee

    s = Settings(core_size=800, cycles=500, processes=64, length=20, distance=20)
    dwarf = assemble_file(builtin_path("dwarf"), s)
    imp = assemble_file(builtin_path("imp"), s)
    m = melee([dwarf, imp, dwarf], [imp, dwarf], s, drq_round_seeds(3, 4))
    assert np.array_equal(m.scores[0], m.scores[2]) and np.array_equal(m.coverage[0], m.coverage[2])
    assert not np.array_equal(m.scores[0], m.scores[1])
    # Scores add up to N while someone lives to the limit (every round here).
    np.testing.assert_allclose(m.scores.sum(axis=2), 3.0)
    with pytest.raises(Exception, match="placement"):
        melee([dwarf], [imp], s, drq_round_seeds(1, 2), placement="random")

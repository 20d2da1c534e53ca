"""Differential tests: primordium's MARS against the real pMARS 0.9.2.

pMARS's ``-k`` output gives, per warrior, the rounds won and tied (two
warriors) or the score, survival tallies and deaths (more). With ``-F P``
both simulators place warrior 2 at P in round 1 and draw later rounds from
the same generator, so every round must agree. Every battle runs on both
builds of the kernel (JIT and ahead of time, ``both_kernels``).
"""

from __future__ import annotations

import itertools
import random
import subprocess

import numpy as np
import pytest

from primordium.corewar import Settings, assemble, assemble_file
from primordium.corewar.battle import battle, position_seed, run_battles


def pmars_k(pmars, files, rounds, position, extra=()):
    out = subprocess.run(
        [pmars, "-b", "-k", "-r", str(rounds), "-F", str(position), *extra, *map(str, files)],
        capture_output=True,
    )
    assert out.returncode == 0, out.stderr.decode("latin-1")
    nums = [int(x) for x in out.stdout.decode("latin-1").split()]
    return np.array(nums).reshape(len(files), -1)


@pytest.fixture(scope="module")
def assembled(human_warriors):
    s = Settings()
    return {f: assemble_file(f, s) for f in human_warriors}


def _sample_pairs(files, n, seed):
    pairs = list(itertools.combinations(files, 2))
    random.Random(seed).shuffle(pairs)
    return pairs[:n]


def test_pairs_at_fixed_positions_match_pmars(pmars, human_warriors, assembled, both_kernels):
    """400 seeded pairs, each at two fixed positions, 2 rounds: W/L/T as pMARS."""
    s = Settings(rounds=2)
    rng = random.Random(2024)
    pairs = _sample_pairs(human_warriors, 400, seed=1)
    jobs = [
        (a, b, p)
        for a, b in pairs
        for p in (rng.randrange(100, 7901), rng.choice([100, 7900, 4000]))
    ]
    # Ours: all battles in one batch over all cores.
    pool = list(assembled.values())
    index = {f: i for i, f in enumerate(assembled)}
    battles = np.array([[index[a], index[b]] for a, b, _ in jobs])
    seeds = np.array([position_seed(p, s) for _, _, p in jobs])
    res = both_kernels(run_battles, pool, battles, s, seeds, track=False)
    wins, ties = res.wins(), res.ties()
    mismatches = []
    for k, (a, b, p) in enumerate(jobs):
        exp = pmars_k(pmars, [a, b], 2, p)  # rows: [wins, ties] per warrior
        got = np.array([[wins[k, 0], ties[k, 0]], [wins[k, 1], ties[k, 1]]])
        if not np.array_equal(exp, got):
            mismatches.append((a.name, b.name, p, exp.tolist(), got.tolist()))
    assert not mismatches, mismatches[:10]


def test_many_rounds_match_pmars(pmars, human_warriors, assembled, both_kernels):
    """Later rounds use pMARS's generator for positions and rotate the first mover."""
    s = Settings(rounds=25)
    for a, b in _sample_pairs(human_warriors, 12, seed=2):
        exp = pmars_k(pmars, [a, b], 25, 1234)
        res = both_kernels(battle, [assembled[a], assembled[b]], s, position=1234, track=False)
        got = np.array([[res.wins()[0, 0], res.ties()[0, 0]], [res.wins()[0, 1], res.ties()[0, 1]]])
        assert np.array_equal(exp, got), (a.name, b.name, exp.tolist(), got.tolist())


@pytest.mark.parametrize("n_warriors", [3, 4])
def test_multiwarrior_battles_match_pmars(
    pmars, human_warriors, assembled, n_warriors, both_kernels
):
    rng = random.Random(n_warriors)
    s = Settings(rounds=3)
    for _ in range(15):
        files = rng.sample(human_warriors, n_warriors)
        p = rng.randrange(100, 7901)
        exp = pmars_k(pmars, files, 3, p)  # rows: score, survivals by count, deaths
        res = both_kernels(battle, [assembled[f] for f in files], s, position=p, track=False)
        table = res.score_table()[0]
        got = np.column_stack(
            [res.scores()[0], table[:, :n_warriors], table[:, n_warriors:].sum(axis=1)]
        )
        assert np.array_equal(exp, got), ([f.name for f in files], p, exp.tolist(), got.tolist())


def test_small_core_and_limits_match_pmars(pmars, human_warriors, both_kernels):
    """Non-default settings: small core, few cycles, few processes."""
    s = Settings(core_size=4000, cycles=20000, processes=64, length=100, distance=100, rounds=4)
    extra = ["-s", "4000", "-c", "20000", "-p", "64", "-l", "100", "-d", "100"]
    rng = random.Random(3)
    checked = 0
    for a, b in _sample_pairs(human_warriors, 40, seed=3):
        try:
            wa, wb = assemble_file(a, s), assemble_file(b, s)
        except Exception:
            continue  # e.g. an ;assert CORESIZE==8000: pMARS refuses these too
        p = rng.randrange(100, 3901)
        exp = pmars_k(pmars, [a, b], 4, p, extra)
        res = both_kernels(battle, [wa, wb], s, position=p, track=False)
        got = np.array([[res.wins()[0, 0], res.ties()[0, 0]], [res.wins()[0, 1], res.ties()[0, 1]]])
        assert np.array_equal(exp, got), (a.name, b.name, p, exp.tolist(), got.tolist())
        checked += 1
    assert checked >= 20


def test_pspace_warriors_match_pmars(pmars, tmp_path, both_kernels):
    """P-space across rounds, with and without a shared PIN."""
    brain = """;redcode
;name brain
        ldp.ab  #0, res
        ldp.ab  #3, cnt
        add.ab  #1, cnt
        stp.b   cnt, #3
        jmz.b   bomber, res
        mod.ab  #3, cnt
        jmz.b   bomber, cnt
imp     mov.i   0, 1
bomber  add.ab  #7, tgt
        mov.i   tgt, @tgt
        jmp     bomber
res     dat     #0, #0
cnt     dat     #0, #0
tgt     dat     #0, #13
"""
    dwarf = """;redcode
;name d
        add.ab  #4, 3
        mov.i   2, @2
        jmp     -2
        dat     #0, #0
"""
    fa, fb = tmp_path / "brain.red", tmp_path / "dwarf.red"
    fa.write_text(brain)
    fb.write_text(dwarf)
    s = Settings(rounds=30)
    wa, wb = assemble(brain, s), assemble(dwarf, s)
    for p in (300, 2500, 5555):
        exp = pmars_k(pmars, [fa, fb], 30, p)
        res = both_kernels(battle, [wa, wb], s, position=p, track=False)
        got = np.array([[res.wins()[0, 0], res.ties()[0, 0]], [res.wins()[0, 1], res.ties()[0, 1]]])
        assert np.array_equal(exp, got), (p, exp.tolist(), got.tolist())


def test_every_pair_matches_pmars(pmars, human_warriors, assembled, both_kernels):
    """All 1770 pairs at one random position each."""
    s = Settings(rounds=2)
    rng = random.Random(7)
    pool = list(assembled.values())
    index = {f: i for i, f in enumerate(assembled)}
    jobs = [(a, b, rng.randrange(100, 7901)) for a, b in itertools.combinations(human_warriors, 2)]
    res = both_kernels(
        run_battles,
        pool,
        np.array([[index[a], index[b]] for a, b, _ in jobs]),
        s,
        np.array([position_seed(p, s) for _, _, p in jobs]),
        track=False,
    )
    for k, (a, b, p) in enumerate(jobs):
        exp = pmars_k(pmars, [a, b], 2, p)
        got = np.array([[res.wins()[k, 0], res.ties()[k, 0]], [res.wins()[k, 1], res.ties()[k, 1]]])
        assert np.array_equal(exp, got), (a.name, b.name, p)

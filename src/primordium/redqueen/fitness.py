"""DRQ fitness: a candidate's share of survival in a melee with its opponents.

The paper's definition, per battle round of C cycles with N warriors: after
every cycle each living warrior earns ``1 / (number alive) / C``; the sum
times N is the round's score, and fitness is its mean over R rounds. A
warrior that ties everyone all the way scores 1, a lone survivor from the
first cycle scores N.

"Living after cycle c" follows the public code, whose simulator runs all C
cycles even when one warrior is left: a warrior that died in cycle e (the
engine's ``executed``, one instruction per cycle alive) was alive after
cycles 1..e-1; a survivor after all C cycles (the MARS stops a round when one
warrior is left, but the survivor would have lived on). So each warrior has
a lifetime ``L_w`` in cycles and the number alive after cycle c is
``n(c) = #{v: L_v >= c}``. A warrior's cycle c is its own c-th turn (the
public code steps every warrior once per cycle); pMARS's global cycle counter
differs from this by at most one turn for a warrior that moves after one
that died.

Closed form: sort the lifetimes ``l_1 <= ... <= l_N`` (``l_0 = 0``). Between
``l_{i-1}`` and ``l_i`` exactly ``N - i + 1`` warriors are alive, so the
warrior of rank j earns

    score_j = N / C * sum_{i=1..j} (l_i - l_{i-1}) / (N - i + 1)

Tied lifetimes make zero-length intervals, so any rank among equals gives
the same score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from primordium.corewar.battle import initial_seed, run_battles_on
from primordium.corewar.isa import Warrior
from primordium.redqueen.descriptors import describe


def lifetimes(executed: np.ndarray, alive: np.ndarray, cycles: int) -> np.ndarray:
    """Cycles each warrior was alive after (see the module doc), same shape as the inputs."""
    return np.where(alive, cycles, np.maximum(np.asarray(executed) - 1, 0)).astype(np.int64)


def melee_scores(life: np.ndarray, cycles: int) -> np.ndarray:
    """Scores of every warrior from lifetimes ``life[..., N]`` (closed form, exact)."""
    life = np.asarray(life, dtype=np.int64)
    n = life.shape[-1]
    order = np.argsort(life, axis=-1, kind="stable")
    srt = np.take_along_axis(life, order, axis=-1)
    gaps = np.diff(srt, axis=-1, prepend=0).astype(np.float64)
    share = np.cumsum(gaps / np.arange(n, 0, -1), axis=-1)
    out = np.empty_like(share)
    np.put_along_axis(out, order, share, axis=-1)
    return out * (n / cycles)


def melee_scores_brute(life: Sequence[int], cycles: int) -> np.ndarray:
    """The same, by the definition: cycle by cycle. For tests."""
    life = list(life)
    n = len(life)
    score = np.zeros(n)
    for c in range(1, cycles + 1):
        living = [w for w in range(n) if life[w] >= c]
        if not living:
            break
        for w in living:
            score[w] += 1.0 / len(living) / cycles
    return score * n


@dataclass
class Evaluation:
    """One candidate's outcome: fitness, raw descriptors and the per-round scores."""

    fitness: float
    descriptors: dict[str, float]
    scores: list[float]


def round_seeds(seed: int, round_: int, iteration: int, slot: int, n: int) -> np.ndarray:
    """MARS generator states of one candidate's n battle rounds, from where it stands in the run."""
    states = np.random.SeedSequence([int(seed), int(round_), int(iteration) + 1, int(slot)]).generate_state(n)
    return np.array([initial_seed(int(s) & 0x7FFFFFFF) for s in states], np.int64)


def evaluate(
    candidates: Sequence[Warrior],
    opponents: Sequence[Warrior],
    settings,
    seeds: np.ndarray,
    executor=None,
) -> list[Evaluation]:
    """Fitness of each candidate in a melee with all ``opponents``, in one batch over all cores.

    ``seeds[k]`` holds candidate k's R generator states (one per battle round).
    Each battle round is its own row of the batch, so even one candidate keeps
    every core busy; the order of the warriors in row r is rotated by r so the
    first mover (and the warrior at position 0) changes every round, as
    pMARS rotates who starts.
    """
    seeds = np.asarray(seeds, np.int64)
    n_cand, n_rounds = seeds.shape
    if n_cand == 0:
        return []
    assert n_cand == len(candidates)
    n = 1 + len(opponents)
    pool = list(candidates) + list(opponents)
    opp_idx = np.arange(n_cand, n_cand + len(opponents), dtype=np.int64)
    rows = np.empty((n_cand * n_rounds, n), np.int64)
    shifts = np.empty(n_cand * n_rounds, np.int64)
    for k in range(n_cand):
        base = np.concatenate([[k], opp_idx])
        for r in range(n_rounds):
            s = r % n
            rows[k * n_rounds + r] = np.roll(base, -s)
            shifts[k * n_rounds + r] = s
    res = run_battles_on(executor, pool, rows, settings.with_(rounds=1, warriors=n), seeds.reshape(-1), track=True)

    def canonical(a: np.ndarray) -> np.ndarray:
        # Undo each row's rotation so column 0 is the candidate again: [cand, round, N].
        a = a[:, 0, :]
        out = np.empty_like(a)
        for i in range(a.shape[0]):
            out[i] = np.roll(a[i], shifts[i])
        return out.reshape(n_cand, n_rounds, n)

    alive, executed = canonical(res.alive), canonical(res.executed)
    spawned, coverage = canonical(res.spawned), canonical(res.coverage)
    scores = melee_scores(lifetimes(executed, alive, settings.cycles), settings.cycles)
    out = []
    for k in range(n_cand):
        out.append(Evaluation(
            fitness=float(scores[k, :, 0].mean()),
            descriptors=describe(spawned[k, :, 0], coverage[k, :, 0], candidates[k]),
            scores=[float(x) for x in scores[k, :, 0]],
        ))
    return out

"""DRQ fitness: a candidate's share of survival in a melee with its opponents.

The paper's definition, per battle round of C cycles with N warriors: after
every cycle each living warrior earns ``1 / (number alive) / C``; the sum
times N is the round's score, and fitness is its mean over R rounds. A
warrior that ties everyone all the way scores 1, a lone survivor from the
first cycle scores N.

Rounds run as the public code runs them: until the cycle limit or until
every warrior is dead, never stopping at one survivor (the MARS kernel's
``all_dead``), each cycle stepping every living warrior once, candidate
first. A warrior that died in cycle e (the engine's ``executed``, one
instruction per cycle alive) was alive after cycles 1..e-1; a survivor after
all C. So each warrior has a lifetime ``L_w`` in cycles and the number alive
after cycle c is ``n(c) = #{v: L_v >= c}``.

Placements (``placement``):

* ``"drq"`` (the default, the public code's): warrior n of N, candidate
  first, sits in the n-th equal slice of the core plus a shift drawn from
  Python's ``random`` seeded with the round's seed (``battle.drq_positions``);
  the public code seeds battle round r with r, so every candidate meets the
  same R placements (common random numbers). Every cycle steps the warriors
  in the same order, so the lifetimes above are exact.
* ``"pmars"``: pMARS's placements (warrior at 0, the others drawn by pMARS's
  generator from each round's state), and the order of the warriors rotated
  by r in round r so the first mover changes, as pMARS rotates who starts.
  A warrior's cycle c is then its own c-th turn, which differs from the
  rotated global order by at most one turn for a warrior moving after one
  that died.

Closed form: sort the lifetimes ``l_1 <= ... <= l_N`` (``l_0 = 0``). Between
``l_{i-1}`` and ``l_i`` exactly ``N - i + 1`` warriors are alive, so the
warrior of rank j earns

    score_j = N / C * sum_{i=1..j} (l_i - l_{i-1}) / (N - i + 1)

Tied lifetimes make zero-length intervals, so any rank among equals gives
the same score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from primordium.corewar.battle import drq_positions, initial_seed, run_battles_on
from primordium.corewar.isa import Warrior
from primordium.errors import ConfigError
from primordium.redqueen.descriptors import describe

PLACEMENTS = ("drq", "pmars")


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


@dataclass
class Melee:
    """Per-round outcomes of K candidates' melees, arrays [K, R, N], the candidate in column 0.

    ``scores`` is the public code's per-round score (survival share times N),
    ``spawned`` its count of processes added by SPL, ``coverage`` the distinct
    cells its processes were queued at.
    """

    scores: np.ndarray
    spawned: np.ndarray
    coverage: np.ndarray


def drq_round_seeds(n_candidates: int, rounds: int) -> np.ndarray:
    """The public code's seeds for placement "drq": battle round r is seeded with r, for every candidate."""
    return np.tile(np.arange(rounds, dtype=np.int64), (n_candidates, 1))


def round_seeds(seed: int, round_: int, iteration: int, slot: int, n: int) -> np.ndarray:
    """MARS generator states of one candidate's n battle rounds (placement "pmars"), from where it stands in the run."""
    states = np.random.SeedSequence(
        [int(seed), int(round_), int(iteration) + 1, int(slot)]
    ).generate_state(n)
    return np.array([initial_seed(int(s) & 0x7FFFFFFF) for s in states], np.int64)


def check_placement(placement: str) -> str:
    if placement not in PLACEMENTS:
        raise ConfigError(
            f"placement: unknown value {placement!r} (known: {', '.join(PLACEMENTS)})"
        )
    return placement


def melee(
    candidates: Sequence[Warrior],
    opponents: Sequence[Warrior],
    settings,
    seeds: np.ndarray,
    executor=None,
    *,
    placement: str = "drq",
) -> Melee:
    """Every candidate in a melee with all ``opponents``, R rounds each, in one batch over all cores.

    ``seeds[k, r]`` seeds candidate k's battle round r: the seed of Python's
    ``random`` for placement "drq" (``drq_round_seeds``), a state of pMARS's
    generator for "pmars" (``round_seeds``). Each battle round is its own row
    of the batch, so even one candidate keeps every core busy.
    """
    check_placement(placement)
    seeds = np.asarray(seeds, np.int64)
    n_cand, n_rounds = seeds.shape
    assert n_cand == len(candidates)
    n = 1 + len(opponents)
    pool = list(candidates) + list(opponents)
    opp_idx = np.arange(n_cand, n_cand + len(opponents), dtype=np.int64)
    rows = np.empty((n_cand * n_rounds, n), np.int64)
    shifts = np.zeros(n_cand * n_rounds, np.int64)
    positions = None
    if placement == "drq":
        positions = np.empty((n_cand * n_rounds, 1, n), np.int64)
        opp_len = [w.length for w in opponents]
    for k in range(n_cand):
        base = np.concatenate([[k], opp_idx])
        for r in range(n_rounds):
            i = k * n_rounds + r
            if placement == "drq":
                rows[i] = base
                positions[i, 0] = drq_positions(
                    [candidates[k].length] + opp_len,
                    settings.core_size,
                    settings.distance,
                    int(seeds[k, r]),
                )
            else:
                shifts[i] = r % n
                rows[i] = np.roll(base, -shifts[i])
    row_seeds = np.zeros(len(rows), np.int64) if placement == "drq" else seeds.reshape(-1)
    res = run_battles_on(
        executor,
        pool,
        rows,
        settings.with_(rounds=1, warriors=n),
        row_seeds,
        track=True,
        until="all_dead",
        positions=positions,
    )

    def canonical(a: np.ndarray) -> np.ndarray:
        # Undo each row's rotation so column 0 is the candidate again: [cand, round, N].
        a = a[:, 0, :]
        out = np.empty_like(a)
        for i in range(a.shape[0]):
            out[i] = np.roll(a[i], shifts[i])
        return out.reshape(n_cand, n_rounds, n)

    alive, executed = canonical(res.alive), canonical(res.executed)
    scores = melee_scores(lifetimes(executed, alive, settings.cycles), settings.cycles)
    # The engine counts the first process too; the public code only those SPL added.
    return Melee(scores, canonical(res.spawned) - 1, canonical(res.coverage))


def evaluate(
    candidates: Sequence[Warrior],
    opponents: Sequence[Warrior],
    settings,
    seeds: np.ndarray,
    executor=None,
    *,
    placement: str = "drq",
) -> list[Evaluation]:
    """Fitness (mean score over the R rounds) and descriptors of each candidate, as the public code takes them.

    See ``melee`` for ``seeds`` and ``placement``.
    """
    seeds = np.asarray(seeds, np.int64)
    if seeds.shape[0] == 0:
        return []
    m = melee(candidates, opponents, settings, seeds, executor, placement=placement)
    return [
        Evaluation(
            fitness=float(m.scores[k, :, 0].mean()),
            descriptors=describe(m.spawned[k, :, 0], m.coverage[k, :, 0], candidates[k]),
            scores=[float(x) for x in m.scores[k, :, 0]],
        )
        for k in range(len(candidates))
    ]


def melee_report(files: Sequence[str], rounds: int, settings, *, placement: str = "drq") -> dict:
    """Per-round score, spawned and coverage of every warrior of one melee, candidate (files[0]) first.

    Round r is seeded with r: the public code's seed for placement "drq", and
    the pMARS generator state made from r for "pmars".
    """
    from primordium.corewar.redcode import assemble_file

    check_placement(placement)
    if rounds < 1:
        raise ConfigError(f"rounds: must be at least 1, got {rounds}")
    if len(files) < 2:
        raise ConfigError("warriors: give a candidate and at least one opponent")
    warriors = [assemble_file(f, settings) for f in files]
    n = len(warriors)
    if placement == "drq":
        seeds = drq_round_seeds(1, rounds)
    else:
        seeds = np.array([[initial_seed(r) for r in range(rounds)]], np.int64)
    m = melee(warriors[:1], warriors[1:], settings.with_(warriors=n), seeds, placement=placement)
    return {
        "rounds": rounds,
        "placement": placement,
        "warriors": [
            {
                "file": str(f),
                "fitness": [float(x) for x in m.scores[0, :, i]],
                "spawned": [int(x) for x in m.spawned[0, :, i]],
                "coverage": [int(x) for x in m.coverage[0, :, i]],
            }
            for i, f in enumerate(files)
        ],
    }

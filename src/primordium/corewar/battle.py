"""Battles, scores and tournaments on top of the MARS kernel.

``battle`` runs one set of warriors for R rounds; ``run_battles`` runs many
sets at once over all cores; ``tournament`` pairs every warrior with every
other. Positions follow pMARS: a ``position`` fixes warrior 2 at that offset
from warrior 1 in the first round (pMARS ``-F``), otherwise they come from the
seed; later rounds draw from pMARS's generator in both cases. Alternatively
the caller gives every round's positions (``drq_positions`` draws them the way
the Digital Red Queen code does).

``until`` says when a round ends: ``"one_left"`` (pMARS: when at most one
warrior is alive) or ``"all_dead"`` (the DRQ code: only at the cycle limit or
when no warrior is alive).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from primordium.corewar import mars_aot
from primordium.corewar.isa import Settings, Warrior
from primordium.corewar.words import AMODE_SHIFT, MOD_SHIFT, OP_SHIFT, RNG_MODULUS, pack_code
from primordium.errors import ConfigError
from primordium.tables import frame, names_line

if TYPE_CHECKING:
    from primordium.exec import Executor

_SEED_MIX = 2654435761
UNTIL = ("one_left", "all_dead")


@dataclass
class BattleResults:
    """Per-round outcomes of B battles of W warriors over R rounds (arrays [B, R, W])."""

    alive: np.ndarray  # survived the round
    death_rank: np.ndarray  # warriors alive just before it died (0: survived)
    executed: np.ndarray  # instructions it executed (= cycles it was alive)
    spawned: np.ndarray  # processes it ever had (1 + successful SPLs)
    coverage: np.ndarray  # distinct core cells its processes were queued at (see mars)
    positions: np.ndarray  # where it was loaded
    # The W warriors' names when every battle has the same ones (``battle``), else empty.
    names: tuple[str, ...] = ()

    @property
    def n_warriors(self) -> int:
        return self.alive.shape[2]

    def __repr__(self) -> str:
        b, r, w = self.alive.shape
        head = f"BattleResults({b} battle{'s' * (b != 1)} x {r} rounds of {w} warriors"
        if self.names:
            head += ": " + names_line(self.names)
        if b != 1:
            return head + ")"
        return (
            head + f"; wins {self.wins()[0].tolist()}, ties {self.ties()[0].tolist()}, "
            f"scores {self.scores()[0].tolist()})"
        )

    def to_pandas(self):
        """One row per battle and warrior: name, wins, ties, losses, score, as the methods give them."""
        b, _, w = self.alive.shape
        names = self.names or tuple(f"warrior {i + 1}" for i in range(w))
        wins, ties, losses, scores = self.wins(), self.ties(), self.losses(), self.scores()
        return frame(
            {
                "battle": k,
                "warrior": names[i],
                "wins": int(wins[k, i]),
                "ties": int(ties[k, i]),
                "losses": int(losses[k, i]),
                "score": int(scores[k, i]),
            }
            for k in range(b)
            for i in range(w)
        )

    def survivors(self) -> np.ndarray:
        """[B, R] number of warriors alive at the end of each round."""
        return self.alive.sum(axis=2)

    def wins(self) -> np.ndarray:
        """[B, W] rounds in which the warrior was the only survivor."""
        return (self.alive & (self.survivors() == 1)[:, :, None]).sum(axis=1)

    def ties(self) -> np.ndarray:
        """[B, W] rounds it survived together with others."""
        return (self.alive & (self.survivors() > 1)[:, :, None]).sum(axis=1)

    def losses(self) -> np.ndarray:
        """[B, W] rounds in which it died."""
        return (~self.alive).sum(axis=1)

    def score_table(self) -> np.ndarray:
        """[B, W, 2W-1] pMARS's per-warrior tallies.

        Column s-1 counts rounds survived with s survivors; column W+k-2
        counts deaths when k warriors were alive.
        """
        b, r, w = self.alive.shape
        table = np.zeros((b, w, 2 * w - 1), np.int64)
        surv = self.survivors()
        for s in range(1, w + 1):
            table[:, :, s - 1] = (self.alive & (surv == s)[:, :, None]).sum(axis=1)
        for k in range(2, w + 1):
            table[:, :, w + k - 2] = (self.death_rank == k).sum(axis=1)
        return table

    def scores(self) -> np.ndarray:
        """[B, W] pMARS's default score: (W*W-1)/S per round survived with S survivors."""
        w = self.n_warriors
        points = np.array([(w * w - 1) // s for s in range(1, w + 1)], np.int64)
        return self.score_table()[:, :, :w] @ points


def pool_arrays(warriors: Sequence[Warrior], settings: Settings):
    """Check warriors against the settings and concatenate their code for the kernels.

    Returns (words, a_numbers, b_numbers, offsets, lengths, starts, pins).
    """
    words, a_nums, b_nums, offs, lens, starts, pins = [], [], [], [], [], [], []
    off = 0
    for w in warriors:
        if w.length == 0:
            raise ConfigError(f"{w.file or w.name}: warrior has no instructions")
        if w.length > settings.length:
            raise ConfigError(
                f"{w.file or w.name}: warrior has {w.length} instructions, "
                f"more than length {settings.length}",
                field="length",
            )
        if w.core_size != settings.core_size:
            raise ConfigError(
                f"{w.file or w.name}: assembled for core size {w.core_size}, not {settings.core_size}; assemble it again"
            )
        code = np.asarray(w.code, dtype=np.int64)
        if code.min() < 0 or code[:, [3, 5]].max() >= settings.core_size:
            raise ConfigError(f"{w.file or w.name}: numbers outside 0..{settings.core_size - 1}")
        wd, an, bn = pack_code(code)
        words.append(wd)
        a_nums.append(an)
        b_nums.append(bn)
        offs.append(off)
        lens.append(w.length)
        starts.append(w.start)
        pins.append(-1 if w.pin is None else int(w.pin))
        off += w.length
    return (
        np.concatenate(words),
        np.concatenate(a_nums),
        np.concatenate(b_nums),
        np.array(offs, np.int64),
        np.array(lens, np.int64),
        np.array(starts, np.int64),
        np.array(pins, np.int64),
    )


def initial_seed(seed: int) -> int:
    """Turn a user's seed into a state of pMARS's generator (never 0, which is a fixed point)."""
    # The ahead-of-time kernel's rng where it is built already (no numba
    # import for one battle); it is the same function as mars.rng.
    kernel = mars_aot.kernels(1, build_missing=False)
    if kernel is None:
        from primordium.corewar import mars as kernel
    return int(kernel.rng(int(seed) % (RNG_MODULUS - 1) + 1))


def position_seed(position: int, settings: Settings) -> int:
    """The generator state that puts warrior 2 at ``position`` in round 1 (pMARS ``-F``)."""
    lo, hi = settings.distance, settings.core_size - settings.distance
    if not lo <= position <= hi:
        raise ConfigError(
            f"position: {position} is outside {lo}..{hi} "
            f"(distance {settings.distance} from warrior 1)",
            field="position",
        )
    return position - settings.distance


def drq_positions(lengths: Sequence[int], core_size: int, distance: int, seed: int) -> list[int]:
    """Where the DRQ code loads warriors in a round seeded with ``seed``.

    Warrior n goes to the start of the n-th of N equal slices of the core,
    shifted by a draw from Python's ``random`` seeded with the round's seed,
    one ``randint`` per warrior in order, so that a warrior's last
    instruction stays ``distance`` cells before the next slice.
    """
    draw = random.Random(int(seed))
    space = core_size // len(lengths)
    return [
        (k * space + draw.randint(0, max(0, space - int(n) - distance))) % core_size
        for k, n in enumerate(lengths)
    ]


def run_battles(
    pool: Sequence[Warrior],
    battles: np.ndarray,
    settings: Settings,
    seeds: np.ndarray,
    *,
    track: bool = True,
    until: str = "one_left",
    positions: np.ndarray | None = None,
) -> BattleResults:
    """Run ``battles[b]`` (indices into ``pool``) for ``settings.rounds`` rounds each.

    ``seeds[b]`` is the generator state of battle b (see ``initial_seed`` and
    ``position_seed``), unused where ``positions[b, r, i]`` gives where warrior
    i is loaded in round r. Battles are spread over all cores.
    """
    settings.validate()
    if until not in UNTIL:
        raise ConfigError(
            f"until: unknown value {until!r} (known: {', '.join(UNTIL)})", field="until"
        )
    battles = np.ascontiguousarray(battles, dtype=np.int64)
    if battles.ndim != 2 or battles.shape[1] < 1:
        raise ValueError("battles must be [n_battles, n_warriors]")
    n_battles, n = battles.shape
    if positions is None:
        if n * settings.distance > settings.core_size:
            raise ConfigError(
                f"distance: {n} warriors at distance {settings.distance} "
                f"do not fit in core {settings.core_size}",
                field="distance",
            )
        given = np.zeros((n_battles, 0, 0), np.int64)
    else:
        given = np.ascontiguousarray(positions, dtype=np.int64)
        if given.shape != (n_battles, settings.rounds, n):
            raise ValueError(
                f"positions must be [n_battles, rounds, n_warriors] = {(n_battles, settings.rounds, n)}"
            )
        given = given % settings.core_size
    code_w, code_a, code_b, offs, lens, starts, pins = pool_arrays(pool, settings)
    shape = (n_battles, settings.rounds, n)
    alive = np.zeros(shape, np.bool_)
    death = np.zeros(shape, np.int64)
    executed = np.zeros(shape, np.int64)
    spawned = np.zeros(shape, np.int64)
    coverage = np.zeros(shape, np.int64)
    loaded = np.zeros(shape, np.int64)
    args = (
        code_w,
        code_a,
        code_b,
        offs,
        lens,
        starts,
        pins,
        battles,
        np.ascontiguousarray(seeds, dtype=np.int64),
        settings.core_size,
        settings.cycles,
        settings.processes,
        settings.distance,
        settings.pspace,
        settings.rounds,
        bool(track),
        alive,
        death,
        executed,
        spawned,
        coverage,
        loaded,
        until == "all_dead",
        given,
    )
    aot = mars_aot.kernels(n_battles)
    if aot is not None:
        # The same kernel compiled ahead of time: no numba import, battles in turn.
        aot.run_battles(*args)
        return BattleResults(alive, death, executed, spawned, coverage, loaded)
    import numba

    from primordium.corewar import mars

    # Battles differ wildly in length; hand them out one at a time so no core
    # idles while another works through a chunk of long ones.
    previous = numba.set_parallel_chunksize(1)
    try:
        mars.run_battles(*args)
    finally:
        numba.set_parallel_chunksize(previous)
    return BattleResults(alive, death, executed, spawned, coverage, loaded)


def run_battles_on(
    executor: Executor | None,
    pool: Sequence[Warrior],
    battles: np.ndarray,
    settings: Settings,
    seeds: np.ndarray,
    *,
    track: bool = True,
    on_progress: Callable[[int], None] | None = None,
    until: str = "one_left",
    positions: np.ndarray | None = None,
) -> BattleResults:
    """``run_battles`` in chunks: as an executor's tasks, or here with progress.

    Without an executor the chunks run in this process over all cores, and
    only when ``on_progress(n_battles_done)`` wants to hear of them. Results
    are concatenated in order, so they never depend on the executor.
    """
    battles = np.asarray(battles, np.int64)
    seeds = np.asarray(seeds, np.int64)
    if executor is None:
        import numba

        # Chunks big enough to keep every core busy, small enough to show progress.
        size = len(battles) if on_progress is None else max(16, 4 * numba.get_num_threads())
    else:
        size = max(1, -(-len(battles) // (4 * executor.workers)))
    tasks = [
        (
            list(pool),
            battles[lo : lo + size],
            settings,
            seeds[lo : lo + size],
            track,
            until,
            None if positions is None else np.asarray(positions)[lo : lo + size],
        )
        for lo in range(0, len(battles), max(1, size))
    ]

    def done(_: int, part: BattleResults) -> None:
        if on_progress is not None:
            on_progress(part.alive.shape[0])

    if executor is None:
        parts = []
        for k, task in enumerate(tasks):
            parts.append(_battles_task(task))
            done(k, parts[-1])
    else:
        parts = executor.map(_battles_task, tasks, on_done=done)
    if len(parts) == 1:
        return parts[0]
    return BattleResults(
        *(
            np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(BattleResults)
            if f.name != "names"
        )
    )


def _battles_task(task) -> BattleResults:
    """One chunk of battles (module level, so an executor can pickle it)."""
    pool, battles, settings, seeds, track, until, positions = task
    return run_battles(
        pool, battles, settings, seeds, track=track, until=until, positions=positions
    )


def battle(
    warriors: Sequence[Warrior],
    settings: Settings = Settings(),
    *,
    seed: int = 0,
    position: int | None = None,
    track: bool = True,
) -> BattleResults:
    """One battle of any number of warriors; results have a leading axis of 1."""
    if not warriors:
        raise ConfigError("a battle needs at least one warrior")
    n = len(warriors)
    s = position_seed(position, settings) if position is not None else initial_seed(seed)
    res = run_battles(
        list(warriors), np.arange(n, dtype=np.int64)[None, :], settings, np.array([s]), track=track
    )
    res.names = tuple(w.name for w in warriors)
    return res


@dataclass
class Tournament:
    """Every pair of warriors: ``wins[i, j]`` rounds i won against j, and so on."""

    wins: np.ndarray
    losses: np.ndarray
    ties: np.ndarray
    names: tuple[str, ...] = ()  # the warriors' names, in the order of the rows

    def scores(self) -> np.ndarray:
        """Total points per warrior (3 per win, 1 per tie)."""
        return 3 * self.wins.sum(axis=1) + self.ties.sum(axis=1)

    def _names(self) -> tuple[str, ...]:
        return self.names or tuple(f"warrior {i + 1}" for i in range(len(self.wins)))

    def __repr__(self) -> str:
        n = len(self.wins)
        if n == 0:
            return "Tournament(0 warriors)"
        names, scores = self._names(), self.scores()
        best = int(np.argmax(scores))
        return (
            f"Tournament({n} warriors: {names_line(names)}; "
            f"best {names[best]!r} with {int(scores[best])} points)"
        )

    def to_pandas(self, pairs: bool = False):
        """The ranking: one row per warrior (name, wins, ties, losses, score), best first.

        ``pairs=True`` gives every ordered pair instead (warrior, opponent,
        wins, ties, losses of the warrior against that opponent).
        """
        names = self._names()
        if pairs:
            n = len(names)
            return frame(
                {
                    "warrior": names[i],
                    "opponent": names[j],
                    "wins": int(self.wins[i, j]),
                    "ties": int(self.ties[i, j]),
                    "losses": int(self.losses[i, j]),
                }
                for i in range(n)
                for j in range(n)
                if i != j
            )
        scores = self.scores()
        order = sorted(range(len(names)), key=lambda i: (-int(scores[i]), i))
        return frame(
            {
                "warrior": names[i],
                "wins": int(self.wins[i].sum()),
                "ties": int(self.ties[i].sum()),
                "losses": int(self.losses[i].sum()),
                "score": int(scores[i]),
            }
            for i in order
        )


def pair_seed(seed: int, i: int, j: int) -> int:
    """A distinct, reproducible generator state for the pair (i, j)."""
    return initial_seed((int(seed) * _SEED_MIX + i * 100003 + j) & 0x7FFFFFFF)


def tournament(
    warriors: Sequence[Warrior],
    settings: Settings = Settings(),
    *,
    seed: int = 0,
    position: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> Tournament:
    """Round robin: each unordered pair fights ``settings.rounds`` rounds.

    Pairs run in chunks, in this process over all cores or, given an
    executor, as its tasks; ``on_progress(k)`` hears of each finished chunk.
    """
    n = len(warriors)
    pairs = np.array(list(combinations(range(n), 2)), dtype=np.int64).reshape(-1, 2)
    if position is not None:
        seeds = np.full(len(pairs), position_seed(position, settings), np.int64)
    else:
        seeds = np.array([pair_seed(seed, i, j) for i, j in pairs], np.int64)
    res = run_battles_on(
        executor, list(warriors), pairs, settings, seeds, track=False, on_progress=on_progress
    )
    wins = np.zeros((n, n), np.int64)
    losses = np.zeros((n, n), np.int64)
    ties = np.zeros((n, n), np.int64)
    w, lost, t = res.wins(), res.losses(), res.ties()
    i, j = pairs[:, 0], pairs[:, 1]
    wins[i, j], wins[j, i] = w[:, 0], w[:, 1]
    losses[i, j], losses[j, i] = lost[:, 0], lost[:, 1]
    ties[i, j], ties[j, i] = t[:, 0], t[:, 1]
    return Tournament(wins, losses, ties, tuple(w.name for w in warriors))


@dataclass
class CoreState:
    """The core and process queues after a round (or part of one)."""

    word: np.ndarray  # packed opcode/modifier/modes, see mars.pack_code
    a: np.ndarray
    b: np.ndarray
    queues: list[list[int]]  # each warrior's process queue, next to run first
    survivors: int

    def cell(self, addr: int) -> tuple[int, int, int, int, int, int]:
        """(opcode, modifier, a_mode, a_number, b_mode, b_number) at ``addr``."""
        w = int(self.word[addr % len(self.word)])
        return (
            w >> OP_SHIFT,
            (w >> MOD_SHIFT) & 7,
            (w >> AMODE_SHIFT) & 7,
            int(self.a[addr % len(self.a)]),
            w & 7,
            int(self.b[addr % len(self.b)]),
        )


def simulate_round(
    warriors: Sequence[Warrior],
    positions: Sequence[int],
    settings: Settings = Settings(),
    *,
    starter: int = 0,
    until: str = "one_left",
    record: tuple | None = None,
) -> CoreState:
    """Run one round with warriors at given positions for ``settings.cycles`` turns each.

    For inspection (tests, replays): returns the final core and queues.
    Warrior 0 must sit at position 0, as in every MARS round. ``record``
    (``mars.recording``) also records who wrote each cell, for a replay.
    """
    n = len(warriors)
    code_w, code_a, code_b, offs, lens, starts, pins = pool_arrays(warriors, settings)
    cs = settings.core_size
    core_w = np.empty(cs, np.int32)
    core_a = np.empty(cs, np.int32)
    core_b = np.empty(cs, np.int32)
    queue = np.empty((n, settings.processes), np.int32)
    qhead = np.zeros(n, np.int64)
    qcount = np.zeros(n, np.int64)
    ps_row = np.arange(n, dtype=np.int64)
    pspace = np.zeros((n, settings.pspace), np.int32)
    last = np.full(n, cs - 1, np.int32)
    seen = np.zeros((n, cs), np.uint8)
    outs = [np.zeros(n, np.int64) for _ in range(4)]
    from primordium.corewar import mars

    left = mars.run_round(
        core_w,
        core_a,
        core_b,
        queue,
        qhead,
        qcount,
        code_w,
        code_a,
        code_b,
        offs,
        lens,
        starts,
        np.asarray(positions, np.int64),
        starter,
        settings.cycles,
        settings.processes,
        pspace,
        ps_row,
        last,
        True,
        seen,
        *outs,
        until == "all_dead",
        record,
    )
    queues = [
        [int(queue[i, (qhead[i] + k) % settings.processes]) for k in range(int(qcount[i]))]
        for i in range(n)
    ]
    return CoreState(core_w, core_a, core_b, queues, int(left))

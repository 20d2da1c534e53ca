"""The soup and its epoch: pair, concatenate, mutate, run, split.

A soup is ``uint8[N, L]``. Every random choice of epoch ``e`` depends only on
``(seed, e)``, so an epoch is a pure function of (soup, config, e) and a
resumed run replays exactly. Two sources of those choices (``draws``):
``cubff``, the SplitMix64 hashes cubff itself computes, so one seed gives
cubff's soup byte for byte (soup/cubff_draws.py), and ``numpy``, a PCG64
generator seeded with (seed, e), the only source before cubff's existed. The
pairing modes and resets are cubff's (see docs/soup.md for how each matches it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from numba import njit

from primordium.errors import ConfigError
from primordium.soup import cubff_draws
from primordium.soup.languages import Language, get_language, run_batch
from primordium.soup.pattern import Interactions
from primordium.soup.programs import parse_program

DEFAULT_PROGRAMS = 2**17
DEFAULT_LENGTH = 64
DEFAULT_MUTATION = 1 / 4096  # cubff's default, 2^18 / 2^30
DEFAULT_STEPS = 2**13
# shuffle: a uniform random pairing each epoch (cubff's default);
# cyclic: no reshuffling, neighbours (2i, 2i+1) and (2i-1, 2i) in turn (cubff's --nopermute_programs);
# fixed: cubff's deterministic --fixed_shuffle (a power-of-two soup).
PAIRINGS = ("shuffle", "cyclic", "fixed")
# cubff: cubff's own hashes (the default for new soups: a soup named after the
# paper draws as its code does); numpy: PCG64 of (seed, epoch), which every
# soup stored before the field existed used, so a config without it reads as numpy.
DRAWS = ("cubff", "numpy")


@dataclass(frozen=True)
class SoupConfig:
    lang: str = "bff_noheads"
    programs: int = DEFAULT_PROGRAMS
    length: int = DEFAULT_LENGTH
    mutation: float = DEFAULT_MUTATION
    max_steps: int = DEFAULT_STEPS
    seed: int = 0
    # 2D soup: programs on a width x height grid pair only with neighbours
    # within Chebyshev distance `radius` (edges do not wrap).
    grid: tuple[int, int] | None = None
    radius: int = 2
    pairing: str = "shuffle"
    # The interaction-pattern file the run was started with (the graph itself
    # travels beside the config: see ``epoch``'s ``interactions``).
    interactions: str | None = None
    zero_init: bool = False
    initial_program: str | None = None
    reset_interval: int | None = None
    draws: str = "cubff"
    _language: Language | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_language", get_language(self.lang))
        if self.grid is not None:
            object.__setattr__(self, "grid", (int(self.grid[0]), int(self.grid[1])))
            w, h = self.grid
            if w < 1 or h < 1:
                raise ConfigError(f"grid {w}x{h}: both sides must be at least 1", field="grid")
            if w * h != self.programs:
                raise ConfigError(
                    f"grid {w}x{h} has {w * h} cells but programs is {self.programs}",
                    field=("grid", "programs"),
                )
            if self.radius < 1:
                raise ConfigError(f"radius must be at least 1, got {self.radius}", field="radius")
        if self.programs < 2 or self.programs % 2:
            raise ConfigError(
                f"programs must be an even number of at least 2, got {self.programs}",
                field="programs",
            )
        if self.length < 4:
            raise ConfigError(f"length must be at least 4 bytes, got {self.length}", field="length")
        if not 0.0 <= self.mutation <= 1.0:
            raise ConfigError(
                f"mutation is a probability per byte, got {self.mutation}", field="mutation"
            )
        if self.max_steps < 1:
            raise ConfigError(
                f"max_steps must be at least 1, got {self.max_steps}", field="max_steps"
            )
        if self.seed < 0:
            raise ConfigError(f"seed must be non-negative, got {self.seed}", field="seed")
        if self.pairing not in PAIRINGS:
            raise ConfigError(
                f"pairing must be one of {', '.join(PAIRINGS)}, not {self.pairing!r}",
                field="pairing",
            )
        modes = [
            m
            for m, on in (
                ("grid", self.grid is not None),
                ("interactions", self.interactions is not None),
                (f"pairing {self.pairing}", self.pairing != "shuffle"),
            )
            if on
        ]
        if len(modes) > 1:
            raise ConfigError(f"{' and '.join(modes)} are different ways of pairing: choose one")
        if self.pairing == "fixed" and self.programs & (self.programs - 1):
            raise ConfigError(
                f"pairing fixed needs a power-of-two number of programs, got {self.programs}"
            )
        if self.draws not in DRAWS:
            raise ConfigError(
                f"draws must be one of {', '.join(DRAWS)}, not {self.draws!r}", field="draws"
            )
        if self.draws == "cubff" and self.seed >= 1 << 64:
            raise ConfigError(
                f"seed must be below 2^64 with draws cubff (cubff's size_t), got {self.seed}",
                field="seed",
            )
        if self.reset_interval is not None and self.reset_interval < 1:
            raise ConfigError(f"reset_interval must be at least 1, got {self.reset_interval}")
        if self.initial_program is not None:
            placed = initial_program_bytes(self)
            if len(placed) > self.programs * self.length:
                raise ConfigError(
                    f"initial_program has {len(placed)} bytes; the soup holds "
                    f"{self.programs * self.length}"
                )

    @property
    def language(self) -> Language:
        assert self._language is not None
        return self._language

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("_language")
        d["grid"] = list(self.grid) if self.grid else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SoupConfig:
        keys = {
            "lang",
            "programs",
            "length",
            "mutation",
            "max_steps",
            "seed",
            "grid",
            "radius",
            "pairing",
            "interactions",
            "zero_init",
            "initial_program",
            "reset_interval",
            "draws",
        }
        kw = {k: v for k, v in d.items() if k in keys}
        # Soups stored before ``draws`` existed drew from numpy: they resume as they ran.
        kw.setdefault("draws", "numpy")
        if kw.get("grid") is not None:
            kw["grid"] = tuple(kw["grid"])
        return cls(**kw)


def initial_program_bytes(config: SoupConfig) -> np.ndarray:
    return parse_program(config.initial_program or "", config.lang)


def fresh_soup(config: SoupConfig, index: int = 0) -> np.ndarray:
    """Soup number ``index`` of a run: the start (0) or a reset (1, 2, ...); zeros with ``zero_init``."""
    if config.zero_init:
        return np.zeros((config.programs, config.length), dtype=np.uint8)
    if config.draws == "cubff":
        k_seed = np.uint64(cubff_draws.stream(cubff_draws.base_seed(config.seed), np.uint64(index)))
        return cubff_draws.fresh_programs(config.programs, config.length, k_seed)
    rng = np.random.default_rng([config.seed, index, 0])
    return rng.integers(0, 256, size=(config.programs, config.length), dtype=np.uint8)


def initial_soup(config: SoupConfig) -> np.ndarray:
    """Uniform random bytes (or zeros) from the seed alone, the initial program written over its start.

    As in cubff, the program's bytes go to the start of the soup, spilling
    into the next programs if it is longer than one.
    """
    soup = fresh_soup(config, 0)
    if config.initial_program:
        placed = initial_program_bytes(config)
        soup.reshape(-1)[: len(placed)] = placed
    return soup


def reset_soup(config: SoupConfig, index: int, current) -> np.ndarray:
    """The soup after reset number ``index`` (1, 2, ...); ``current()`` gives the soup before it.

    With cubff's draws, as cubff: its reset covers whole blocks of 32
    programs only, so the last N mod 32 programs keep their bytes.
    """
    soup = fresh_soup(config, index)
    kept = config.programs % cubff_draws.RESET_BLOCK if config.draws == "cubff" else 0
    if kept:
        soup[-kept:] = current()[-kept:]
    return soup


def resets_after(config: SoupConfig, index: int) -> bool:
    """Whether the soup is replaced by a fresh one after epoch ``index`` (cubff: index % interval == 0, 0 included)."""
    return config.reset_interval is not None and index % config.reset_interval == 0


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch + 1, 1])


def mutation_draws(size: int, rate: float, rng: np.random.Generator):
    """Where and what the background mutation writes in ``size`` bytes: (positions, bytes).

    Drawing the count then distinct positions is the same law as a coin per
    byte, and costs O(mutations) rather than O(bytes).
    """
    k = int(rng.binomial(size, rate)) if rate > 0 else 0
    if not k:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint8)
    where = rng.choice(size, size=k, replace=False).astype(np.int64)
    return where, rng.integers(0, 256, size=k, dtype=np.uint8)


def mutate(flat: np.ndarray, rate: float, rng: np.random.Generator) -> int:
    """Replace each byte with a uniform random byte with probability ``rate``, in place."""
    where, values = mutation_draws(flat.shape[0], rate, rng)
    flat[where] = values
    return len(where)


@njit(cache=True)
def grid_pairs(width, height, radius, order, choice):
    """Pair programs with a random free neighbour; visit them in ``order``.

    Each visited, still-free program draws one neighbour (``choice`` in [0, 1)
    picks it) among the grid cells within ``radius``; the pair forms if that
    neighbour is free too. Returns the pairs (a, b), with a the visitor.
    """
    n = width * height
    used = np.zeros(n, dtype=np.bool_)
    a = np.empty(n // 2, dtype=np.int64)
    b = np.empty(n // 2, dtype=np.int64)
    count = 0
    for k in range(n):
        i = order[k]
        if used[i]:
            continue
        cells = cubff_draws.window_size(i, width, height, radius)
        if cells <= 0:
            continue
        r = min(int(choice[k] * cells), cells - 1)
        j = cubff_draws.window_cell(i, width, height, radius, r)
        if used[j]:
            continue
        used[i] = True
        used[j] = True
        a[count] = i
        b[count] = j
        count += 1
    return a[:count], b[:count]


@njit(cache=True)
def pattern_pairs(offsets, targets, order, choice):
    """Pair programs along an interaction pattern, visiting them in ``order``.

    Each visited program with partners draws one (``choice`` in [0, 1) picks
    it); the pair forms if neither is paired yet. As cubff, the draw happens
    even for a program already paired.
    """
    n = offsets.shape[0] - 1
    used = np.zeros(n, dtype=np.bool_)
    a = np.empty(n // 2, dtype=np.int64)
    b = np.empty(n // 2, dtype=np.int64)
    count = 0
    for k in range(n):
        i = order[k]
        degree = offsets[i + 1] - offsets[i]
        if degree == 0:
            continue
        j = targets[offsets[i] + min(int(choice[k] * degree), degree - 1)]
        if used[i] or used[j]:
            continue
        used[i] = True
        used[j] = True
        a[count] = i
        b[count] = j
        count += 1
    return a[:count], b[:count]


def fixed_pairs(n: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """cubff's fixed shuffle: slot i holds program (i * (2^(index mod log2 n + 1) - 1) mod n) xor (index & 1)."""
    bits = n.bit_length() - 1
    offset = (1 << (index % bits + 1)) - 1
    order = ((np.arange(n, dtype=np.int64) * offset) % n) ^ (index & 1)
    return order[0::2], order[1::2]


def cyclic_pairs(n: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """No reshuffling: (0,1), (2,3), ... after odd epochs; (n-1,0), (1,2), ... after even ones, as cubff."""
    order = np.arange(n, dtype=np.int64)
    if index % 2 == 0:
        order = np.roll(order, 1)
    return order[0::2], order[1::2]


@dataclass(frozen=True)
class EpochPlan:
    """Every random choice of one epoch, drawn on the host; the CPU and GPU paths both apply it.

    With ``perm`` (the 1D well-mixed soup) the tapes are the programs in that
    order, two by two, the mutation positions index those tapes' bytes, and
    the soup is stored in that order afterwards. Otherwise the pairs are
    (``a[i]``, ``b[i]``), every program keeps its slot, and the mutation
    positions index the soup's bytes before the pairs run (unpaired programs
    feel it too).
    """

    perm: np.ndarray | None
    a: np.ndarray | None
    b: np.ndarray | None
    where: np.ndarray
    values: np.ndarray


def epoch_plan(
    config: SoupConfig, index: int, interactions: Interactions | None = None
) -> EpochPlan:
    """Epoch ``index``'s draws, pairing then mutation, from the generator of (seed, index)."""
    if config.draws != "numpy":
        # A plan of numpy's draws for a soup that draws as cubff would silently be another soup.
        raise ValueError("epoch_plan is numpy's draws; this soup draws as cubff (cubff_order)")
    rng = epoch_rng(config.seed, index)
    n, size = config.programs, config.programs * config.length
    if config.interactions is not None:
        if interactions is None:
            raise ValueError(
                "this soup pairs along an interaction pattern: pass it as `interactions`"
            )
        order = rng.permutation(n)
        choice = rng.random(n)
        a, b = pattern_pairs(interactions.offsets, interactions.targets, order, choice)
    elif config.pairing == "cyclic":
        a, b = cyclic_pairs(n, index)
    elif config.pairing == "fixed":
        a, b = fixed_pairs(n, index)
    elif config.grid is None:
        perm = rng.permutation(n).astype(np.int64)
        return EpochPlan(perm, None, None, *mutation_draws(size, config.mutation, rng))
    else:
        width, height = config.grid
        order = rng.permutation(n)
        choice = rng.random(n)
        a, b = grid_pairs(width, height, config.radius, order, choice)
    where, values = mutation_draws(size, config.mutation, rng)
    return EpochPlan(None, np.ascontiguousarray(a), np.ascontiguousarray(b), where, values)


def apply_plan(
    soup: np.ndarray, config: SoupConfig, plan: EpochPlan
) -> tuple[np.ndarray, int, int]:
    """Run one epoch's plan on the host; return (new soup, ops executed, tapes run)."""
    n, length = soup.shape
    if plan.perm is not None:
        tapes = np.take(soup, plan.perm, axis=0).reshape(n // 2, 2 * length)
        tapes.reshape(-1)[plan.where] = plan.values
        ops = run_batch(config.language.id, tapes, config.max_steps)
        return tapes.reshape(n, length), int(ops.sum()), n // 2
    out = soup.copy()
    out.reshape(-1)[plan.where] = plan.values
    tapes = np.concatenate([out[plan.a], out[plan.b]], axis=1)
    ops = run_batch(config.language.id, tapes, config.max_steps)
    out[plan.a] = tapes[:, :length]
    out[plan.b] = tapes[:, length:]
    return out, int(ops.sum()), len(plan.a)


def epoch(
    soup: np.ndarray, config: SoupConfig, index: int, interactions: Interactions | None = None
) -> tuple[np.ndarray, int, int]:
    """Run epoch ``index`` on ``soup``; return (new soup, ops executed, tapes run).

    With cubff's draws every program goes back to its slot, as in cubff.
    With numpy's, the 1D soup is stored in the order its random permutation
    paired it (program slots carry no meaning in a well-mixed soup) and every
    other pairing (2D grid, interaction pattern, cyclic, fixed) keeps each
    program in its slot. A soup with ``config.interactions`` needs the parsed
    pattern as ``interactions``.
    """
    if config.draws == "cubff":
        return cubff_epoch(soup, config, index, interactions)
    return apply_plan(soup, config, epoch_plan(config, index, interactions))


def cubff_order(
    config: SoupConfig, index: int, interactions: Interactions | None = None
) -> tuple[np.ndarray, int]:
    """With cubff's draws: epoch ``index``'s order of the N slots, two by two, and how many pairs run.

    Every pair in the order is mutated; the first ``count`` run (the rest are
    the programs an interaction pattern or the grid left unpaired).
    """
    n = config.programs
    base = cubff_draws.base_seed(config.seed)
    if config.interactions is not None:
        if interactions is None:
            raise ValueError(
                "this soup pairs along an interaction pattern: pass it as `interactions`"
            )
        order, count = cubff_draws.pattern_order(
            interactions.offsets, interactions.targets, base, np.uint64(index)
        )
        return order, int(count)
    if config.grid is not None:
        width, height = config.grid
        order, count = cubff_draws.grid_order(width, height, config.radius, base, np.uint64(index))
        return order, int(count)
    if config.pairing == "shuffle":
        return cubff_draws.shuffled(base, np.uint64(index), n), n // 2
    a, b = (cyclic_pairs if config.pairing == "cyclic" else fixed_pairs)(n, index)
    order = np.empty(n, dtype=np.int64)
    order[0::2], order[1::2] = a, b
    return order, n // 2


def cubff_epoch(
    soup: np.ndarray, config: SoupConfig, index: int, interactions: Interactions | None = None
) -> tuple[np.ndarray, int, int]:
    """Epoch ``index`` with cubff's draws: cubff's ``MutateAndRunPrograms`` along ``cubff_order``."""
    order, count = cubff_order(config, index, interactions)
    e_seed = cubff_draws.stream(cubff_draws.base_seed(config.seed), np.uint64(index))
    out, ops = cubff_draws.run_order(
        config.language.id,
        np.ascontiguousarray(soup, dtype=np.uint8),
        order,
        count,
        e_seed,
        cubff_draws.mutation_threshold(config.mutation),
        config.max_steps,
    )
    return out, int(ops.sum()), count

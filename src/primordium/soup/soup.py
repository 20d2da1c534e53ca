"""The soup and its epoch: pair, concatenate, mutate, run, split.

A soup is ``uint8[N, L]``. Every random choice of epoch ``e`` comes from a
generator seeded with ``(seed, e)``, so an epoch is a pure function of
(soup, config, e) and a resumed run replays exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from numba import njit

from primordium.errors import ConfigError
from primordium.soup.languages import Language, get_language, run_batch

DEFAULT_PROGRAMS = 2**17
DEFAULT_LENGTH = 64
DEFAULT_MUTATION = 0.00024
DEFAULT_STEPS = 2**13


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
    _language: Language | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_language", get_language(self.lang))
        if self.grid is not None:
            object.__setattr__(self, "grid", (int(self.grid[0]), int(self.grid[1])))
            w, h = self.grid
            if w < 1 or h < 1:
                raise ConfigError(f"--grid {w}x{h}: both sides must be at least 1")
            if w * h != self.programs:
                raise ConfigError(f"--grid {w}x{h} holds {w * h} programs but --programs is {self.programs}")
            if self.radius < 1:
                raise ConfigError(f"--radius must be at least 1, got {self.radius}")
        if self.programs < 2 or self.programs % 2:
            raise ConfigError(f"--programs must be an even number of at least 2, got {self.programs}")
        if self.length < 4:
            raise ConfigError(f"--length must be at least 4 bytes, got {self.length}")
        if not 0.0 <= self.mutation <= 1.0:
            raise ConfigError(f"--mutation is a probability per byte, got {self.mutation}")
        if self.max_steps < 1:
            raise ConfigError(f"--steps must be at least 1, got {self.max_steps}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be non-negative, got {self.seed}")

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
    def from_dict(cls, d: dict) -> "SoupConfig":
        keys = {"lang", "programs", "length", "mutation", "max_steps", "seed", "grid", "radius"}
        kw = {k: v for k, v in d.items() if k in keys}
        if kw.get("grid") is not None:
            kw["grid"] = tuple(kw["grid"])
        return cls(**kw)


def initial_soup(config: SoupConfig) -> np.ndarray:
    """Uniform random bytes, from the seed alone."""
    rng = np.random.default_rng([config.seed, 0, 0])
    return rng.integers(0, 256, size=(config.programs, config.length), dtype=np.uint8)


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch + 1, 1])


def mutate(flat: np.ndarray, rate: float, rng: np.random.Generator) -> int:
    """Replace each byte with a uniform random byte with probability ``rate``, in place.

    Drawing the count then the positions is the same law as a coin per byte,
    and costs O(mutations) rather than O(bytes).
    """
    n = flat.shape[0]
    k = int(rng.binomial(n, rate)) if rate > 0 else 0
    if k:
        where = rng.choice(n, size=k, replace=False)
        flat[where] = rng.integers(0, 256, size=k, dtype=np.uint8)
    return k


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
        x = i % width
        y = i // width
        x0 = max(x - radius, 0)
        x1 = min(x + radius, width - 1)
        y0 = max(y - radius, 0)
        y1 = min(y + radius, height - 1)
        cells = (x1 - x0 + 1) * (y1 - y0 + 1) - 1
        if cells <= 0:
            continue
        r = min(int(choice[k] * cells), cells - 1)
        # The r-th cell of the window in row-major order, skipping the centre.
        w = x1 - x0 + 1
        c = r if r < (y - y0) * w + (x - x0) else r + 1
        j = (y0 + c // w) * width + (x0 + c % w)
        if used[j]:
            continue
        used[i] = True
        used[j] = True
        a[count] = i
        b[count] = j
        count += 1
    return a[:count], b[:count]


def epoch(soup: np.ndarray, config: SoupConfig, index: int) -> tuple[np.ndarray, int, int]:
    """Run epoch ``index`` on ``soup``; return (new soup, ops executed, tapes run).

    1D: a random permutation pairs the programs; the soup is stored in that
    order afterwards (program slots carry no meaning in a well-mixed soup).
    2D: programs keep their cells and pair with neighbours.
    """
    rng = epoch_rng(config.seed, index)
    n, length = soup.shape
    if config.grid is None:
        perm = rng.permutation(n)
        tapes = np.take(soup, perm, axis=0).reshape(n // 2, 2 * length)
        mutate(tapes.reshape(-1), config.mutation, rng)
        ops = run_batch(config.language.id, tapes, config.max_steps)
        return tapes.reshape(n, length), int(ops.sum()), n // 2
    width, height = config.grid
    order = rng.permutation(n)
    choice = rng.random(n)
    a, b = grid_pairs(width, height, config.radius, order, choice)
    out = soup.copy()
    # Unpaired programs do not run this epoch but still feel the background mutation.
    mutate(out.reshape(-1), config.mutation, rng)
    tapes = np.concatenate([out[a], out[b]], axis=1)
    ops = run_batch(config.language.id, tapes, config.max_steps)
    out[a] = tapes[:, :length]
    out[b] = tapes[:, length:]
    return out, int(ops.sum()), len(a)

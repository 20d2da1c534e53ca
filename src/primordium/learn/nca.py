"""Trajectories of random neural cellular automata as tokens, for pre-pre-training a GPT.

After Lee, Han, Kumar & Agrawal, "Training Language Models via Neural
Cellular Automata" (2026). Their code is not in ``../shared``, so this is
the experiment's design at small scale, not their code; the choices they
do not pin down here are ours (see docs/learn.md).

A rule is a small network drawn at random from (seed, rule index): each cell
holds one of ``states`` symbols on a ``size`` x ``size`` torus; its one-hot
3x3 neighbourhood goes through a linear layer to ``hidden`` units, a ReLU and
a linear layer to one logit per symbol. The next symbol is sampled from the
softmax of logits / ``temperature`` (``sampling="sample"``, via Gumbel noise
drawn up front from the rule's own stream) or is the argmax
(``sampling="argmax"``). Everything about a rule's trajectory (weights,
first grid, noise) is a pure function of (seed, rule index), so batches of
rules can be stepped together in numpy and still give each rule the same
trajectory it gets alone.

Tokens: ``patch`` x ``patch`` blocks of cells are one token,
``sum(cell_i * states**i)`` over the block's cells in row-major order,
so the vocabulary is ``states ** patch**2`` patch values plus GRID_START and
GRID_END around each frame. A rule's complexity is the zlib-compressed size
of its trajectory's cell bytes over their raw size (lower: more
compressible, simpler dynamics); a band ``[lo, hi]`` keeps the rules inside.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np

from primordium.errors import ConfigError

# Separate random streams of a seed: rules of the training data never share draws
# with the held-out rules that validation reads.
TRAIN_RULES, VALID_RULES = 0, 1
SAMPLING = ("sample", "argmax")
# 3x3 neighbourhood offsets (dy, dx), row-major: the order of the first layer's rows.
_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


@dataclass(frozen=True)
class NCAConfig:
    states: int = 10
    size: int = 12
    patch: int = 2
    hidden: int = 16
    temperature: float = 0.2
    sampling: str = "sample"
    # Frames per trajectory, the first (random) grid included.
    frames: int = 8
    # Keep rules whose complexity (compressed / raw size) lies in [band_low, band_high].
    band_low: float = 0.0
    band_high: float = 1.0

    def __post_init__(self) -> None:
        for name, least in (("states", 2), ("size", 1), ("patch", 1), ("hidden", 1), ("frames", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < least:
                raise ConfigError(
                    f"{name} must be an integer of at least {least}, got {value!r}", field=name
                )
        if self.size % self.patch:
            raise ConfigError(
                f"size {self.size} is not a multiple of patch {self.patch}", field=("size", "patch")
            )
        if self.states ** (self.patch * self.patch) > 2**20:
            raise ConfigError(
                f"states ** (patch * patch) = {self.states ** (self.patch * self.patch)} patch "
                "values is too large a vocabulary (at most 2**20)",
                field=("states", "patch"),
            )
        if not self.temperature > 0:
            raise ConfigError(
                f"temperature must be positive, got {self.temperature}", field="temperature"
            )
        if self.sampling not in SAMPLING:
            raise ConfigError(
                f"sampling must be one of {', '.join(SAMPLING)}, not {self.sampling!r}",
                field="sampling",
            )
        if not 0 <= self.band_low <= self.band_high:
            raise ConfigError(
                f"band_low {self.band_low} must be 0 or more and at most band_high "
                f"{self.band_high}",
                field=("band_low", "band_high"),
            )

    @property
    def patch_values(self) -> int:
        return self.states ** (self.patch * self.patch)

    @property
    def grid_start(self) -> int:
        return self.patch_values

    @property
    def grid_end(self) -> int:
        return self.patch_values + 1

    @property
    def vocab(self) -> int:
        return self.patch_values + 2

    @property
    def frame_tokens(self) -> int:
        return (self.size // self.patch) ** 2 + 2

    @property
    def tokens_per_trajectory(self) -> int:
        return self.frames * self.frame_tokens

    def to_dict(self) -> dict:
        return asdict(self)


def _rule_draws(config: NCAConfig, seed: int, stream: int, index: int):
    """One rule's weights, first grid and sampling noise, from its own random stream."""
    rng = np.random.default_rng([seed, stream, index])
    s, h, n = config.states, config.hidden, config.size
    # One-hot inputs: 9 of the 9 * states inputs are 1, so the first layer's
    # pre-activations have unit variance with N(0, 1/9) weights.
    w1 = rng.normal(0.0, 1.0 / 3.0, (9, s, h)).astype(np.float32)
    b1 = rng.normal(0.0, 0.1, h).astype(np.float32)
    w2 = rng.normal(0.0, 1.0 / np.sqrt(h), (h, s)).astype(np.float32)
    b2 = rng.normal(0.0, 0.1, s).astype(np.float32)
    grid = rng.integers(0, s, (n, n), dtype=np.uint8)
    noise = None
    if config.sampling == "sample":
        noise = rng.gumbel(size=(config.frames - 1, n, n, s)).astype(np.float32)
    return w1, b1, w2, b2, grid, noise


def trajectories(config: NCAConfig, seed: int, indices, stream: int = TRAIN_RULES) -> np.ndarray:
    """uint8 states [R, frames, size, size] of the rules ``indices`` of ``seed``'s ``stream``."""
    draws = [_rule_draws(config, seed, stream, int(i)) for i in indices]
    r = len(draws)
    n, s = config.size, config.states
    out = np.empty((r, config.frames, n, n), np.uint8)
    if r == 0:
        return out
    h = config.hidden
    # Row (r * 9 + k) * S + symbol of the table: rule r's first-layer weights for
    # a neighbour at offset k holding that symbol.
    table = np.stack([d[0] for d in draws]).reshape(r * 9 * s, h)
    b1 = np.stack([d[1] for d in draws])[:, None, :]  # [R, 1, H]
    w2 = np.stack([d[2] for d in draws])  # [R, H, S]
    b2 = np.stack([d[3] for d in draws])[:, None, :]  # [R, 1, S]
    grid = np.stack([d[4] for d in draws])  # [R, N, N]
    noise = None if draws[0][5] is None else np.stack([d[5] for d in draws])
    base = (np.arange(r) * 9 * s)[:, None, None]
    out[:, 0] = grid
    for t in range(1, config.frames):
        # A one-hot input through a linear layer is a lookup: add the row of each
        # neighbour's symbol at its offset (np.roll wraps: the torus).
        pre = np.broadcast_to(b1, (r, n * n, h)).copy()
        for k, (dy, dx) in enumerate(_OFFSETS):
            neighbour = np.roll(grid, (-dy, -dx), axis=(1, 2)).astype(np.int64)
            pre += np.take(table, (base + k * s + neighbour).reshape(r, n * n), axis=0)
        logits = np.matmul(np.maximum(pre, 0.0), w2) + b2  # [R, N*N, S]
        if noise is not None:
            logits = logits / config.temperature + noise[:, t - 1].reshape(r, n * n, s)
        grid = logits.argmax(-1).astype(np.uint8).reshape(r, n, n)
        out[:, t] = grid
    return out


def complexity(states: np.ndarray) -> np.ndarray:
    """Per trajectory: zlib-compressed size (level 9) of its cell bytes over their raw size."""
    flat = states.reshape(states.shape[0], -1)
    return np.array([len(zlib.compress(row.tobytes(), 9)) / row.size for row in flat], np.float64)


def tokenize(config: NCAConfig, states: np.ndarray) -> np.ndarray:
    """int64 tokens [R, frames * frame_tokens]: each frame GRID_START, its patches
    row-major, GRID_END."""
    r, f, n, _ = states.shape
    p, m = config.patch, n // config.patch
    # [R, F, m, p, m, p] -> [R, F, m, m, p*p]: a patch's cells in row-major order.
    blocks = (
        states.reshape(r, f, m, p, m, p).transpose(0, 1, 2, 4, 3, 5).reshape(r, f, m * m, p * p)
    )
    weights = config.states ** np.arange(p * p, dtype=np.int64)
    patches = (blocks.astype(np.int64) * weights).sum(-1)
    starts = np.full((r, f, 1), config.grid_start, np.int64)
    ends = np.full((r, f, 1), config.grid_end, np.int64)
    return np.concatenate([starts, patches, ends], axis=2).reshape(r, f * config.frame_tokens)


def detokenize(config: NCAConfig, tokens: np.ndarray) -> np.ndarray:
    """The states [R, frames, size, size] that ``tokenize`` made ``tokens`` from."""
    r = tokens.shape[0]
    frames = tokens.reshape(r, -1, config.frame_tokens)
    if (frames[:, :, 0] != config.grid_start).any() or (frames[:, :, -1] != config.grid_end).any():
        raise ValueError("tokens are not whole frames between GRID_START and GRID_END")
    p, m = config.patch, config.size // config.patch
    patches = frames[:, :, 1:-1]
    cells = (patches[..., None] // config.states ** np.arange(p * p)) % config.states
    f = frames.shape[1]
    grid = cells.reshape(r, f, m, m, p, p).transpose(0, 1, 2, 4, 3, 5)
    return grid.reshape(r, f, config.size, config.size).astype(np.uint8)


@dataclass
class Kept:
    """The rules a band kept: their indices, complexities and tokens, and how many were tried."""

    indices: np.ndarray
    complexity: np.ndarray
    tokens: np.ndarray
    scanned: int
    scanned_complexity: np.ndarray


def keep_rules(
    config: NCAConfig,
    seed: int,
    count: int,
    *,
    stream: int = TRAIN_RULES,
    chunk: int = 256,
    max_scan: int | None = None,
) -> Kept:
    """The first ``count`` rules (by index) of ``seed``'s ``stream`` whose complexity is in
    the band, tokenised. Tries at most ``max_scan`` rules (50 per rule wanted, at least 2000)."""
    if not isinstance(count, int) or count < 1:
        raise ConfigError(f"rules must be a positive integer, got {count!r}", field="rules")
    limit = max_scan if max_scan is not None else max(2000, 50 * count)
    idx, cx, toks, seen = [], [], [], []
    scanned = kept = 0
    while kept < count and scanned < limit:
        batch = np.arange(scanned, min(scanned + chunk, limit))
        states = trajectories(config, seed, batch, stream)
        c = complexity(states)
        seen.append(c)
        inside = (c >= config.band_low) & (c <= config.band_high)
        take = np.flatnonzero(inside)[: count - kept]
        idx.append(batch[take])
        cx.append(c[take])
        toks.append(tokenize(config, states[take]))
        kept += len(take)
        scanned += len(batch)
    all_seen = np.concatenate(seen)
    if kept == 0:
        raise ConfigError(
            f"the band [{config.band_low}, {config.band_high}] keeps no rule of {scanned} tried "
            f"(their complexity spans {all_seen.min():.3f} to {all_seen.max():.3f})",
            field=("band_low", "band_high"),
        )
    if kept < count:
        raise ConfigError(
            f"the band [{config.band_low}, {config.band_high}] keeps {kept} of {scanned} rules "
            f"tried, fewer than the {count} wanted",
            field=("band_low", "band_high"),
        )
    return Kept(np.concatenate(idx), np.concatenate(cx), np.concatenate(toks), scanned, all_seen)

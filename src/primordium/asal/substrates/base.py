"""The substrate interface, the rollout helper and shared rendering pieces.

A substrate is a frozen dataclass: its fields are static settings (grid size,
particle count) so an instance can be a static argument of ``jax.jit``; the
searched parameters are a pytree of float arrays, unconstrained where the
search needs it (each substrate maps raw values into its valid ranges).
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

Params = Any
State = Any


@dataclasses.dataclass(frozen=True)
class Substrate:
    """Base class; subclasses implement the four pure functions."""

    name: ClassVar[str] = ""

    def default_params(self, key: jax.Array) -> Params:
        raise NotImplementedError

    def init_state(self, key: jax.Array, params: Params) -> State:
        raise NotImplementedError

    def step(self, key: jax.Array, state: State, params: Params) -> State:
        raise NotImplementedError

    def render(self, state: State, params: Params, size: int) -> jax.Array:
        raise NotImplementedError

    # Substrates with bounded work buffers (cell lists) override these two.
    def overflowed(self, state: State) -> jax.Array | bool:
        return False

    def enlarged(self, state: State) -> "Substrate":
        """A copy with buffers big enough for what ``state`` (maybe batched) needed."""
        return self

    def options(self) -> dict[str, Any]:
        """The static settings, for configs and params files."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}


def squash(raw: jax.Array, lo: float, hi: float) -> jax.Array:
    """Map an unconstrained search value into [lo, hi]."""
    return lo + (hi - lo) * jax.nn.sigmoid(raw)


def unsquash(value: float | np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Inverse of :func:`squash`, for writing known presets as raw params."""
    u = (np.asarray(value, dtype=np.float64) - lo) / (hi - lo)
    u = np.clip(u, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(u / (1 - u)), dtype=np.float32)


def frame_times(n_steps: int, n_frames: int) -> np.ndarray:
    """Steps after which frames are taken: evenly spread, the last at n_steps."""
    if n_frames < 1 or n_steps < n_frames:
        raise ValueError("need 1 <= n_frames <= n_steps")
    return np.round(np.arange(1, n_frames + 1) * n_steps / n_frames).astype(np.int64)


def _rollout(substrate: Substrate, key: jax.Array, params: Params, n_steps: int, n_frames: int, size: int):
    k_init, k_run = jax.random.split(key)
    state = substrate.init_state(k_init, params)
    times = frame_times(n_steps, n_frames)
    counts = jnp.asarray(np.diff(np.concatenate([[0], times])), dtype=jnp.int32)
    starts = jnp.asarray(np.concatenate([[0], times[:-1]]), dtype=jnp.int32)

    def advance(carry, xs):
        start, count = xs

        def body(i, s):
            t = start + i
            return substrate.step(jax.random.fold_in(k_run, t), s, params)

        s = jax.lax.fori_loop(0, count, body, carry)
        return s, substrate.render(s, params, size)

    state, frames = jax.lax.scan(advance, state, (starts, counts))
    return frames, state


@partial(jax.jit, static_argnums=(0, 3, 4, 5))
def _rollout_one(substrate, key, params, n_steps, n_frames, size):
    return _rollout(substrate, key, params, n_steps, n_frames, size)


@partial(jax.jit, static_argnums=(0, 3, 4, 5))
def _rollout_many(substrate, key, params, n_steps, n_frames, size):
    # One key for the whole population: every member starts from the same
    # random draw, so score differences come from parameters, not luck.
    return jax.vmap(lambda p: _rollout(substrate, key, p, n_steps, n_frames, size))(params)


def rollout(
    substrate: Substrate,
    key: jax.Array,
    params: Params,
    n_steps: int,
    n_frames: int = 8,
    size: int = 224,
    batched: bool = False,
) -> tuple[jax.Array, Substrate]:
    """Run ``n_steps`` steps and return frames float32[(B,) K, size, size, 3].

    With ``batched`` the leaves of ``params`` carry a leading population axis
    and the rollouts are vmapped. Substrates with bounded buffers are rerun
    with larger buffers until nothing was dropped, so results are exact; the
    (possibly enlarged) substrate is returned so callers can reuse it.
    """
    fn = _rollout_many if batched else _rollout_one
    while True:
        frames, state = fn(substrate, key, params, int(n_steps), int(n_frames), int(size))
        if not bool(jnp.any(substrate.overflowed(state))):
            return frames, substrate
        substrate = substrate.enlarged(state)


def to_uint8(frames: jax.Array | np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(frames), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def upscale_grid(img: jax.Array, size: int) -> jax.Array:
    """Nearest-neighbour resize of float[h, w, 3] to [size, size, 3] (crisp cells)."""
    h, w = img.shape[:2]
    rows = (jnp.arange(size) * h) // size
    cols = (jnp.arange(size) * w) // size
    return img[rows][:, cols]


def resize_nearest(img: jax.Array, size: int | None) -> jax.Array:
    """float[h, w, 3] -> [size, size, 3] by ``jax.image.resize`` nearest (the ASAL
    paper's frames); ``size`` None keeps the native resolution."""
    if size is None:
        return img
    return jax.image.resize(img, (size, size, img.shape[-1]), method="nearest")


def splat_points(pos: jax.Array, colors: jax.Array, size: int, radius: int = 1, mask: jax.Array | None = None) -> jax.Array:
    """Draw points at ``pos`` in [0, 1)^2 (x, y) as small squares on black.

    Overlapping points saturate rather than blend, which reads well for
    dense swarms and is cheap (one scatter-max per offset).
    """
    n = pos.shape[0]
    if mask is None:
        mask = jnp.ones((n,), bool)
    px = jnp.floor(jnp.mod(pos, 1.0) * size).astype(jnp.int32)
    img = jnp.zeros((size, size, 3), jnp.float32)
    c = jnp.where(mask[:, None], colors, 0.0)
    for dy in range(-radius + 1, radius):
        for dx in range(-radius + 1, radius):
            x = jnp.mod(px[:, 0] + dx, size)
            y = jnp.mod(px[:, 1] + dy, size)
            img = img.at[y, x].max(c)
    return img


def palette(k: int) -> jax.Array:
    """K distinct, bright colours (evenly spaced hues)."""
    h = np.arange(k) / max(k, 1)
    rgb = np.stack([_hue(h + o) for o in (0.0, 2 / 3, 1 / 3)], axis=-1)
    return jnp.asarray(0.25 + 0.75 * rgb, jnp.float32)


def _hue(h: np.ndarray) -> np.ndarray:
    return np.clip(np.abs(np.mod(h * 6.0, 6.0) - 3.0) - 1.0, 0.0, 1.0)

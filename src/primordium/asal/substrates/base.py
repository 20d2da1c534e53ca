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
    # How a population rolls out on the CPU (accelerators always vmap). One
    # member after another keeps each member's state in cache, and XLA's CPU
    # convolutions batched over kernels (a vmapped NCA) run several times
    # slower than the same convolutions one by one.
    cpu_members: ClassVar[str] = "map"

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

    def enlarged(self, state: State) -> Substrate:
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


def sample_indices(n_steps: int, time_sampling) -> np.ndarray | None:
    """Which states a rollout keeps, as the paper's ``rollout_simulation`` picks them.

    ``"final"``: None (only the state after all ``n_steps`` steps);
    ``"video"``: states 0 .. n_steps-1 (each before its step);
    ``K`` or ``(K, chunk_ends)``: every ``n_steps // K``-th state, starting at
    0, or (chunk_ends) at ``n_steps // K - 1``. State i is the one after i steps.
    """
    if time_sampling == "final":
        return None
    if time_sampling == "video":
        return np.arange(n_steps)
    k, ends = time_sampling if isinstance(time_sampling, tuple) else (time_sampling, False)
    chunk = n_steps // int(k)
    if chunk < 1:
        raise ValueError(f"cannot sample {k} frames from {n_steps} steps")
    return np.arange(chunk - 1 if ends else 0, n_steps, chunk)


def _rollout(
    substrate: Substrate,
    key: jax.Array,
    params: Params,
    n_steps: int,
    time_sampling,
    size: int,
    embed=None,
):
    # The paper's key usage: the whole key draws the initial state, and step i
    # uses the i-th of split(key, n_steps).
    state = substrate.init_state(key, params)
    step_keys = jax.random.split(key, n_steps)
    look = (
        (lambda s: substrate.render(s, params, size))
        if embed is None
        else (lambda s: embed(substrate.render(s, params, size)))
    )

    def run(s, keys):
        # Every loop has a trip count known when tracing: XLA then runs it
        # without asking the host after each step (a sync per step on a GPU).
        if keys.shape[0] == 0:
            return s
        return jax.lax.scan(lambda c, k: (substrate.step(k, c, params), None), s, keys)[0]

    idx = sample_indices(n_steps, time_sampling)
    if idx is None:
        state = run(state, step_keys)
        return look(state)[None], state
    # The kept states are idx[0], then every `chunk` steps: step to the first,
    # then scan over equal chunks, looking at the state after each. The same
    # frames as the paper's scan-then-gather, without storing every state.
    first, kept = int(idx[0]), len(idx)
    state = run(state, step_keys[:first])
    frame = look(state)[None]
    if kept == 1:
        return frame, state
    chunk = int(idx[1] - idx[0])
    keys = step_keys[first : first + (kept - 1) * chunk]
    keys = keys.reshape(kept - 1, chunk, *keys.shape[1:])

    def advance(s, ks):
        s = run(s, ks)
        return s, look(s)

    state, frames = jax.lax.scan(advance, state, keys)
    return jnp.concatenate([frame, frames]), state


@partial(jax.jit, static_argnums=(0, 3, 4, 5, 6))
def _rollout_one(substrate, key, params, n_steps, time_sampling, size, embed):
    return _rollout(substrate, key, params, n_steps, time_sampling, size, embed)


def _members(how: str, fn, *xs):
    """``fn`` over the leading axis of ``xs``: all at once (``vmap``) or one after another (``map``)."""
    if how == "vmap":
        return jax.vmap(fn)(*xs)
    return jax.lax.map(lambda x: fn(*x), xs)


@partial(jax.jit, static_argnums=(0, 3, 4, 5, 6, 7))
def _rollout_many(substrate, key, params, n_steps, time_sampling, size, embed, how):
    # One key for the whole population, as the paper's search vmaps it: score
    # differences come from parameters, not luck.
    return _members(
        how, lambda p: _rollout(substrate, key, p, n_steps, time_sampling, size, embed), params
    )


@partial(jax.jit, static_argnums=(0, 3, 4, 5, 6, 7))
def _rollout_pairs(substrate, keys, params, n_steps, time_sampling, size, embed, how):
    # keys [B] and params [B]: member i runs from its own key (the paper's
    # illumination children).
    return _members(
        how,
        lambda k, p: _rollout(substrate, k, p, n_steps, time_sampling, size, embed),
        keys,
        params,
    )


@partial(jax.jit, static_argnums=(0, 3, 4, 5, 6, 7))
def _rollout_grid(substrate, keys, params, n_steps, time_sampling, size, embed, how):
    # params [B, ...] x keys [S]: every member runs from every initial state.
    def one(k, p):
        return _rollout(substrate, k, p, n_steps, time_sampling, size, embed)

    return _members(how, lambda p: _members(how, lambda k: one(k, p), keys), params)


def population_mode(substrate: Substrate, members: str | None = None) -> str:
    """How a population is rolled out: ``members`` if given, else the substrate's
    choice for the default backend (``vmap`` on accelerators)."""
    if members is None:
        members = substrate.cpu_members if jax.default_backend() == "cpu" else "vmap"
    if members not in ("vmap", "map"):
        raise ValueError(f"members must be 'vmap' or 'map', not {members!r}")
    return members


def rollout(
    substrate: Substrate,
    key: jax.Array,
    params: Params,
    n_steps: int,
    n_frames: int = 8,
    size: int = 224,
    batched: bool = False,
    time_sampling=None,
    embed=None,
    key_per_member: bool = False,
    members: str | None = None,
) -> tuple[jax.Array, Substrate]:
    """Run ``n_steps`` steps and return frames float32[(B,) (S,) K, size, size, 3].

    ``time_sampling`` is as in the paper's rollout (see :func:`sample_indices`);
    by default ``(n_frames, True)``, what its search uses. With ``batched`` the
    leaves of ``params`` carry a leading population axis; a batch of keys
    (``key`` of shape [S, 2]) adds an axis of initial states. ``embed`` (a JAX
    function of one float image) replaces each frame by its embedding inside
    the compiled rollout. Substrates with bounded buffers are rerun with larger
    buffers until nothing was dropped (``key_per_member``: keys [B, 2] go one
    to each member instead), so results are exact; the (possibly
    enlarged) substrate is returned so callers can reuse it. ``members``
    (``"vmap"`` or ``"map"``, see :func:`population_mode`) says whether a
    population's members run side by side or one after another; the frames
    agree to float rounding either way.
    """
    ts = (int(n_frames), True) if time_sampling is None else time_sampling
    key = jnp.asarray(key)
    many_keys = key.ndim == 2
    if many_keys and not batched:
        raise ValueError("a batch of keys needs a batch of params (batched=True)")
    how = population_mode(substrate, members)
    if key_per_member:
        fn = partial(_rollout_pairs, how=how)
    elif many_keys:
        fn = partial(_rollout_grid, how=how)
    else:
        fn = partial(_rollout_many, how=how) if batched else _rollout_one
    while True:
        frames, state = fn(substrate, key, params, int(n_steps), ts, int(size), embed)
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


def splat_points(
    pos: jax.Array, colors: jax.Array, size: int, radius: int = 1, mask: jax.Array | None = None
) -> jax.Array:
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

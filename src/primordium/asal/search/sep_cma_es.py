"""Separable CMA-ES as evosax 0.1.6 computes it (the version ASAL's code ran).

evosax 0.3 (what primordium installs) samples with a different array layout,
weights and eigen-step, so the same key gives different populations. This
module holds the 0.1.6 arithmetic in pure JAX functions:

- weights: the best ``mu = pop // 2`` ranks get log(mu + 1) - log(i + 1),
  normalised; mu_eff = 1 / sum(w^2);
- learning rates from Ros & Hansen (2008) with n = number of dimensions
  (n is capped at 40000 where it is squared, as evosax does);
- ask: z ~ N(0, 1) drawn with shape (n, pop) and transposed (the layout
  decides which normal goes where), x = mean + sigma * D * z;
- tell: ranks by fitness (stable sort), moves the mean, updates both
  evolution paths, C and sigma.

One quirk is kept because it decides the numbers: 0.1.6 computes D (the
square root of the diagonal C) once at initialisation and never again, so
sampling stays isotropic (D = 1) while C is still updated. The mean starts at
zero (evosax's init range [0, 0]).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Hyper(NamedTuple):
    weights: jax.Array  # f32[mu], for C
    weights_truncated: jax.Array  # f32[pop], for the mean
    mu_eff: float
    c_1: float
    c_mu: float
    c_sigma: float
    d_sigma: float
    c_c: float
    chi_n: float


class State(NamedTuple):
    mean: jax.Array
    sigma: jax.Array  # f32[n]: sigma_scale * D, what ``tell`` divides by
    sigma_scale: jax.Array  # f32[], what ``ask`` multiplies by
    p_sigma: jax.Array
    p_c: jax.Array
    C: jax.Array
    D: jax.Array
    best_member: jax.Array
    best_fitness: jax.Array
    gen_counter: jax.Array


def hyper(n: int, pop: int, elite_ratio: float = 0.5) -> Hyper:
    # float32 throughout, in evosax's order of operations, so the rates agree
    # to the last bit.
    mu = max(1, int(pop * elite_ratio))
    w = jnp.log(jnp.float32(mu + 1)) - jnp.log(jnp.arange(1, mu + 1, dtype=jnp.float32))
    w = w / jnp.sum(w)
    wt = jnp.zeros(pop, jnp.float32).at[:mu].set(w)
    mu_eff = 1 / jnp.sum(w**2)
    nsq = jnp.minimum(n, 40000)
    c_1 = 2 / ((nsq + 1.3) ** 2 + mu_eff)
    c_mu_full = 2 / mu_eff / ((nsq + jnp.sqrt(2.0)) ** 2) + (1 - 1 / mu_eff) * jnp.minimum(
        1, (2 * mu_eff - 1) / ((nsq + 2) ** 2 + mu_eff)
    )
    c_mu = (n + 2) / 3 * c_mu_full
    c_sigma = (mu_eff + 2) / (n + mu_eff + 3)
    d_sigma = 1 + 2 * jnp.maximum(0, jnp.sqrt((mu_eff - 1) / (n + 1)) - 1) + c_sigma
    c_c = 4 / (n + 4)
    chi_n = jnp.sqrt(n) * (1.0 - (1.0 / (4.0 * n)) + 1.0 / (21.0 * (nsq**2)))
    return Hyper(w, wt, mu_eff, c_1, c_mu, c_sigma, d_sigma, jnp.float32(c_c), chi_n)


def init(n: int, sigma: float) -> State:
    zeros = jnp.zeros(n, jnp.float32)
    return State(
        mean=zeros,
        sigma=jnp.full(n, sigma, jnp.float32),
        sigma_scale=jnp.float32(sigma),
        p_sigma=zeros,
        p_c=zeros,
        C=jnp.ones(n, jnp.float32),
        D=jnp.ones(n, jnp.float32),
        best_member=zeros,
        best_fitness=jnp.float32(np.finfo(np.float32).max),
        gen_counter=jnp.int32(0),
    )


def ask(key: jax.Array, state: State, pop: int) -> jax.Array:
    """f32[pop, n] candidates."""
    z = jax.random.normal(key, (state.mean.shape[0], pop)).T
    return state.mean + state.sigma_scale * (state.D * z)


def tell(x: jax.Array, fitness: jax.Array, state: State, h: Hyper) -> State:
    """Update with the candidates' fitness (lower is better)."""
    order = jnp.argsort(fitness, stable=True)
    y_k = (x[order] - state.mean) / state.sigma
    y_w = jnp.sum(y_k.T * h.weights_truncated, axis=1)
    mean = state.mean + state.sigma * y_w
    p_sigma = (1 - h.c_sigma) * state.p_sigma + jnp.sqrt(h.c_sigma * (2 - h.c_sigma) * h.mu_eff) * (
        y_w / state.D
    )
    norm_p_sigma = jnp.linalg.norm(p_sigma)
    gen = state.gen_counter + 1
    left = norm_p_sigma / jnp.sqrt(1 - (1 - h.c_sigma) ** (2 * gen))
    h_sigma = 1.0 * (left < (1.4 + 2 / (mean.shape[0] + 1)) * h.chi_n)
    p_c = (1 - h.c_c) * state.p_c + h_sigma * jnp.sqrt(h.c_c * (2 - h.c_c) * h.mu_eff) * y_w
    delta_h_sigma = (1 - h_sigma) * h.c_c * (2 - h.c_c)
    mu = h.weights.shape[0]
    rank_mu = jnp.sum(h.weights[:, None] * y_k[:mu] ** 2, axis=0)
    C = (
        (1 + h.c_1 * delta_h_sigma - h.c_1 - h.c_mu * jnp.sum(h.weights)) * state.C
        + h.c_1 * p_c**2
        + h.c_mu * rank_mu
    )
    sigma_scale = state.sigma_scale * jnp.exp(
        (h.c_sigma / h.d_sigma) * (norm_p_sigma / h.chi_n - 1)
    )
    i = jnp.argmin(fitness)
    better = fitness[i] < state.best_fitness
    return State(
        mean=mean,
        sigma=sigma_scale * state.D,
        sigma_scale=sigma_scale,
        p_sigma=p_sigma,
        p_c=p_c,
        C=C,
        D=state.D,
        best_member=jnp.where(better, x[i], state.best_member),
        best_fitness=jnp.where(better, fitness[i], state.best_fitness),
        gen_counter=gen,
    )


def state_arrays(state: State) -> dict[str, np.ndarray]:
    return {f"es_{k}": np.asarray(v) for k, v in state._asdict().items()}


def state_from_arrays(arrays: dict[str, np.ndarray]) -> State:
    return State(**{k: jnp.asarray(arrays[f"es_{k}"]) for k in State._fields})

"""The paper's illumination genetic algorithm (one generation's survivor choice).

The pool (population plus children) is ranked by novelty: for each member,
the mean of its ``k`` largest similarities to the others. The least novel
member is removed and no longer counts as anyone's neighbour; this repeats
once per child, so the population size stays fixed. Survivors keep their
order in the pool.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnums=(1, 2))
def survivors(z: jax.Array, n_remove: int, k: int) -> jax.Array:
    """z f32[N, D] (unit rows) -> int32[N - n_remove] indices kept, ascending."""
    n = z.shape[0]
    dist = -(z @ z.T)
    dist = dist.at[jnp.arange(n), jnp.arange(n)].set(jnp.inf)

    def remove_one(carry, i):
        dist, gone = carry
        worst = jnp.sort(dist, axis=-1)[:, :k].mean(axis=-1).argmin()
        dist = dist.at[:, worst].set(jnp.inf).at[worst, :].set(jnp.inf)
        return (dist, gone.at[i].set(worst)), None

    (_, gone), _ = jax.lax.scan(
        remove_one, (dist, jnp.zeros(n_remove, jnp.int32)), jnp.arange(n_remove)
    )
    return jnp.setdiff1d(jnp.arange(n), gone, assume_unique=True, size=n - n_remove)


def children(
    key: jax.Array, population: jax.Array, n_children: int, sigma: float
) -> tuple[jax.Array, jax.Array]:
    """(children f32[C, n], rollout keys [C]) from a generation key, in the paper's order of draws."""
    key, k_pick = jax.random.split(key)
    parents = population[jax.random.randint(k_pick, (n_children,), 0, population.shape[0])]
    key, k_noise, _ = jax.random.split(key, 3)
    kids = parents + sigma * jax.random.normal(k_noise, (n_children, population.shape[1]))
    key, k_roll = jax.random.split(key)
    return kids, jax.random.split(k_roll, n_children)

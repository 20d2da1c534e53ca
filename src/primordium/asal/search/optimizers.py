"""Optimisers as ask/tell over flat parameter vectors.

Sep-CMA-ES comes from evosax; its state is a pytree of arrays, saved and
restored leaf by leaf so a search resumes exactly where it stopped. The
illumination GA is plain numpy: mutate parents, pool with the archive,
keep the members that are most distant from each other.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.objectives import nearest_similarity


class SepCMAES:
    """Separable CMA-ES (Ros & Hansen 2008) via evosax."""

    def __init__(self, dim: int, population: int, sigma: float = 0.1):
        from evosax.algorithms import Sep_CMA_ES

        self.dim, self.population = dim, population
        self.es = Sep_CMA_ES(population_size=population, solution=jnp.zeros((dim,), jnp.float32))
        self.params = self.es.default_params.replace(std_init=float(sigma))

    def init(self, key, mean: np.ndarray):
        return self.es.init(key, jnp.asarray(mean, jnp.float32), self.params)

    def ask(self, key, state) -> tuple[np.ndarray, object]:
        x, state = self.es.ask(key, state, self.params)
        return np.asarray(x), state

    def tell(self, key, x: np.ndarray, fitness: np.ndarray, state):
        state, _ = self.es.tell(
            key, jnp.asarray(x), jnp.asarray(fitness, jnp.float32), state, self.params
        )
        return state

    def mean(self, state) -> np.ndarray:
        return np.asarray(state.mean)

    # -- checkpoints ------------------------------------------------------
    def state_arrays(self, state) -> dict[str, np.ndarray]:
        return {
            f"es_{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree_util.tree_leaves(state))
        }

    def state_from_arrays(self, arrays: dict[str, np.ndarray]):
        template = self.init(jax.random.PRNGKey(0), np.zeros(self.dim, np.float32))
        leaves, treedef = jax.tree_util.tree_flatten(template)
        loaded = [
            jnp.asarray(arrays[f"es_{i}"], dtype=leaf.dtype).reshape(leaf.shape)
            for i, leaf in enumerate(leaves)
        ]
        return jax.tree_util.tree_unflatten(treedef, loaded)


def mutate(
    rng: np.random.Generator, parents: np.ndarray, n_children: int, sigma: float
) -> np.ndarray:
    """Children: random parents plus Gaussian noise."""
    pick = rng.integers(0, len(parents), n_children)
    return (parents[pick] + sigma * rng.standard_normal((n_children, parents.shape[1]))).astype(
        np.float32
    )


def select_diverse(z: np.ndarray, keep: int) -> np.ndarray:
    """Indices of ``keep`` rows of unit-norm ``z`` that are mutually distant.

    Greedy: repeatedly drop the member whose nearest neighbour is closest
    (of a tied pair, the later one), which lowers the illumination score.
    """
    alive = np.arange(len(z))
    z = np.asarray(z, np.float32)
    while len(alive) > keep:
        near = np.asarray(nearest_similarity(jnp.asarray(z[alive])))
        worst = np.flatnonzero(near == near.max())[-1]
        alive = np.delete(alive, worst)
    return alive

"""A population's members side by side (vmap) or one after another (map): the same frames."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from primordium.asal.substrates import get_substrate, rollout
from primordium.asal.substrates.base import population_mode

KEY = jax.random.PRNGKey(3)
CASES = {
    "gol": {"grid_size": 16},
    "dnca": {"grid_size": 12},
    "plenia": {"n_particles": 12},
    # The numba forces behind a host callback, and buffers that grow on overflow.
    "plife": {"n_particles": 48, "n_colors": 3},
}


def _same(name, key, **kw):
    sub = get_substrate(name, **CASES[name])
    pop = jax.vmap(sub.default_params)(jax.random.split(jax.random.PRNGKey(1), 3))
    a, _ = rollout(sub, key, pop, 10, 2, 16, batched=True, members="vmap", **kw)
    b, _ = rollout(sub, key, pop, 10, 2, 16, batched=True, members="map", **kw)
    assert a.shape == b.shape
    # Batched kernels may round differently from single ones.
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


@pytest.mark.parametrize("name", ["dnca", "plife", pytest.param("plenia", marks=pytest.mark.slow)])
def test_vmap_and_map_give_the_same_frames(name):
    _same(name, KEY)


def test_vmap_and_map_agree_with_many_keys():
    _same("gol", jax.random.split(KEY, 2))  # every member from every key
    _same("gol", jax.random.split(KEY, 3), key_per_member=True)


def test_members_mode_is_checked():
    gol = get_substrate("gol", grid_size=8)
    assert population_mode(gol, "vmap") == "vmap"
    assert population_mode(gol) == ("map" if jax.default_backend() == "cpu" else "vmap")
    with pytest.raises(ValueError, match="members"):
        population_mode(gol, "pmap")

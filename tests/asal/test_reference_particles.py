"""The paper's particle substrates against the ASAL reference code (../shared/reference/asal).

Same key => same parameters (flattened vectors interchangeable), same initial
state, same states after some steps and the same frames, at the paper's
constructor settings and, where that is slow on a CPU, at smaller ones too.
"""

from __future__ import annotations

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from primordium.asal.substrates import get_substrate

from .reference import REF, import_reference

pytestmark = pytest.mark.skipif(
    not REF.is_dir(), reason=f"ASAL reference not found at {REF} (set PRIMORDIUM_SHARED)"
)

KEY_PARAMS = jax.random.PRNGKey(3)
KEY_STATE = jax.random.PRNGKey(7)


@pytest.fixture(scope="module")
def ref():
    (ref_substrates,) = import_reference("substrates")
    return ref_substrates


def assert_trees_close(a, b, atol):
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=False):
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=0, atol=atol)


def compare(theirs, ours, steps, size, atol_state=1e-5, atol_img=1e-4):
    """Run both from the same keys; compare parameters, states and a frame."""
    p_ref, p_ours = theirs.default_params(KEY_PARAMS), ours.default_params(KEY_PARAMS)
    flat_ref, _ = jax.flatten_util.ravel_pytree(p_ref)
    flat_ours, unravel = jax.flatten_util.ravel_pytree(p_ours)
    np.testing.assert_array_equal(np.asarray(flat_ref), np.asarray(flat_ours))
    # A parameter vector from the paper's code means the same thing to ours.
    assert_trees_close(unravel(flat_ref), p_ours, 0.0)
    s_ref, s_ours = theirs.init_state(KEY_STATE, p_ref), ours.init_state(KEY_STATE, p_ref)
    assert_trees_close(s_ref, s_ours, 0.0)
    step_ref, step_ours = jax.jit(theirs.step_state), jax.jit(ours.step)
    for t in range(steps):
        k = jax.random.fold_in(KEY_STATE, t)
        s_ref, s_ours = step_ref(k, s_ref, p_ref), step_ours(k, s_ours, p_ref)
    assert_trees_close(s_ref, s_ours, atol_state)
    moved = jax.tree_util.tree_leaves(s_ours)
    assert any(
        not np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(
            moved, jax.tree_util.tree_leaves(ours.init_state(KEY_STATE, p_ref)), strict=False
        )
    )
    img_ref = jax.jit(lambda s: theirs.render_state(s, p_ref, size))(s_ref)
    img_ours = jax.jit(lambda s: ours.render(s, p_ref, size))(s_ours)
    assert img_ours.shape == (size, size, 3)
    np.testing.assert_allclose(np.asarray(img_ours), np.asarray(img_ref), rtol=0, atol=atol_img)
    assert float(jnp.std(img_ours)) > 1e-3  # something was drawn
    return s_ours


def test_boids_paper_settings(ref):
    compare(ref.create_substrate("boids"), get_substrate("boids"), steps=30, size=48)


def test_plenia_paper_settings(ref):
    compare(ref.create_substrate("plenia"), get_substrate("plenia"), steps=40, size=48)


def test_plife_small_every_parameter_searched(ref):
    # Every searchable parameter drawn (tests the order of draws, c_dist and
    # x_dist in the initial state, per-colour rmax in the cell list); both
    # force backends against one reference run.
    space = "beta+alpha+mass+dt+half_life+rmax+c_dist+x_dist"
    theirs = ref.ParticleLife(n_particles=300, n_colors=5, search_space=space, render_radius=2e-2)
    for backend in ("allpairs", "numba"):
        ours = get_substrate(
            "plife",
            n_particles=300,
            n_colors=5,
            search_space=space,
            render_radius=2e-2,
            backend=backend,
        )
        compare(theirs, ours, steps=20, size=32)


def test_plife_paper_settings(ref):
    # 5000 particles: the paper's all-pairs step is the slow side here, so few steps.
    compare(ref.create_substrate("plife"), get_substrate("plife"), steps=2, size=32)


@pytest.mark.parametrize("backend", ["allpairs", "numba"])
def test_plife_plus_small(ref, backend):
    theirs = ref.ParticleLifePlus(n_particles=150, dt=0.02, render_radius=0.04, sharpness=30.0)
    ours = get_substrate("plife_plus", n_particles=150, backend=backend)
    compare(theirs, ours, steps=20, size=32)


def test_plife_plus_paper_settings(ref):
    compare(ref.create_substrate("plife_plus"), get_substrate("plife_plus"), steps=1, size=32)


def test_rollout_steps_match_the_paper(ref):
    for name in ("boids", "plife", "plife_plus", "plenia"):
        assert get_substrate(name).rollout_steps == ref.create_substrate(name).rollout_steps

"""The ASAL paper's grid substrates against the paper's own code (../shared/reference/asal).

For gol, lenia, nca_d1, nca_d3 and dnca: the same key gives the same
parameters (same pytree, same flat vector), the same parameters and key give
the same initial state, the same states after a few dozen steps and the same
frames. Every substrate is checked at the paper's settings (the reference's
``create_substrate``) and with other constructor options (the NCA one is marked slow).
"""

from __future__ import annotations

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from primordium.asal.substrates import get_substrate

from .reference import REF as REFERENCE
from .reference import import_reference

if not REFERENCE.is_dir():
    pytest.skip(
        f"ASAL reference not found at {REFERENCE} (set PRIMORDIUM_SHARED)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def ref():
    """The reference's ``substrates`` package (evosax is only used by a wrapper we do not touch)."""
    (substrates,) = import_reference("substrates")
    return substrates


def _run(init, step, render, key, params, steps, size):
    """Initial state, state after ``steps`` steps (keys split from ``key``), and frames of both."""

    def go(p):
        s0 = init(key, p)
        s1, _ = jax.lax.scan(lambda s, k: (step(k, s, p), None), s0, jax.random.split(key, steps))
        return s0, s1, render(s0, p, size), render(s1, p, size), render(s1, p, None)

    return jax.jit(go)(params)


def _same_params(ref_sub, ours, key):
    p_ref, p_ours = ref_sub.default_params(key), ours.default_params(key)
    assert jax.tree_util.tree_structure(p_ref) == jax.tree_util.tree_structure(p_ours)
    for a, b in zip(
        jax.tree_util.tree_leaves(p_ref), jax.tree_util.tree_leaves(p_ours), strict=False
    ):
        assert a.shape == b.shape and a.dtype == b.dtype
    flat_ref, _ = jax.flatten_util.ravel_pytree(p_ref)
    flat_ours, _ = jax.flatten_util.ravel_pytree(p_ours)
    np.testing.assert_array_equal(np.asarray(flat_ref), np.asarray(flat_ours))
    return p_ref


def _compare(ref_sub, ours, seed, steps, size, cells, atol):
    """Run both on the reference's params; ``cells`` picks the comparable cell array out of a state."""
    key = jax.random.PRNGKey(seed)
    params = _same_params(ref_sub, ours, key)
    r = _run(ref_sub.init_state, ref_sub.step_state, ref_sub.render_state, key, params, steps, size)
    o = _run(ours.init_state, ours.step, ours.render, key, params, steps, size)
    for name, a, b in [
        ("initial state", cells[0](r[0]), cells[1](o[0])),
        ("final state", cells[0](r[1]), cells[1](o[1])),
        ("first frame", r[2], o[2]),
        ("last frame", r[3], o[3]),
        ("native frame", r[4], o[4]),
    ]:
        assert a.shape == b.shape, name
        if atol == 0:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)
        else:
            np.testing.assert_allclose(
                np.asarray(a), np.asarray(b), atol=atol, rtol=0, err_msg=name
            )
    return r, o


def _plain(state):
    return state


# -- Game of Life -------------------------------------------------------------------
def test_gol_matches_reference_at_paper_settings(ref):
    ref_sub, ours = ref.create_substrate("gol"), get_substrate("gol")
    assert ours.rollout_steps == ref_sub.rollout_steps == 1024
    for seed in range(4):
        _same_params(ref_sub, ours, jax.random.PRNGKey(seed))
    r, _ = _compare(ref_sub, ours, 0, 96, 224, (_plain, _plain), atol=0)
    assert (
        0 < int(r[1].sum()) < r[1].size
    )  # a random rule that neither empties nor fills the grid...
    # ... and Conway's rule (the paper's 6152) on a small grid.
    small_ref, small = ref.gol.GameOfLife(grid_size=24), get_substrate("gol", grid_size=24)
    key = jax.random.PRNGKey(3)
    conway = jnp.asarray(6152, jnp.int32)
    r = _run(
        small_ref.init_state, small_ref.step_state, small_ref.render_state, key, conway, 60, 50
    )
    o = _run(small.init_state, small.step, small.render, key, conway, 60, 50)
    for a, b in zip(r, o, strict=False):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# -- NCA ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["nca_d1", "nca_d3"])
def test_nca_matches_reference_at_paper_settings(ref, name):
    ref_sub, ours = ref.create_substrate(name), get_substrate(name)
    assert ours.rollout_steps == ref_sub.rollout_steps
    # The paper's constructor is handed dt=0.1, but its NCA steps with 0.01.
    assert ref_sub.dt == ours.dt == 0.01
    _, o = _compare(ref_sub, ours, 1, 40, 224, (_plain, _plain), atol=1e-5)
    assert float(jnp.abs(o[1] - o[0]).max()) > 0.01  # it moved


@pytest.mark.slow  # p_drop and grid_size only change constants; the default check covers the code
def test_nca_other_options_match_reference(ref):
    ref_sub = ref.nca.NCA(grid_size=20, d_state=3, p_drop=0.2)
    _compare(
        ref_sub,
        get_substrate("nca_d3", grid_size=20, p_drop=0.2),
        5,
        30,
        37,
        (_plain, _plain),
        atol=1e-5,
    )


# -- DNCA -----------------------------------------------------------------------------
def test_dnca_matches_reference_at_paper_settings(ref):
    ref_sub, ours = ref.create_substrate("dnca"), get_substrate("dnca")
    assert ours.rollout_steps == ref_sub.rollout_steps
    r, _ = _compare(ref_sub, ours, 2, 40, 224, (_plain, _plain), atol=0)
    assert not np.array_equal(np.asarray(r[0]), np.asarray(r[1]))


def test_dnca_groups_bias_and_learned_colours_match_reference(ref):
    opts = dict(
        grid_size=24, d_state=5, n_groups=3, identity_bias=1.5, temperature=0.7, color_map="learned"
    )
    ref_sub = ref.dnca.DNCA(**opts)
    _compare(ref_sub, get_substrate("dnca", **opts), 4, 30, 50, (_plain, _plain), atol=1e-6)


# -- Lenia ----------------------------------------------------------------------------
def _ref_lenia(state):
    return jnp.concatenate([state["carry"].world.ravel(), state["img"].ravel()])


def _our_lenia(state):
    return jnp.concatenate([state["world"].ravel(), state["img"].ravel()])


def test_lenia_matches_reference_at_paper_settings(ref):
    ref_sub, ours = ref.create_substrate("lenia"), get_substrate("lenia")
    assert ours.rollout_steps == ref_sub.rollout_steps == 256
    np.testing.assert_array_equal(np.asarray(ref_sub.base_params), np.asarray(_creature()))
    _compare(ref_sub, ours, 0, 40, 224, (_ref_lenia, _our_lenia), atol=1e-4)
    # The creature itself (zero perturbation) lives and moves the camera.
    key, params = jax.random.PRNGKey(0), jnp.zeros(ours.n_params)
    r = _run(ref_sub.init_state, ref_sub.step_state, ref_sub.render_state, key, params, 40, 224)
    o = _run(ours.init_state, ours.step, ours.render, key, params, 40, 224)
    np.testing.assert_allclose(
        np.asarray(_ref_lenia(r[1])), np.asarray(_our_lenia(o[1])), atol=1e-4
    )
    np.testing.assert_allclose(np.asarray(r[3]), np.asarray(o[3]), atol=1e-4)
    np.testing.assert_array_equal(
        np.asarray(r[1]["carry"].temp.total_shift), np.asarray(o[1]["total_shift"])
    )
    assert float(o[3].sum()) > 100 and np.any(np.asarray(o[1]["total_shift"]) != 0)


def test_lenia_uncentred_camera_and_clips_match_reference(ref):
    opts = dict(grid_size=64, center_phenotype=False, phenotype_size=48, clip1=0.05, clip2=0.5)
    ref_sub = ref.lenia.Lenia(start_pattern="5N7KKM", **opts)
    _, o = _compare(
        ref_sub, get_substrate("lenia", **opts), 3, 30, 60, (_ref_lenia, _our_lenia), atol=1e-4
    )
    assert o[4].shape == (48, 48, 3)


def _creature():
    from primordium.asal.substrates.lenia import creature_logits

    return creature_logits()

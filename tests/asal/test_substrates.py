"""Known behaviour of each substrate, and the rollout helper."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from primordium.asal.substrates import SUBSTRATES, get_substrate, rollout
from primordium.asal.substrates.life import (
    GameOfLife,
    Life,
    params_from_rule,
    parse_rule,
    rule_from_params,
    rule_string,
)
from primordium.errors import ConfigError

KEY = jax.random.PRNGKey(0)


# -- Life-like rules ---------------------------------------------------------
def test_rule_strings_round_trip():
    conway = parse_rule("B3/S23")
    assert conway == (1 << 3) | (1 << (9 + 2)) | (1 << (9 + 3))
    assert rule_string(conway) == "B3/S23"
    assert parse_rule("b36/s23") == parse_rule("B36/S23")
    assert parse_rule("23/3") == conway  # the older S/B notation
    assert parse_rule("B/S") == 0
    assert rule_from_params(params_from_rule("B36/S23")) == parse_rule("B36/S23")
    for r in (0, 1, 12345, (1 << 18) - 1):
        assert parse_rule(rule_string(r)) == r


@pytest.mark.parametrize("bad", ["B9/S23", "B3S23", "hello", "B33/S2", "", "B3/S23/X"])
def test_malformed_rules_are_user_errors(bad):
    with pytest.raises(ConfigError, match="rule"):
        parse_rule(bad)


def _run_life(grid, cells, rule, steps):
    life = Life(grid=grid)
    state = jnp.zeros((grid, grid), bool).at[tuple(np.array(cells).T)].set(True)
    p = params_from_rule(rule)
    out = [np.asarray(state)]
    step = jax.jit(life.step)
    for _ in range(steps):
        state = step(KEY, state, p)
        out.append(np.asarray(state))
    return out


def test_glider_moves_one_cell_diagonally_every_four_steps():
    glider = [(0, 1), (1, 2), (2, 0), (2, 1), (2, 2)]  # heading down-right
    states = _run_life(16, glider, "B3/S23", 8)
    assert np.array_equal(np.roll(states[0], (1, 1), (0, 1)), states[4])
    assert np.array_equal(np.roll(states[0], (2, 2), (0, 1)), states[8])
    assert not np.array_equal(states[0], states[2])  # it changes shape in between


def test_blinker_has_period_two_and_glider_wraps_the_torus():
    states = _run_life(8, [(3, 2), (3, 3), (3, 4)], "B3/S23", 4)
    assert not np.array_equal(states[0], states[1])
    assert np.array_equal(states[0], states[2]) and np.array_equal(states[1], states[3])
    glider = [(0, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    states = _run_life(8, glider, "B3/S23", 32)  # 8 diagonal moves = once round an 8-torus
    assert np.array_equal(states[0], states[32])


def test_gol_parameter_is_the_rule_number():
    # The paper's gol runs the same update from the integer rule; Conway is 6152.
    assert parse_rule("B3/S23") == 6152
    gol, life = GameOfLife(grid_size=16), Life(grid=16)
    soup = gol.init_state(KEY, jnp.int32(6152))
    assert soup.dtype == jnp.int32 and set(np.unique(np.asarray(soup))) <= {0, 1}
    for rule in ("B3/S23", "B36/S23", "B1/S"):
        a = jax.jit(gol.step)(KEY, soup, jnp.int32(parse_rule(rule)))
        b = jax.jit(life.step)(KEY, soup.astype(bool), params_from_rule(rule))
        assert np.array_equal(np.asarray(a), np.asarray(b).astype(np.int32))
    # Each soup draws its own density from [0.05, 0.4).
    dens = [float(gol.init_state(jax.random.PRNGKey(i), None).mean()) for i in range(20)]
    assert min(dens) > 0.03 and max(dens) < 0.45 and max(dens) - min(dens) > 0.1


def test_other_rules_follow_their_bits():
    # B1/S: every live cell dies, its 8 neighbours are born (an isolated cell).
    s = _run_life(9, [(4, 4)], "B1/S", 1)
    expected = np.zeros((9, 9), bool)
    expected[3:6, 3:6] = True
    expected[4, 4] = False
    assert np.array_equal(s[1], expected)
    # B/S012345678: nothing is ever born, everything survives.
    s = _run_life(9, [(1, 1), (5, 6)], "B/S012345678", 3)
    assert np.array_equal(s[0], s[3])


# -- Lenia --------------------------------------------------------------------
def test_lenia_kernels_are_normalised_rings():
    from primordium.asal.substrates.lenia import Lenia, creature_logits, world_constants

    lenia = Lenia(grid_size=64)
    k = np.fft.irfft2(np.asarray(world_constants(64)["kernel_rfft"]), s=(64, 64), axes=(0, 1))
    np.testing.assert_allclose(k.sum(axis=(0, 1)), 1.0, atol=1e-5)
    assert k.min() > -1e-6 and k.shape == (64, 64, 15)
    assert np.abs(k[13:-13, :]).max() < 1e-6  # nothing beyond the radius R = 12
    # Zero params are the creature itself: sigmoid(logit) restores its genotype.
    g = np.asarray(lenia.genotype(jnp.zeros(lenia.n_params)))
    np.testing.assert_allclose(g[:3], [0.22, 0.351, 0.177], atol=1e-6)  # m of the first kernels
    assert g.shape == (45 + 32 * 32 * 3,) and np.allclose(
        np.asarray(jax.nn.sigmoid(creature_logits())), g
    )
    with pytest.raises(ConfigError, match="start_pattern"):
        get_substrate("lenia", start_pattern="VT049W")
    with pytest.raises(ConfigError, match="even"):
        get_substrate("lenia", grid_size=65)
    assert get_substrate("lenia", center_phenotype="false").center_phenotype is False
    with pytest.raises(ConfigError, match="true or false"):
        get_substrate("lenia", center_phenotype="maybe")


def test_lenia_soup_orbium_persists_and_glides():
    from primordium.asal.substrates.lenia_soup import LeniaSoup, orbium_params

    lenia = LeniaSoup(grid=64, rings=1)
    p = orbium_params(lenia)
    state = lenia.init_state(KEY, p)
    mass0 = float(state["a"].sum())
    run = jax.jit(lambda s: jax.lax.fori_loop(0, 100, lambda i, s: lenia.step(KEY, s, p), s))
    centres, masses = [], []
    for _ in range(3):
        state = run(state)
        a = np.asarray(state["a"])
        masses.append(a.sum())
        centres.append(a)
    # Mass stays near Orbium's (it neither dies nor explodes) ...
    for m in masses:
        assert 0.85 * mass0 < m < 1.15 * mass0
    # ... it stays compact (not smeared over the torus) ...
    assert (np.asarray(state["a"]) > 0.1).sum() < 250
    # ... and it moves.
    assert not np.allclose(centres[0], centres[1], atol=0.05)


def test_lenia_soup_random_init_and_kernel_normalised():
    from primordium.asal.substrates.lenia_soup import LeniaSoup

    lenia = LeniaSoup(grid=32, init=8)
    p = lenia.default_params(KEY)
    k = np.fft.irfft2(np.asarray(lenia.kernel_fft(p)), s=(32, 32))
    assert abs(k.sum() - 1.0) < 1e-4 and k.min() >= -1e-6


# -- Particle Life ----------------------------------------------------------------
def _brute_force_acc(pl, x, c, params):
    beta, r_max = (float(v) for v in pl.radii(params))
    a = np.clip(np.asarray(params["attraction"]), -1, 1)
    x = np.asarray(x, np.float64)
    off = x[None, :, :] - x[:, None, :]
    off -= pl.world * np.round(off / pl.world)
    d = np.sqrt((off**2).sum(-1))
    r = d / r_max
    coef = a[np.asarray(c)[:, None], np.asarray(c)[None, :]]
    f = np.where(r < beta, r / beta - 1, coef * (1 - np.abs(2 * r - 1 - beta) / (1 - beta)))
    f = np.where((r < 1) & (d > 0), f / np.where(d > 0, d, 1), 0.0)
    return (f[..., None] * off).sum(1) * r_max * pl.force_factor


@pytest.mark.parametrize("backend", ["numba", "jax"])
def test_particle_life_cell_list_matches_brute_force(backend):
    from primordium.asal.substrates.particle_life import ParticleLife

    pl = ParticleLife(n=400, k=4, backend=backend)
    params = pl.default_params(jax.random.PRNGKey(3))
    state = pl.init_state(jax.random.PRNGKey(4), params)
    # Clump some particles so cells hold very different numbers.
    x = state["x"].at[:100].set(0.3 + 0.01 * jax.random.uniform(KEY, (100, 2)))
    acc, _, needed = jax.jit(lambda x: pl.interact(x, state["c"], params))(x)
    ref = _brute_force_acc(pl, x, state["c"], params)
    np.testing.assert_allclose(np.asarray(acc), ref, rtol=1e-3, atol=1e-3)
    if backend == "jax":
        assert int(needed) > 0


def test_particle_life_jax_buffer_grows_instead_of_dropping_pairs():
    from primordium.asal.substrates.particle_life import ParticleLife

    small = ParticleLife(n=200, k=3, backend="jax", pairs=4096)
    params = small.default_params(jax.random.PRNGKey(1))
    frames_small, grown = rollout(small, KEY, params, 20, 2, 32)
    assert grown.pairs > small.pairs
    frames_ref, _ = rollout(ParticleLife(n=200, k=3, backend="numba"), KEY, params, 20, 2, 32)
    np.testing.assert_allclose(np.asarray(frames_small), np.asarray(frames_ref), atol=1e-6)


def test_particle_life_keeps_its_particles_and_colours():
    from primordium.asal.substrates.particle_life import ParticleLife

    pl = ParticleLife(n=300, k=3)
    p = pl.default_params(KEY)
    s0 = pl.init_state(KEY, p)
    step = jax.jit(pl.step)
    s = s0
    for t in range(50):
        s = step(jax.random.PRNGKey(t), s, p)
    x = np.asarray(s["x"])
    assert x.shape == (300, 2) and np.isfinite(x).all()
    assert (x >= 0).all() and (x < pl.world).all()
    assert np.array_equal(np.bincount(s["c"], minlength=3), np.bincount(s0["c"], minlength=3))
    assert not np.allclose(x, np.asarray(s0["x"]))


def test_particle_life_pp_changes_colours_but_not_count():
    from primordium.asal.substrates.particle_life import ParticleLifePP

    pp = ParticleLifePP(n=300, k=3, convert_rate=50.0)
    p = pp.default_params(KEY)
    p["convert"] = jnp.full((3, 3), 5.0)  # every conversion fast
    s0 = pp.init_state(KEY, p)
    s = s0
    step = jax.jit(pp.step)
    for t in range(20):
        s = step(jax.random.PRNGKey(t), s, p)
    assert s["c"].shape == (300,)
    assert (np.asarray(s["c"]) != np.asarray(s0["c"])).mean() > 0.2
    # With conversion switched off, colours never change.
    p["convert"] = jnp.full((3, 3), -1e4)
    s1 = step(KEY, s0, p)
    assert np.array_equal(np.asarray(s1["c"]), np.asarray(s0["c"]))


# -- Boids ---------------------------------------------------------------------
def test_boids_meanfield_align_under_an_alignment_controller():
    from primordium.asal.substrates.boids_meanfield import (
        BoidsMeanField,
        alignment_params,
        polarisation,
    )

    boids = BoidsMeanField(n=64, radius=0.25)
    p = alignment_params(boids)
    s = boids.init_state(KEY, p)
    assert float(polarisation(s)) < 0.4
    run = jax.jit(lambda s: jax.lax.fori_loop(0, 300, lambda i, s: boids.step(KEY, s, p), s))
    s = run(s)
    assert float(polarisation(s)) > 0.9
    # A controller that never turns keeps the initial disorder.
    still = jax.tree_util.tree_map(jnp.zeros_like, p)
    s2 = jax.jit(lambda s: jax.lax.fori_loop(0, 300, lambda i, s: boids.step(KEY, s, still), s))(
        boids.init_state(KEY, p)
    )
    assert float(polarisation(s2)) < 0.4


# -- the paper's Particle Life: force backends ------------------------------------
def test_plife_backends_agree_and_accelerators_get_pure_jax(monkeypatch):
    # Clustered particles (all in a few cells) and wide per-colour radii: the
    # cell list must find every pair the all-pairs sum does.
    sub = get_substrate("plife", n_particles=300, n_colors=4, search_space="beta+alpha+rmax")
    p = sub.default_params(KEY)
    p["rmax"] = jnp.array([3.0, 0.0, -3.0, 1.0])  # rmax from ~0.011 to ~0.29
    x = jnp.mod(jax.random.normal(KEY, (300, 2)) * 0.05 + 0.98, 1.0)  # one cluster across the wrap
    c = jax.random.randint(jax.random.PRNGKey(1), (300,), 0, 4)
    import dataclasses

    allpairs = dataclasses.replace(sub, backend="allpairs").forces(x, c, p)
    numba = dataclasses.replace(sub, backend="numba").forces(x, c, p)
    assert float(jnp.abs(allpairs).max()) > 0.1
    np.testing.assert_allclose(np.asarray(numba), np.asarray(allpairs), rtol=0, atol=2e-5)
    batched = jax.vmap(lambda p: dataclasses.replace(sub, backend="numba").forces(x, c, p))(
        jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), p)
    )
    np.testing.assert_allclose(np.asarray(batched[1]), np.asarray(numba), atol=0)
    # "auto": the host kernel on a CPU, pure JAX (no host round trip) elsewhere.
    assert "callback" in str(jax.make_jaxpr(lambda x: sub.forces(x, c, p))(x))
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert "callback" not in str(jax.make_jaxpr(lambda x: sub.forces(x, c, p))(x))
    with pytest.raises(ConfigError, match="backend"):
        get_substrate("plife", backend="cuda")
    with pytest.raises(ConfigError, match="search_space"):
        get_substrate("plife", search_space="beta+gamma")


def test_plife_plus_backends_agree_and_accelerators_get_pure_jax(monkeypatch):
    # One dense cluster across the wrap (dozens of pairs per particle, cells
    # crossed at every edge) plus a few loners: the cell list must find every
    # pair the all-pairs sum does, the particle's pair with itself included.
    import dataclasses

    sub = get_substrate("plife_plus", n_particles=200)
    p = sub.default_params(KEY)["alpha"]
    k1, k2 = jax.random.split(KEY)
    x = jnp.mod(jax.random.normal(k1, (200, 2)) * jnp.array([0.04, 0.15]) + 0.99, 1.0)
    c = jax.random.normal(k2, (200, 6))
    c = c / jnp.linalg.norm(c, axis=-1, keepdims=True)
    f_all, dc_all = dataclasses.replace(sub, backend="allpairs").interactions(x, c, p)
    numba = dataclasses.replace(sub, backend="numba")
    f_nb, dc_nb = numba.interactions(x, c, p)
    assert float(jnp.abs(f_all).max()) > 0.1 and float(jnp.abs(dc_all).max()) > 1.0
    np.testing.assert_allclose(np.asarray(f_nb), np.asarray(f_all), rtol=0, atol=2e-6)
    np.testing.assert_allclose(np.asarray(dc_nb), np.asarray(dc_all), rtol=0, atol=2e-5)
    # Batched (a vmapped population): every member gets its own network.
    p2 = jax.tree_util.tree_map(lambda a: jnp.stack([a * 0.5, a]), p)
    f_b, dc_b = jax.vmap(lambda q: numba.interactions(x, c, q))(p2)
    np.testing.assert_array_equal(np.asarray(f_b[1]), np.asarray(f_nb))
    np.testing.assert_array_equal(np.asarray(dc_b[1]), np.asarray(dc_nb))
    assert not np.allclose(np.asarray(dc_b[0]), np.asarray(dc_nb))
    # "auto": the host kernel on a CPU, pure JAX (no host round trip) elsewhere.
    assert "callback" in str(jax.make_jaxpr(lambda x: sub.interactions(x, c, p))(x))
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert "callback" not in str(jax.make_jaxpr(lambda x: sub.interactions(x, c, p))(x))
    with pytest.raises(ConfigError, match="backend"):
        get_substrate("plife_plus", backend="cuda")


def test_disc_windows_paint_the_full_frame():
    # Discs at the corners, on the edges and overlapping: painting each only on
    # its window must give the frame painted over every pixel.
    from primordium.asal.substrates.plife import render_discs

    k1, k2, k3 = jax.random.split(KEY, 3)
    x = jnp.concatenate(
        [
            jnp.array([[0.0, 0.0], [1e-3, 0.999], [0.5, 0.0], [0.9999, 0.5]]),
            jax.random.uniform(k1, (60, 2)),
        ]
    )
    colours = jax.random.uniform(k2, (64, 3))
    radius = jax.random.uniform(k3, (64,), minval=0.005, maxval=0.02)
    for size, sharpness in ((40, 750.0), (96, 2000.0)):
        full = render_discs(x, colours, radius, np.zeros(3, np.float32), sharpness, size)
        window = render_discs(
            x, colours, radius, np.zeros(3, np.float32), sharpness, size, max_radius=0.02
        )
        assert float(jnp.std(full)) > 0.05
        np.testing.assert_allclose(np.asarray(window), np.asarray(full), rtol=0, atol=1e-6)


def test_plife_plus_tanh_within_two_ulp():
    import numba

    from primordium.asal.substrates._plife_plus_kernel import tanh32

    xs = np.concatenate(
        [np.linspace(-12, 12, 200_001), np.geomspace(1e-9, 2.0, 20_001), [0.0, 0.55, -0.55]]
    ).astype(np.float32)

    @numba.njit
    def each(a):
        out = np.empty_like(a)
        for i in range(a.shape[0]):
            out[i] = tanh32(a[i])
        return out

    got = each(xs)
    exact = np.tanh(xs.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got - exact) / np.maximum(ulp, 1e-45)) <= 2.0
    assert got.dtype == np.float32 and got[-3] == 0.0


# -- Particle Lenia -------------------------------------------------------------
def test_particle_lenia_two_particles_repel_symmetrically():
    from primordium.asal.substrates.base import unsquash
    from primordium.asal.substrates.particle_lenia import NAMES, RANGES, ParticleLenia

    pl = ParticleLenia(n=2)
    values = {"mu_k": 4.0, "sigma_k": 1.0, "w_k": 0.02, "mu_g": 0.6, "sigma_g": 0.15, "c_rep": 1.0}
    p = {"scalars": jnp.asarray([unsquash(values[k], *RANGES[k]) for k in NAMES])}
    s = {"x": jnp.array([[0.0, 0.0], [0.5, 0.0]])}
    step = jax.jit(pl.step)
    for _ in range(200):
        s = step(KEY, s, p)
    x = np.asarray(s["x"])
    assert np.linalg.norm(x[1] - x[0]) >= 0.99  # pushed out of repulsion range
    np.testing.assert_allclose(x.mean(0), [0.25, 0.0], atol=1e-5)  # equal and opposite
    np.testing.assert_allclose(x[:, 1], 0.0, atol=1e-6)


# -- NCA / DNCA ------------------------------------------------------------------
def test_nca_sobel_zero_network_is_identity_and_updates_are_stochastic():
    from primordium.asal.substrates.nca_sobel import NCASobel

    nca = NCASobel(grid=16, channels=1)
    p = jax.tree_util.tree_map(jnp.zeros_like, nca.default_params(KEY))
    s = nca.init_state(KEY, p)
    assert np.array_equal(np.asarray(nca.step(KEY, s, p)), np.asarray(s))
    # A constant +0.1 update lands on about fire_rate of the cells.
    p["b1"] = jnp.ones_like(p["b1"])
    p["w2"] = jnp.zeros_like(p["w2"]).at[0, :].set(0.1 / np.tanh(1.0))
    s = jnp.full_like(s, 0.5)
    changed = (np.asarray(nca.step(KEY, s, p))[..., 0] > 0.55).mean()
    assert 0.35 < changed < 0.65
    with pytest.raises(ConfigError):
        get_substrate("nca_sobel", channels=2)


def test_nca_updates_a_p_drop_share_of_cells_by_dt():
    nca = get_substrate("nca_d1", grid_size=32)
    p = nca.default_params(KEY)
    layers = p["net_params"]["params"]
    assert layers["Conv_0"]["kernel"].shape == (3, 3, 3, 4)  # the channel axis is wrap-padded too
    # A network whose output is the constant 1 everywhere: kept cells stay, the rest gain dt.
    p = jax.tree_util.tree_map(jnp.zeros_like, p)
    p["net_params"]["params"]["Conv_2"]["bias"] = jnp.ones(1)
    s = jnp.full((32, 32, 1), 0.5)
    d = np.asarray(nca.step(KEY, s, p) - s)[..., 0]
    assert np.all((d == 0) | np.isclose(d, 0.01, atol=1e-6))
    assert 0.4 < (d > 0).mean() < 0.6


def test_dnca_identity_bias_freezes_and_temperature_sharpens():
    d = get_substrate("dnca", grid_size=16, d_state=4, identity_bias=1e3, temperature=1.0)
    p = d.default_params(KEY)
    s = d.init_state(KEY, p)
    assert s.shape == (16, 16, 1) and len(np.unique(np.asarray(s))) == 4
    assert np.array_equal(np.asarray(d.step(KEY, s, p)), np.asarray(s))
    hot = get_substrate("dnca", grid_size=16, d_state=4, temperature=1e3)
    flips = (np.asarray(hot.step(jax.random.PRNGKey(1), s, p)) != np.asarray(s)).mean()
    assert 0.6 < flips < 0.9  # nearly uniform resampling changes about 3/4 of cells
    with pytest.raises(ConfigError, match="colours"):
        get_substrate("dnca", d_state=9)


# -- rollout & registry ---------------------------------------------------------------
SMALL = {
    "gol": {"grid_size": 16},
    "life_like": {"grid": 16},
    "lenia": {"grid_size": 32, "phenotype_size": 16},
    "lenia_soup": {"grid": 32, "init": 8},
    "particle_life": {"n": 100, "k": 3},
    "particle_life_pp": {"n": 100, "k": 3},
    "boids": {"n_boids": 16, "n_nbrs": 4},
    "particle_lenia": {"n": 16},
    "nca_d1": {"grid_size": 16},
    "nca_d3": {"grid_size": 16},
    "nca_sobel": {"grid": 16},
    "dnca": {"grid_size": 16},
    "boids_meanfield": {"n": 16},
    "plenia": {"n_particles": 16},
    "plife": {"n_particles": 64, "n_colors": 3},
    "plife_plus": {"n_particles": 32},
}


@pytest.mark.parametrize("name", sorted(SUBSTRATES))
def test_rollout_frames_batched_and_reproducible(name):
    sub = get_substrate(name, **SMALL[name])
    keys = jax.random.split(jax.random.PRNGKey(5), 3)
    pop = jax.vmap(sub.default_params)(keys)
    frames, _ = rollout(sub, KEY, pop, 12, 3, 24, batched=True)
    assert frames.shape == (3, 3, 24, 24, 3) and frames.dtype == jnp.float32
    f = np.asarray(frames)
    assert f.min() >= 0.0 and f.max() <= 1.0 and np.isfinite(f).all()
    one, _ = rollout(sub, KEY, jax.tree_util.tree_map(lambda a: a[1], pop), 12, 3, 24)
    # Batched FFTs round differently from single ones; Lenia's growth amplifies that a little.
    np.testing.assert_allclose(np.asarray(one), f[1], atol=1e-4 if name == "lenia" else 1e-5)
    again, _ = rollout(sub, KEY, pop, 12, 3, 24, batched=True)
    assert np.array_equal(np.asarray(again), f)


def test_frame_times_and_registry_errors():
    from primordium.asal.substrates.base import frame_times

    assert list(frame_times(10, 5)) == [2, 4, 6, 8, 10]
    assert list(frame_times(7, 3)) == [2, 5, 7]
    with pytest.raises(ConfigError, match="unknown substrate"):
        get_substrate("golly")
    with pytest.raises(ConfigError, match="no option"):
        get_substrate("life_like", size=3)
    with pytest.raises(ConfigError, match="not a int"):
        get_substrate("life_like", grid="big")
    assert get_substrate("Particle-Life", n="500").n == 500
    with pytest.raises(ConfigError, match=r"n >= \d+"):
        get_substrate("particle_life", n=50)

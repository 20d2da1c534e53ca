"""Differential tests against the paper's code (../shared/reference/asal):
objectives, the pixels model, rollout key usage and a short search."""

from __future__ import annotations

import dataclasses
import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from .reference import REF, import_reference

if not REF.is_dir():
    pytest.skip("../shared/reference/asal is absent", allow_module_level=True)


@pytest.fixture(scope="module")
def ref():
    asal_metrics, ref_rollout, ref_substrates = import_reference(
        "asal_metrics", "rollout", "substrates"
    )
    import importlib.util

    # The package __init__ imports the Flax CLIP that transformers 5 dropped;
    # the pixels module alone needs only jax and einops.
    spec = importlib.util.spec_from_file_location(
        "ref_fm_pixels", REF / "foundation_models" / "pixels.py"
    )
    pixels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pixels)
    Pixels = pixels.Pixels

    return types.SimpleNamespace(
        metrics=asal_metrics,
        rollout=ref_rollout.rollout_simulation,
        substrates=ref_substrates,
        Pixels=Pixels,
    )


def _unit(a):
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def test_objectives_match_asal_metrics(ref):
    from primordium.asal import objectives as obj

    rng = np.random.default_rng(0)
    for t, p in ((8, 2), (4, 1)):
        z = jnp.asarray(_unit(rng.standard_normal((t, 12))).astype(np.float32))
        zt = jnp.asarray(_unit(rng.standard_normal((p, 12))).astype(np.float32))
        np.testing.assert_allclose(
            obj.target_score(z, zt), ref.metrics.calc_supervised_target_score(z, zt), rtol=1e-5
        )
        np.testing.assert_allclose(
            obj.target_softmax_score(z, zt),
            ref.metrics.calc_supervised_target_softmax_score(z, zt),
            rtol=1e-4,
        )
        np.testing.assert_allclose(
            obj.open_endedness_score(z), ref.metrics.calc_open_endedness_score(z), rtol=1e-5
        )
        np.testing.assert_allclose(
            obj.illumination_score(z), ref.metrics.calc_illumination_score(z), rtol=1e-5
        )
        # Batched over leading axes, each row is the reference's value.
        zz = jnp.stack([z, z[::-1]])
        np.testing.assert_allclose(
            obj.open_endedness_score(zz)[1],
            ref.metrics.calc_open_endedness_score(z[::-1]),
            rtol=1e-5,
        )


def test_pixels_model_matches_the_reference(ref):
    from primordium.asal.embed import get_model

    imgs = np.random.default_rng(1).random((3, 224, 224, 3)).astype(np.float32)
    ours = get_model("pixels").embed_images(imgs)
    theirs = np.stack([np.asarray(ref.Pixels().embed_img(jnp.asarray(i))) for i in imgs])
    assert ours.shape == (3, 2352)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_sep_cma_es_one_generation_by_hand():
    """evosax 0.1.6's update written out in numpy for pop 4, n 3 (mu = 2)."""
    from primordium.asal.search import sep_cma_es as es

    n, pop, sigma = 3, 4, 0.1
    h = es.hyper(n, pop)
    w = np.log(3.0) - np.log([1.0, 2.0])
    w /= w.sum()
    mu_eff = 1 / np.sum(w**2)
    np.testing.assert_allclose(np.asarray(h.weights), w, rtol=1e-6)
    c_sigma = (mu_eff + 2) / (n + mu_eff + 3)
    chi_n = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
    d_sigma = 1 + 2 * max(0, np.sqrt((mu_eff - 1) / (n + 1)) - 1) + c_sigma
    st = es.init(n, sigma)
    key = jax.random.PRNGKey(3)
    x = np.asarray(es.ask(key, st, pop))
    z = np.asarray(jax.random.normal(key, (n, pop))).T  # evosax 0.1.6 draws (n, pop)
    np.testing.assert_allclose(x, sigma * z, rtol=1e-6)
    f = np.array([3.0, 1.0, 2.0, 0.5])
    new = es.tell(jnp.asarray(x), jnp.asarray(f), st, h)
    y = x[np.argsort(f)] / sigma
    y_w = w @ y[:2]
    np.testing.assert_allclose(np.asarray(new.mean), sigma * y_w, rtol=1e-5, atol=1e-7)
    p_sigma = np.sqrt(c_sigma * (2 - c_sigma) * mu_eff) * y_w
    np.testing.assert_allclose(np.asarray(new.p_sigma), p_sigma, rtol=1e-5)
    want_sigma = sigma * np.exp(c_sigma / d_sigma * (np.linalg.norm(p_sigma) / chi_n - 1))
    assert float(new.sigma_scale) == pytest.approx(want_sigma, rel=1e-5)
    assert float(new.best_fitness) == 0.5 and np.allclose(new.best_member, x[3])
    np.testing.assert_array_equal(np.asarray(new.D), np.ones(n))  # 0.1.6 never refreshes D


def _adapter(ref_sub, name):
    """A reference substrate behind primordium's Substrate interface (test only)."""
    from primordium.asal.substrates.base import Substrate

    @dataclasses.dataclass(frozen=True)
    class Ref(Substrate):
        def default_params(self, key):
            return ref_sub.default_params(key)

        def init_state(self, key, params):
            return ref_sub.init_state(key, params)

        def step(self, key, state, params):
            return ref_sub.step_state(key, state, params)

        def render(self, state, params, size):
            return ref_sub.render_state(state, params=params, img_size=size)

    Ref.name = name
    return Ref


@pytest.mark.parametrize("ts", ["final", "video", 4, (4, True), (3, False)])
def test_rollout_uses_keys_and_keeps_frames_as_the_reference(ref, ts):
    from primordium.asal.substrates.base import rollout

    gol = ref.substrates.GameOfLife(grid_size=16)
    ours = _adapter(gol, "ref_gol")()
    key = jax.random.PRNGKey(7)
    params = jnp.asarray(6152)
    frames, _ = rollout(ours, key, params, 24, size=32, time_sampling=ts)
    theirs = ref.rollout(
        key, params, substrate=gol, fm=None, rollout_steps=24, time_sampling=ts, img_size=32
    )
    want = np.asarray(theirs["rgb"])
    np.testing.assert_array_equal(np.asarray(frames), want[None] if ts == "final" else want)


def test_short_search_gives_the_reference_loop_scores(ref, tmp_path, monkeypatch):
    """main_opt.py's loop, rebuilt from the reference's pieces, vs run_search."""
    from primordium.asal import substrates as reg
    from primordium.asal.config import AsalConfig
    from primordium.asal.experiment import run_search, search_result
    from primordium.asal.search import sep_cma_es as es
    from primordium.store import Store

    plenia = ref.substrates.ParticleLenia(n_particles=12, dt=0.1)
    monkeypatch.setitem(reg.SUBSTRATES, "ref_plenia", _adapter(plenia, "ref_plenia"))
    seed, pop, gens, steps, frames, bs, size = 4, 6, 3, 8, 2, 2, 32
    cfg = AsalConfig(
        substrate="ref_plenia",
        mode="open-endedness",
        fm="pixels",
        pop=pop,
        gens=gens,
        seed=seed,
        steps=steps,
        frames=frames,
        bs=bs,
        size=size,
        sigma=0.1,
        video=False,
        picture_every=0,
    )
    got = search_result(run_search(cfg, Store(tmp_path)))

    class Fm:  # the paper's pixels model, as the reference's rollout calls it
        embed_img = staticmethod(ref.Pixels().embed_img)

    def calc_loss(rng, params):
        z = ref.rollout(
            rng,
            params,
            substrate=_Flat(plenia),
            fm=Fm,
            rollout_steps=steps,
            time_sampling=(frames, True),
            img_size=size,
        )["z"]
        return ref.metrics.calc_open_endedness_score(z)

    h, state = es.hyper(6, pop), es.init(6, 0.1)
    rng = jax.random.PRNGKey(seed)
    rng, _ = jax.random.split(rng)
    want = []
    for _ in range(gens):
        rng, k = jax.random.split(rng)
        k, k_ask = jax.random.split(k)
        x = es.ask(k_ask, state, pop)
        k, k_init = jax.random.split(k)
        loss = jax.vmap(jax.vmap(calc_loss, in_axes=(0, None)), in_axes=(None, 0))(
            jax.random.split(k_init, bs), x
        )
        loss = loss.mean(axis=1)
        state = es.tell(x, loss, state, h)
        want.append((float(state.best_fitness), float(loss.mean())))
    hist = got["history"]
    np.testing.assert_allclose(
        [(r["best_score"], r["gen_mean"]) for r in hist], want, rtol=1e-4, atol=1e-6
    )


class _Flat:
    """The reference substrate seen through flat vectors (plenia's params are already flat)."""

    def __init__(self, sub):
        self.sub = sub

    def __getattr__(self, name):
        return getattr(self.sub, name)


def test_sweep_scores_rules_as_the_papers_gol_sweep(ref, tmp_path):
    """main_sweep_gol.py's per-rule loss, rebuilt from the reference's pieces
    (its rollout helper create_sim.py is not public: frames follow rollout.py
    at (frames, True)), vs run_sweep at the default (paper's) settings, shrunk."""
    from primordium.asal.experiment import SweepConfig, run_sweep
    from primordium.asal.substrates.life import parse_rule
    from primordium.store import Store

    seed, grid, steps, frames, bs, size = 3, 16, 16, 4, 2, 32
    cfg = SweepConfig(
        fm="pixels",
        grid=grid,
        steps=steps,
        frames=frames,
        bs=bs,
        size=size,
        seed=seed,
        sample=4,
        batch=4,
    )
    assert cfg.resolved().substrate == "gol"
    run = run_sweep(cfg, Store(tmp_path))
    got = {r["rule"]: r["score"] for r in json.loads((run.dir / "ranking.json").read_text())}
    assert len(got) == 4

    gol = ref.substrates.GameOfLife(grid_size=grid)

    class Fm:
        embed_img = staticmethod(ref.Pixels().embed_img)

    def calc_loss(rng, params):  # the sweep's novelty loss per frame for one initial state
        z = ref.rollout(
            rng,
            params,
            substrate=gol,
            fm=Fm,
            rollout_steps=steps,
            time_sampling=(frames, True),
            img_size=size,
        )["z"]
        return jnp.tril(z @ z.T, k=-1).max(axis=-1)

    keys = jax.random.split(jax.random.PRNGKey(seed), bs)
    loss = jax.jit(jax.vmap(calc_loss, in_axes=(0, None)))
    for rule, score in got.items():
        want = float(loss(keys, jnp.asarray(parse_rule(rule))).mean(axis=0).mean())
        assert score == pytest.approx(want, rel=1e-5, abs=1e-6), rule

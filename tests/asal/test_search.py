"""Search: beats random sampling, GA/MAP-Elites parts, same seed same result, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from primordium.asal.config import AsalConfig
from primordium.asal.experiment import run_search, search_result
from primordium.store import Store

from .configs import quick_config


def _target_png(path: Path) -> Path:
    from primordium.viz import save_png

    img = np.zeros((16, 16, 3), np.uint8)
    img[4:8, 4:8] = 255
    return save_png(img, path)


def _lenia_target_cfg(target: Path, seed: int) -> AsalConfig:
    # Lenia's searched initial pattern, seen after one step: the target is a
    # small bright square the random prior (uniform noise) cannot produce.
    return AsalConfig(
        substrate="lenia_soup",
        substrate_options={"grid": 16, "init": 8},
        mode="target",
        target_image=str(target),
        fm="pixels",
        pop=8,
        gens=25,
        seed=seed,
        steps=1,
        frames=1,
        size=16,
        sigma=0.3,
        video=False,
        picture_every=0,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cma_es_beats_random_sampling_on_a_target_image(tmp_path, seed):
    from primordium.asal.experiment import build, member_scores

    cfg = _lenia_target_cfg(_target_png(tmp_path / "target.png"), seed)
    run = run_search(cfg, Store(tmp_path / "home"))
    searched = run.summary["best_score"]
    ctx = build(cfg.resolved())
    budget = cfg.pop * cfg.gens
    keys = jax.random.split(jax.random.PRNGKey(1000 + seed), budget)
    randoms = np.asarray(jax.vmap(lambda k: ravel_pytree(ctx.substrate.default_params(k))[0])(keys))
    z = ctx.evaluator.embeddings(randoms, jax.random.split(jax.random.PRNGKey(seed))[1][None])
    random_best = float(member_scores(ctx, z).min())
    assert searched < random_best, (searched, random_best)
    history = search_result(run)["history"]
    assert len(history) == cfg.gens
    assert all(
        b["best_score"] <= a["best_score"] for a, b in zip(history, history[1:], strict=False)
    )


def test_same_seed_same_result_and_outputs(tmp_path):
    store = Store(tmp_path)
    # The one whose files are checked, best_so_far.png included (after generations 1 and 2).
    a = search_result(run_search(quick_config(video=True, picture_every=2), store))
    b = search_result(run_search(quick_config(), store))
    assert a["history"] == b["history"] and a["best_params"] == b["best_params"]
    c = search_result(run_search(quick_config(seed=4), store))
    assert c["history"] != a["history"]
    run = store.open(a["run"])
    names = {p.name for p in run.artifacts()}
    assert {
        "best_params.json",
        "history.json",
        "scores.png",
        "best.gif",
        "checkpoint.npz",
        "result.npz",
    } <= names
    # video=False (b's setting) skips the videos and nothing else.
    assert not list(store.open(b["run"]).dir.glob("best.*"))
    with np.load(run.dir / "result.npz", allow_pickle=False) as npz:  # plain numpy, no pickle
        assert npz["best_params"].shape == (18,) and len(npz["history_best_score"]) == 3
        assert float(npz["best_score"]) == pytest.approx(a["best_score"])
    assert run.status == "finished"
    assert [m["step"] for m in run.metrics()] == [0, 1, 2]
    assert a["rule"].startswith("B")
    # The notebook view: the substrate's name, a one-line repr, the history as a frame.
    assert a.substrate == "life_like" and "life_like" in repr(a) and len(repr(a)) < 200
    df = a.to_pandas()
    assert df["gen"].tolist() == [h["gen"] for h in a["history"]]
    assert df["best_score"].tolist() == [h["best_score"] for h in a["history"]]
    from PIL import Image

    with Image.open(run.dir / "best.gif") as gif:
        assert min(gif.size) >= 256  # the search rendered at 16 pixels; the video is watchable
    with Image.open(run.dir / "best_so_far.png") as live:
        # Four moments of the best member's rollout, 128 pixels each, and a stamped strip.
        assert live.size[0] == 4 * 128 + 3 * 2 and live.size[1] > 128
    assert {"scores.pdf", "scores.svg"} <= names
    assert not list(store.open(b["run"]).dir.glob("best_so_far.*"))  # picture_every=0


def test_illumination_ga_and_map_elites(tmp_path):
    store = Store(tmp_path)
    run = run_search(quick_config(mode="illuminate", gens=3, children=4, picture_every=1), store)
    hist = search_result(run)["history"]
    # The paper's GA removes by mean similarity to 2 neighbours, so the
    # (nearest-neighbour) illumination score need not fall every generation.
    assert len(hist) == 3 and all(-1.0 <= h["score"] <= 1.0 + 1e-6 for h in hist)
    assert (run.dir / "poster.png").is_file()
    from PIL import Image

    with Image.open(run.dir / "best_so_far.png") as live:  # six archive members, three a row
        assert live.size[0] == 3 * 128 + 2 * 2 and live.size[1] > 2 * 128
    assert len(json.loads((run.dir / "archive.json").read_text())) == 6
    run = run_search(quick_config(mode="illuminate", algo="map-elites", gens=3, bins=4), store)
    hist = search_result(run)["history"]
    assert all(1 <= h["cells"] <= 16 for h in hist)
    assert hist[-1]["cells"] >= hist[0]["cells"]


def test_select_diverse_and_map_elites_by_hand():
    from primordium.asal.search.map_elites import MapElites
    from primordium.asal.search.optimizers import select_diverse

    e = np.eye(3, dtype=np.float32)
    z = np.stack([e[0], e[0], e[1], e[2]])  # one duplicate
    keep = select_diverse(z, 3)
    assert sorted(keep.tolist()) in ([0, 2, 3], [1, 2, 3])
    me = MapElites(bins=2, margin=0.0)
    z2 = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], np.float32)
    assert me.insert(np.zeros((4, 3)), z2, np.array([1, 2, 3, 4.0])) >= 2
    before = me.score.copy()
    me.insert(np.ones((1, 3)), z2[:1], np.array([0.5]))
    assert me.score.min() == 0.5 and (me.score <= before).all()


def test_cma_state_round_trips():
    from primordium.asal.search.optimizers import SepCMAES

    es = SepCMAES(5, 4, 0.3)
    st = es.init(jax.random.PRNGKey(0), np.ones(5))
    x, st = es.ask(jax.random.PRNGKey(1), st)
    st = es.tell(jax.random.PRNGKey(2), x, np.arange(4.0), st)
    back = es.state_from_arrays(es.state_arrays(st))
    x1, _ = es.ask(jax.random.PRNGKey(3), st)
    x2, _ = es.ask(jax.random.PRNGKey(3), back)
    assert np.array_equal(x1, x2)


def test_sigkill_then_resume_gives_the_uninterrupted_result(tmp_path):
    """Kill a CLI search mid-run with SIGKILL, resume it, compare with a clean run."""
    args = [
        "search",
        "--substrate",
        "life_like",
        "--set",
        "grid=16",
        "--mode",
        "open-endedness",
        "--fm",
        "pixels",
        "--pop",
        "6",
        "--gens",
        "12",
        "--seed",
        "5",
        "--steps",
        "24",
        "--frames",
        "4",
        "--size",
        "16",
        "--sigma",
        "0.5",
        "--no-video",
        "--json",
    ]
    env = os.environ | {"PRIMORDIUM_HOME": str(tmp_path / "a")}
    cmd = [sys.executable, "-c", "from primordium.cli import main; main()", "asal"]
    proc = subprocess.Popen(cmd + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = tmp_path / "a" / "runs"
    deadline = time.time() + 120
    ckpt = None
    while time.time() < deadline:
        found = list(runs.glob("*/checkpoint.npz")) if runs.exists() else []
        if found:
            from primordium.store import load_checkpoint

            try:
                if load_checkpoint(found[0])[1]["gen"] >= 3:
                    ckpt = found[0]
                    break
            except Exception:
                pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt is not None, "search never checkpointed"
    run_id = ckpt.parent.name
    out = subprocess.run(
        cmd + ["search", "--resume", run_id, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    resumed = json.loads(out.stdout)
    env_b = os.environ | {"PRIMORDIUM_HOME": str(tmp_path / "b")}
    clean = json.loads(
        subprocess.run(cmd + args, env=env_b, capture_output=True, text=True, timeout=300).stdout
    )
    assert resumed["history"] == clean["history"]
    assert resumed["best_params"] == clean["best_params"]
    assert [h["gen"] for h in resumed["history"]] == list(range(12))


def test_quickstart_run_is_an_offline_demo(tmp_path):
    from primordium.asal.experiment import quickstart_run

    run = quickstart_run(Store(tmp_path), seed=0, gens=2)
    assert run.status == "finished" and run.config["fm"] == "pixels"
    assert (run.dir / "best.gif").is_file() and "rule" in run.summary


def test_sweep_recorded_before_the_substrate_field_resumes_as_life_like(tmp_path):
    """Old sweep runs carry no 'substrate': they ran life_like soups, and a
    resume must finish them on the same soups, not switch to gol halfway."""
    import dataclasses

    from primordium.asal.context import ENGINE
    from primordium.asal.experiment import SweepConfig, run_sweep, sweep_result
    from primordium.asal.life_sweep import resume_sweep

    store = Store(tmp_path)
    cfg = SweepConfig.quick(grid=12, steps=8, frames=2, size=16, sample=6, batch=6)
    old = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "substrate"}
    run = store.create(ENGINE, {"kind": "sweep-life"} | old)
    run.set_status("interrupted")
    resumed = sweep_result(resume_sweep(store, run.id))
    fresh = sweep_result(run_sweep(cfg, store))
    gol = sweep_result(run_sweep(dataclasses.replace(cfg, substrate="gol"), store))
    assert resumed["rules"] == fresh["rules"]
    assert resumed["rules"] != gol["rules"]

"""ASAL experiments: search and sweep runs written through the run store.

Data flow: CLI -> AsalConfig -> this module -> substrates / embed / search.
Every generation ends with an atomic checkpoint, so a run killed at any
moment resumes (``resume_search``) and finishes with the same result as an
uninterrupted one: all randomness comes from the seed and the generation
number, and rollouts use one fixed key so a parameter vector always scores
the same.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from primordium.asal.config import AsalConfig
from primordium.errors import ConfigError, StoreError
from primordium.asal import objectives as obj
from primordium.asal.search.evaluate import Evaluator
from primordium.store import Run, Store, load_checkpoint, save_checkpoint

ENGINE = "asal"
CHECKPOINT = "checkpoint.npz"


@dataclasses.dataclass
class Context:
    cfg: AsalConfig
    evaluator: Evaluator
    z_target: np.ndarray | None

    @property
    def substrate(self):
        return self.evaluator.substrate


def build(cfg: AsalConfig, executor=None) -> Context:
    """Substrate, foundation model and target embeddings for a resolved config.

    ``executor`` (optional) rolls out chunks of each population on its workers;
    embedding stays here, where the foundation model is loaded.
    """
    from primordium.asal.embed import get_model
    from primordium.asal.substrates import get_substrate

    substrate = get_substrate(cfg.substrate, **cfg.substrate_options)
    fm = get_model(cfg.fm, weights=cfg.fm_weights)
    z_target = None
    if cfg.mode == "target":
        if cfg.target_image:
            from primordium.asal.embed.thumbnail import load_target_image

            z_target = fm.embed_images(load_target_image(cfg.target_image, cfg.size))
        else:
            z_target = fm.embed_texts(cfg.prompts)
    ev = Evaluator(substrate, fm, cfg.steps, cfg.time_sampling(), cfg.size, executor)
    return Context(cfg, ev, z_target)


def losses(ctx: Context, z: np.ndarray) -> dict[str, np.ndarray]:
    """Embeddings f32[B, S, K, D] -> the paper's loss terms f32[B], averaged over the S initial states."""
    c = ctx.cfg
    zt = None if ctx.z_target is None else jnp.asarray(ctx.z_target)
    d = obj.asal_loss(jnp.asarray(z), zt, c.coef_prompt, c.coef_softmax, c.coef_oe, c.tiling)
    return {k: np.asarray(v).mean(axis=1) for k, v in d.items()}


def member_scores(ctx: Context, z: np.ndarray) -> np.ndarray:
    """Per-simulation loss (lower is better); z f32[B, S, K, D]."""
    if ctx.cfg.mode == "illuminate":
        return np.zeros(len(z), np.float32)  # quality is not scored per simulation
    return losses(ctx, z)["loss"]


# -- search -----------------------------------------------------------------
def run_search(cfg: AsalConfig, store: Store, output=None, run: Run | None = None, executor=None) -> Run:
    """Run (or, given ``run``, resume) a search; returns the finished run."""
    cfg = cfg.resolved()
    ctx = build(cfg, executor)
    if run is None:
        run = store.create(ENGINE, {"kind": "search"} | cfg.to_dict(),
                           name=f"{cfg.substrate} {cfg.mode} ({cfg.fm})")
    else:
        run.claim()
    try:
        if cfg.algo == "cma-es":
            result = _cma_loop(ctx, run, output)
        else:
            result = _illuminate_loop(ctx, run, output)
        _write_outputs(ctx, run, result)
    except BaseException:
        run.set_status("interrupted")
        raise
    run.set_status("finished")
    return run


def resume_search(store: Store, run_id: str, output=None, executor=None) -> Run:
    run = store.open(run_id)
    config = dict(run.config)
    kind = config.pop("kind", None)
    if run.engine != ENGINE or kind != "search":
        raise StoreError(f"run {run.id} is not an ASAL search (use sweep-life --resume for sweeps)")
    if run.status == "finished":
        return run
    return run_search(AsalConfig.from_dict(config, source=str(run.dir / "config.json")), store, output, run=run,
                      executor=executor)


def _progress(output, description, total):
    if output is None:
        from contextlib import nullcontext

        class _Null:
            def advance(self, *a, **k): ...

            def update(self, *a, **k): ...

        return nullcontext(_Null())
    return output.progress(description, total)


def _cma_loop(ctx: Context, run: Run, output) -> dict[str, Any]:
    """Sep-CMA-ES as the paper's main_opt.py drives it, key for key.

    From ``PRNGKey(seed)``: one split for the (unused) strategy init key, then
    per generation a split for the generation key, which splits again for
    ``ask`` and for the ``bs`` initial-state keys all members share.
    """
    from primordium.asal.search import sep_cma_es as es

    cfg, ev = ctx.cfg, ctx.evaluator
    h = es.hyper(ev.dim, cfg.pop)
    ask = jax.jit(es.ask, static_argnums=2)
    tell = jax.jit(es.tell)
    ckpt = run.dir / CHECKPOINT
    if ckpt.exists():
        arrays, state = load_checkpoint(ckpt)
        es_state, rng = es.state_from_arrays(arrays), jnp.asarray(arrays["rng"])
        gen, history = state["gen"], state["history"]
        run.truncate_metrics(gen - 1)
    else:
        rng, _ = jax.random.split(jax.random.PRNGKey(cfg.seed))
        es_state, gen, history = es.init(ev.dim, cfg.sigma), 0, []
    with _progress(output, f"{cfg.substrate} {cfg.mode}", cfg.gens) as bar:
        bar.update(gen)
        while gen < cfg.gens:
            rng, k_gen = jax.random.split(rng)
            k_gen, k_ask = jax.random.split(k_gen)
            x = ask(k_ask, es_state, cfg.pop)
            _, k_init = jax.random.split(k_gen)
            parts = losses(ctx, ev.embeddings(np.asarray(x), jax.random.split(k_init, cfg.bs)))
            es_state = tell(x, jnp.asarray(parts["loss"]), es_state, h)
            row = {"gen": gen, "best_score": float(es_state.best_fitness), "gen_best": float(parts["loss"].min()),
                   "gen_mean": float(parts["loss"].mean())}
            row |= {k: float(v.mean()) for k, v in parts.items() if k != "loss"}
            history.append(row)
            run.log(gen, **{k: v for k, v in row.items() if k != "gen"})
            gen += 1
            save_checkpoint(ckpt, es.state_arrays(es_state) | {"rng": np.asarray(rng)},
                            {"gen": gen, "history": history})
            bar.advance(1, status=f"best {row['best_score']:.4f}")
    return {"best_flat": np.asarray(es_state.best_member), "best_score": float(es_state.best_fitness),
            "history": history}


def _illuminate_loop(ctx: Context, run: Run, output) -> dict[str, Any]:
    if ctx.cfg.algo == "map-elites":
        return _map_elites_loop(ctx, run, output)
    from primordium.asal.search.illuminate import children, survivors

    cfg, ev = ctx.cfg, ctx.evaluator
    ckpt = run.dir / CHECKPOINT
    if ckpt.exists():
        arrays, state = load_checkpoint(ckpt)
        gen, history = state["gen"], state["history"]
        archive, archive_z, rng = arrays["archive"], arrays["archive_z"], jnp.asarray(arrays["rng"])
        run.truncate_metrics(gen - 1)
    else:
        # As main_illuminate.py: every member starts at zero, rolled out from one key.
        rng, k0 = jax.random.split(jax.random.PRNGKey(cfg.seed))
        archive = np.zeros((cfg.pop, ev.dim), np.float32)
        archive_z = ev.embeddings(archive, k0[None])[:, 0, -1]
        gen, history = 0, []
    with _progress(output, f"{cfg.substrate} {cfg.algo}", cfg.gens) as bar:
        bar.update(gen)
        while gen < cfg.gens:
            # main_illuminate.py hands the generation the outer key itself (not
            # the split-off one); kept, since it decides every draw.
            rng, _ = jax.random.split(rng)
            kids, keys = children(rng, jnp.asarray(archive), cfg.children, cfg.sigma)
            kids_z = ev.embeddings(np.asarray(kids), keys, per_member=True)[:, 0, -1]
            pool = np.concatenate([archive, np.asarray(kids)])
            pool_z = np.concatenate([archive_z, kids_z])
            keep = np.asarray(survivors(jnp.asarray(pool_z), cfg.children, cfg.k_nbrs))
            archive, archive_z = pool[keep], pool_z[keep]
            row = {"gen": gen, "score": float(obj.illumination_score(jnp.asarray(archive_z)))}
            history.append(row)
            run.log(gen, **{k: v for k, v in row.items() if k != "gen"})
            gen += 1
            save_checkpoint(ckpt, {"archive": archive, "archive_z": archive_z, "rng": np.asarray(rng)},
                            {"gen": gen, "history": history})
            bar.advance(1, status=f"score {row['score']:.4f}")
    final = float(obj.illumination_score(jnp.asarray(archive_z)))
    return {"archive": archive, "archive_z": archive_z, "best_score": final, "history": history,
            "best_flat": archive[0]}


def _map_elites_loop(ctx: Context, run: Run, output) -> dict[str, Any]:
    """primordium's own illumination variant (not in the paper): MAP-Elites on a 2D map."""
    from primordium.asal.search.map_elites import MapElites
    from primordium.asal.search.optimizers import mutate

    cfg, ev = ctx.cfg, ctx.evaluator
    key = jax.random.split(jax.random.PRNGKey(cfg.seed))[1][None]
    ckpt = run.dir / CHECKPOINT
    elites = MapElites(cfg.bins)
    if ckpt.exists():
        arrays, state = load_checkpoint(ckpt)
        gen, history = state["gen"], state["history"]
        elites.load(arrays)
        run.truncate_metrics(gen - 1)
    else:
        keys = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(cfg.seed), 7), cfg.pop)
        start = np.asarray(jax.vmap(lambda k: ravel_pytree(ctx.substrate.default_params(k))[0])(keys), np.float32)
        elites.insert(start, ev.embeddings(start, key)[:, 0, -1], np.zeros(len(start), np.float32))
        gen, history = 0, []
    with _progress(output, f"{cfg.substrate} {cfg.algo}", cfg.gens) as bar:
        bar.update(gen)
        while gen < cfg.gens:
            rng = np.random.default_rng([cfg.seed, gen])
            kids = mutate(rng, elites.sample_parents(rng, cfg.pop), cfg.pop, cfg.sigma)
            improved = elites.insert(kids, ev.embeddings(kids, key)[:, 0, -1], np.zeros(len(kids), np.float32))
            cells = elites.filled()
            archive_z = elites.z[cells[:, 0], cells[:, 1]]
            score = float(obj.illumination_score(jnp.asarray(archive_z))) if len(cells) > 1 else 1.0
            row = {"gen": gen, "score": score, "cells": int(len(cells)), "improved": improved}
            history.append(row)
            run.log(gen, **{k: v for k, v in row.items() if k != "gen"})
            gen += 1
            save_checkpoint(ckpt, elites.state(), {"gen": gen, "history": history})
            bar.advance(1, status=f"score {row['score']:.4f}")
    cells = elites.filled()
    archive = elites.params[cells[:, 0], cells[:, 1]]
    archive_z = elites.z[cells[:, 0], cells[:, 1]]
    return {"archive": archive, "archive_z": archive_z, "best_score": history[-1]["score"] if history else 1.0,
            "history": history, "best_flat": archive[0]}


# -- outputs ----------------------------------------------------------------
def params_document(substrate, flat: np.ndarray, unravel, score: float | None = None) -> dict[str, Any]:
    """What best_params.json holds: readable params plus the flat vector."""
    tree = unravel(jnp.asarray(flat, jnp.float32))
    doc: dict[str, Any] = {
        "substrate": substrate.name,
        "options": substrate.options(),
        "params": jax.tree_util.tree_map(lambda a: np.asarray(a).tolist(), tree),
        "flat": np.asarray(flat, np.float64).tolist(),
    }
    if substrate.name == "life_like":
        from primordium.asal.substrates.life import rule_from_params, rule_string

        doc["rule"] = rule_string(rule_from_params(tree))
    elif substrate.name == "gol":
        from primordium.asal.substrates.life import N_RULES, rule_string

        doc["rule"] = rule_string(int(np.asarray(tree)) % N_RULES)
    if score is not None:
        doc["score"] = score
    return doc


def _write_outputs(ctx: Context, run: Run, result: dict[str, Any]) -> None:
    from primordium.asal import outputs

    cfg, ev = ctx.cfg, ctx.evaluator
    history = result["history"]
    run.write_json("history.json", history)
    outputs.score_plot(history, run.artifact("scores.png"), "illumination score" if cfg.mode == "illuminate"
                       else f"{cfg.mode} score")
    summary: dict[str, Any] = {"best_score": result["best_score"], "gens": len(history)}
    if cfg.mode == "illuminate":
        archive = result["archive"]
        run.write_json("archive.json", [params_document(ev.substrate, f, ev.unravel) for f in archive])
        from primordium.asal.substrates import rollout, to_uint8

        # Re-rendered larger than the search saw them, so the poster is legible.
        frames, _ = rollout(ev.substrate, jax.random.PRNGKey(cfg.seed), ev.unravel_batch(archive), cfg.steps,
                            size=max(cfg.size, 128), batched=True, time_sampling="final")
        outputs.poster(to_uint8(frames)[:, -1], result["archive_z"], run.artifact("poster.png"), thumb=128)
        summary["archive"] = len(archive)
    doc = params_document(ev.substrate, result["best_flat"], ev.unravel, result["best_score"])
    run.write_json("best_params.json", doc)
    run.write_bytes("result.npz", outputs.result_npz(result, history))
    video = video_frames(ev.substrate, ev.unravel(jnp.asarray(result["best_flat"])), cfg.steps, cfg.seed, cfg.size)
    write_video(video, run.artifact("best.gif"), fps=15)
    try:
        write_video(video, run.artifact("best.mp4"), fps=15)
    except Exception:  # MP4 needs ffmpeg; the GIF is always there
        pass
    if "rule" in doc:
        summary["rule"] = doc["rule"]
    run.update_summary(**summary)


def write_video(frames: np.ndarray, path: Path, fps: float = 15.0) -> Path:
    import warnings

    from primordium.viz import save_video

    with warnings.catch_warnings():
        # ffmpeg runs as a subprocess (posix_spawn); JAX's fork warning does not apply.
        warnings.simplefilter("ignore", RuntimeWarning)
        return save_video(frames, path, fps=fps)


def video_frames(substrate, params, steps: int, seed: int, size: int, n_frames: int | None = None) -> np.ndarray:
    from primordium.asal.substrates import rollout, to_uint8

    n = n_frames or min(steps, 96)
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 1_000_003)
    frames, _ = rollout(substrate, key, params, steps, n, max(size, 128))
    return to_uint8(frames)


def search_result(run: Run) -> dict[str, Any]:
    """The JSON a finished search reports: best score, best params, history."""
    doc = _read_json(run.dir / "best_params.json")
    return {"run": run.id, "best_score": run.summary.get("best_score"), "best_params": doc.get("params"),
            **({"rule": doc["rule"]} if "rule" in doc else {}),
            "history": _read_json(run.dir / "history.json")}


def _read_json(path: Path):
    import json

    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError("missing run output", file=path) from None


# -- sweep --------------------------------------------------------------------
@dataclasses.dataclass
class SweepConfig:
    fm: str = "pixels"
    fm_weights: str | None = None
    grid: int = 64
    steps: int = 512
    frames: int = 8
    size: int | None = None
    seed: int = 0
    batch: int = 256
    sample: int | None = None  # score a random subset (always with B3/S23) instead of all 2^18

    def resolved(self) -> "SweepConfig":
        from primordium.asal.embed.base import MODELS

        c = dataclasses.replace(self)
        if c.fm.partition(":")[0].lower() not in MODELS:
            raise ConfigError(f"unknown foundation model {c.fm!r} (choose from {', '.join(MODELS)})")
        if c.size is None:
            c.size = 64 if c.fm.partition(":")[0] in ("pixels", "thumbnail") else 224
        for name in ("grid", "steps", "batch"):
            if getattr(c, name) < 1:
                raise ConfigError(f"--{name} must be at least 1")
        if c.frames < 2 or c.steps < c.frames:
            raise ConfigError("need 2 <= --frames <= --steps")
        if c.sample is not None and c.sample < 1:
            raise ConfigError("--sample must be at least 1")
        return c

    def rules(self) -> np.ndarray:
        """Rule numbers in the order they are scored: B3/S23 first, then a
        seeded random permutation, so a partial sweep is an unbiased sample."""
        from primordium.asal.substrates.life import N_RULES, parse_rule

        conway = parse_rule("B3/S23")
        order = np.random.default_rng(self.seed).permutation(N_RULES)
        order = np.concatenate([[conway], order[order != conway]]).astype(np.int64)
        return order if self.sample is None else order[: self.sample]


def run_sweep(cfg: SweepConfig, store: Store, output=None, run: Run | None = None) -> Run:
    """Score Life-like rules by open-endedness; resumable batch by batch."""
    from primordium.asal.embed import get_model
    from primordium.asal.search.sweep import score_rules
    from primordium.asal.substrates.life import Life

    cfg = cfg.resolved()
    fm = get_model(cfg.fm, weights=cfg.fm_weights)
    if run is None:
        run = store.create(ENGINE, {"kind": "sweep-life"} | dataclasses.asdict(cfg), name=f"life sweep ({cfg.fm})")
    else:
        run.claim()
    rules = cfg.rules()
    ckpt = run.dir / CHECKPOINT
    scores = np.full(len(rules), np.nan, np.float32)
    done = 0
    if ckpt.exists():
        arrays, state = load_checkpoint(ckpt)
        scores, done = arrays["scores"], state["done"]
    life = Life(grid=cfg.grid)
    key = jax.random.fold_in(jax.random.PRNGKey(cfg.seed), 1_000_003)
    last_save = time.monotonic()
    try:
        with _progress(output, "Life-like rules", len(rules)) as bar:
            bar.update(done)
            while done < len(rules):
                chunk = rules[done : done + cfg.batch]
                # Pad the last batch so every batch reuses one compiled rollout.
                padded = np.concatenate([chunk, np.repeat(chunk[-1:], cfg.batch - len(chunk))])
                s = score_rules(padded, fm, key, life, cfg.steps, cfg.frames, cfg.size)
                scores[done : done + len(chunk)] = s[: len(chunk)]
                done += len(chunk)
                bar.advance(len(chunk))
                if time.monotonic() - last_save > 20 or done == len(rules):
                    save_checkpoint(ckpt, {"scores": scores}, {"done": done})
                    run.log(done, scored=done)
                    last_save = time.monotonic()
        _write_sweep_outputs(cfg, run, rules, scores, fm, life, key)
    except BaseException:
        run.set_status("interrupted")
        raise
    run.set_status("finished")
    return run


def sweep_ranking(rules: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
    from primordium.asal.substrates.life import rule_string

    order = np.argsort(scores, kind="stable")
    return [{"rank": r + 1, "rule": rule_string(int(rules[i])), "score": float(scores[i])}
            for r, i in enumerate(order)]


def _write_sweep_outputs(cfg, run, rules, scores, fm, life, key) -> None:
    from primordium.asal import outputs
    from primordium.asal.search.sweep import rule_params
    from primordium.asal.substrates import rollout, to_uint8
    from primordium.asal.substrates.life import parse_rule

    ranking = sweep_ranking(rules[np.isfinite(scores)], scores[np.isfinite(scores)])
    run.write_json("ranking.json", ranking)
    run.write_text("ranking.csv", "rank,rule,score\n" + "".join(f"{r['rank']},{r['rule']},{r['score']:.6f}\n"
                                                                 for r in ranking))
    conway = next((r for r in ranking if r["rule"] == "B3/S23"), None)
    top = np.array([parse_rule(r["rule"]) for r in ranking[:24]])
    frames, _ = rollout(life, key, rule_params(top), cfg.steps, cfg.frames, 96, batched=True)
    frames = to_uint8(frames)
    z = fm.embed_images(frames[:, -1])
    outputs.poster(frames[:, -1], z, run.artifact("top_rules.png"))
    run.update_summary(rules=len(ranking), best=ranking[0]["rule"],
                       conway_rank=conway["rank"] if conway else None)


def sweep_result(run: Run, top: int | None = None) -> dict[str, Any]:
    ranking = _read_json(run.dir / "ranking.json")
    out = ranking if top is None else ranking[:top]
    conway = next((r for r in ranking if r["rule"] == "B3/S23"), None)
    return {"run": run.id, "total": len(ranking), "conway": conway,
            "rules": [{"rule": r["rule"], "score": r["score"]} for r in out]}


def resume_sweep(store: Store, run_id: str, output=None) -> Run:
    run = store.open(run_id)
    config = dict(run.config)
    if run.engine != ENGINE or config.pop("kind", None) != "sweep-life":
        raise StoreError(f"run {run.id} is not a Life sweep")
    if run.status == "finished":
        return run
    return run_sweep(SweepConfig(**config), store, output, run=run)


# -- params files -------------------------------------------------------------
def load_params_file(path: str | Path, substrate):
    """A best_params.json (or an archive entry) -> params pytree for ``substrate``."""
    import json

    from primordium.errors import read_text_file

    try:
        doc = json.loads(read_text_file(path))
    except json.JSONDecodeError as e:
        raise ConfigError(f"not JSON ({e.msg} at line {e.lineno})", file=path, line=e.lineno) from None
    if isinstance(doc, list):
        if not doc:
            raise ConfigError("empty params list", file=path)
        doc = doc[0]
    if not isinstance(doc, dict) or "flat" not in doc and "params" not in doc:
        raise ConfigError("expected a params file with a 'flat' or 'params' field (best_params.json)", file=path)
    if doc.get("substrate") not in (None, substrate.name):
        raise ConfigError(f"params are for substrate {doc['substrate']!r}, not {substrate.name!r}", file=path)
    template = substrate.default_params(jax.random.PRNGKey(0))
    flat0, unravel = ravel_pytree(template)
    if "flat" in doc:
        flat = np.asarray(doc["flat"], dtype=np.float32) if _is_numbers(doc["flat"]) else None
        if flat is None or flat.ndim != 1:
            raise ConfigError("field 'flat' must be a list of numbers", file=path)
    else:
        try:
            tree = jax.tree_util.tree_map(lambda t, v: np.asarray(v, np.float32).reshape(np.shape(t)), template,
                                          doc["params"])
        except (ValueError, TypeError) as e:
            raise ConfigError(f"params do not fit substrate {substrate.name!r} ({e})", file=path) from None
        flat = np.asarray(ravel_pytree(tree)[0])
    if flat.shape[0] != flat0.shape[0]:
        raise ConfigError(f"params have {flat.shape[0]} values but substrate {substrate.name!r} with these options "
                          f"expects {flat0.shape[0]}", file=path)
    return unravel(jnp.asarray(flat))


def _is_numbers(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)


# -- quickstart ---------------------------------------------------------------
def quickstart_run(store: Store, seed: int = 0, output=None, gens: int = 6) -> Run:
    """A short offline ASAL demo (< 2 min on 2 cores): open-endedness search over
    Life-like rules with the pixels model, 32x32 grid, into ``store``."""
    cfg = AsalConfig(substrate="life_like", substrate_options={"grid": 32}, mode="open-endedness", fm="pixels",
                     pop=8, gens=gens, seed=seed, steps=128, frames=8, size=64, sigma=0.5)
    return run_search(cfg, store, output)

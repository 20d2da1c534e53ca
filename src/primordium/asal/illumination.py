"""Illumination loops: the paper's genetic algorithm and primordium's MAP-Elites,
checkpointed every generation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from primordium.asal import objectives as obj
from primordium.asal.context import CHECKPOINT, Context
from primordium.store import Run, load_checkpoint, save_checkpoint

OnGeneration = Callable[[list[dict]], None] | None


def illuminate_loop(ctx: Context, run: Run, on_generation: OnGeneration = None) -> dict[str, Any]:
    """The paper's illumination GA; ``on_generation(history)`` as in ``cma_loop``."""
    if ctx.cfg.algo == "map-elites":
        return map_elites_loop(ctx, run, on_generation)
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
    if on_generation is not None:
        on_generation(history)
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
        save_checkpoint(
            ckpt,
            {"archive": archive, "archive_z": archive_z, "rng": np.asarray(rng)},
            {"gen": gen, "history": history},
        )
        if on_generation is not None:
            on_generation(history)
    final = float(obj.illumination_score(jnp.asarray(archive_z)))
    return {
        "archive": archive,
        "archive_z": archive_z,
        "best_score": final,
        "history": history,
        "best_flat": archive[0],
    }


def map_elites_loop(ctx: Context, run: Run, on_generation: OnGeneration = None) -> dict[str, Any]:
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
        start = np.asarray(
            jax.vmap(lambda k: ravel_pytree(ctx.substrate.default_params(k))[0])(keys), np.float32
        )
        elites.insert(start, ev.embeddings(start, key)[:, 0, -1], np.zeros(len(start), np.float32))
        gen, history = 0, []
    if on_generation is not None:
        on_generation(history)
    while gen < cfg.gens:
        rng = np.random.default_rng([cfg.seed, gen])
        kids = mutate(rng, elites.sample_parents(rng, cfg.pop), cfg.pop, cfg.sigma)
        improved = elites.insert(
            kids, ev.embeddings(kids, key)[:, 0, -1], np.zeros(len(kids), np.float32)
        )
        cells = elites.filled()
        archive_z = elites.z[cells[:, 0], cells[:, 1]]
        score = float(obj.illumination_score(jnp.asarray(archive_z))) if len(cells) > 1 else 1.0
        row = {"gen": gen, "score": score, "cells": int(len(cells)), "improved": improved}
        history.append(row)
        run.log(gen, **{k: v for k, v in row.items() if k != "gen"})
        gen += 1
        save_checkpoint(ckpt, elites.state(), {"gen": gen, "history": history})
        if on_generation is not None:
            on_generation(history)
    cells = elites.filled()
    archive = elites.params[cells[:, 0], cells[:, 1]]
    archive_z = elites.z[cells[:, 0], cells[:, 1]]
    return {
        "archive": archive,
        "archive_z": archive_z,
        "best_score": history[-1]["score"] if history else 1.0,
        "history": history,
        "best_flat": archive[0],
    }

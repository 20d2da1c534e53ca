"""The Sep-CMA-ES loop of target and open-endedness searches, checkpointed every generation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from primordium.asal.context import CHECKPOINT, Context, losses
from primordium.store import Run, load_checkpoint, save_checkpoint


def cma_loop(
    ctx: Context, run: Run, on_generation: Callable[[list[dict]], None] | None = None
) -> dict[str, Any]:
    """Sep-CMA-ES as the paper's main_opt.py drives it, key for key.

    From ``PRNGKey(seed)``: one split for the (unused) strategy init key, then
    per generation a split for the generation key, which splits again for
    ``ask`` and for the ``bs`` initial-state keys all members share.
    ``on_generation(history)`` hears the rows so far before the first
    generation (a resumed run's) and after each one.
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
    if on_generation is not None:
        on_generation(history)
    while gen < cfg.gens:
        rng, k_gen = jax.random.split(rng)
        k_gen, k_ask = jax.random.split(k_gen)
        x = ask(k_ask, es_state, cfg.pop)
        _, k_init = jax.random.split(k_gen)
        parts = losses(ctx, ev.embeddings(np.asarray(x), jax.random.split(k_init, cfg.bs)))
        es_state = tell(x, jnp.asarray(parts["loss"]), es_state, h)
        row = {
            "gen": gen,
            "best_score": float(es_state.best_fitness),
            "gen_best": float(parts["loss"].min()),
            "gen_mean": float(parts["loss"].mean()),
        }
        row |= {k: float(v.mean()) for k, v in parts.items() if k != "loss"}
        history.append(row)
        run.log(gen, **{k: v for k, v in row.items() if k != "gen"})
        gen += 1
        save_checkpoint(
            ckpt,
            es.state_arrays(es_state) | {"rng": np.asarray(rng)},
            {"gen": gen, "history": history},
        )
        if on_generation is not None:
            on_generation(history)
    return {
        "best_flat": np.asarray(es_state.best_member),
        "best_score": float(es_state.best_fitness),
        "history": history,
    }

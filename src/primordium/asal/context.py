"""What every ASAL search loop needs: the resolved config, the evaluator, the
target embeddings, the loss of a batch of embeddings, and a progress bar."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from primordium.asal import objectives as obj
from primordium.asal.config import AsalConfig
from primordium.asal.search.evaluate import Evaluator

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


def progress(output, description, total):
    if output is None:
        from contextlib import nullcontext

        class _Null:
            def advance(self, *a, **k): ...

            def update(self, *a, **k): ...

        return nullcontext(_Null())
    return output.progress(description, total)

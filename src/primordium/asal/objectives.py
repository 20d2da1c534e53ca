"""The ASAL objectives (Kumar et al. 2024), as the paper's code computes them.

All are minimised and take unit-norm rows, so inner products are cosine
similarities. Shapes: frames z f32[..., T, D], prompts f32[P, D] with T a
multiple of P.

- supervised target: minus the mean, over frames, of the similarity of
  frame t with its prompt. The paper's code assigns prompts by tiling the
  prompt list (frame t gets prompt t mod P); ``tiling="blocks"`` is
  primordium's earlier assignment (equal consecutive shares, frame t gets
  prompt t*P//T), kept as an option because it reads more naturally for a
  story told in order;
- softmax term: with K[i, j] = <prompt(i), z_j> over the T x T frame pairs,
  the mean of the two cross-entropies (rows and columns) of picking the
  diagonal at temperature 0.01; it rewards frames that match their own
  prompt better than the other frames do;
- open-endedness: the lower triangle (s < t) of the frame similarity matrix
  with everything else zeroed, maxed over s and averaged over all T rows.
  The zeros take part in the max, exactly as in the paper's code, so the
  first row counts as 0 and a row of negative similarities as 0;
- illumination: mean over i of max over j != i of <z_i, z_j>.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

TEMPERATURE_SOFTMAX = 0.01  # CLIP's own logit temperature
TILINGS = ("tile", "blocks")


def prompt_index(n_frames: int, n_prompts: int, tiling: str = "tile") -> jax.Array:
    """Which prompt each frame is compared with."""
    if n_prompts < 1 or n_frames % n_prompts:
        raise ValueError(
            f"the number of frames ({n_frames}) must be a multiple of the number of prompts ({n_prompts})"
        )
    t = jnp.arange(n_frames)
    if tiling == "tile":
        return t % n_prompts
    if tiling == "blocks":
        return (t * n_prompts) // n_frames
    raise ValueError(f"unknown prompt tiling {tiling!r} (choose from {', '.join(TILINGS)})")


def _kernel(z_frames: jax.Array, z_prompts: jax.Array, tiling: str) -> jax.Array:
    zp = z_prompts[prompt_index(z_frames.shape[-2], z_prompts.shape[0], tiling)]
    return jnp.einsum("id,...jd->...ij", zp, z_frames)


def target_score(z_frames: jax.Array, z_prompts: jax.Array, tiling: str = "tile") -> jax.Array:
    """-mean_t <prompt(t), z_t> -> f32[...]."""
    return -jnp.mean(jnp.diagonal(_kernel(z_frames, z_prompts, tiling), axis1=-2, axis2=-1), -1)


def target_softmax_score(
    z_frames: jax.Array,
    z_prompts: jax.Array,
    temperature: float = TEMPERATURE_SOFTMAX,
    tiling: str = "tile",
) -> jax.Array:
    """Two-way cross-entropy of the diagonal of the prompt/frame kernel -> f32[...]."""
    logits = _kernel(z_frames, z_prompts, tiling) / temperature
    # log of the softmax, not log_softmax: the paper's code underflows to inf
    # where a frame is hopeless, and that value is part of its behaviour.
    by_row = jnp.log(jnp.diagonal(jax.nn.softmax(logits, -1), axis1=-2, axis2=-1))
    by_col = jnp.log(jnp.diagonal(jax.nn.softmax(logits, -2), axis1=-2, axis2=-1))
    return -(jnp.mean(by_row, -1) + jnp.mean(by_col, -1)) / 2.0


def open_endedness_score(z_frames: jax.Array) -> jax.Array:
    """z_frames f32[..., T, D] -> f32[...]; lower is more open-ended."""
    sim = jnp.einsum("...td,...sd->...ts", z_frames, z_frames)
    return jnp.mean(jnp.max(jnp.tril(sim, k=-1), -1), -1)


def illumination_score(z: jax.Array) -> jax.Array:
    """z f32[N, D] (N >= 2) -> scalar; lower means a more diverse set."""
    return jnp.mean(nearest_similarity(z))


def nearest_similarity(z: jax.Array) -> jax.Array:
    """Per-member max similarity to any other member, f32[N]."""
    sim = z @ z.T
    return jnp.max(jnp.where(jnp.eye(z.shape[0], dtype=bool), -jnp.inf, sim), -1)


def asal_loss(
    z_frames: jax.Array,
    z_prompts: jax.Array | None,
    coef_prompt: float = 1.0,
    coef_softmax: float = 0.0,
    coef_oe: float = 0.0,
    tiling: str = "tile",
) -> dict[str, jax.Array]:
    """The paper's combined loss for one rollout (or a batch of them).

    ``loss = coef_prompt * target + coef_softmax * softmax + coef_oe * open-endedness``;
    without prompts (pure open-endedness) the two prompt terms are zero.
    """
    oe = open_endedness_score(z_frames)
    if z_prompts is None:
        prompt = softmax = jnp.zeros_like(oe)
    else:
        prompt = target_score(z_frames, z_prompts, tiling)
        softmax = target_softmax_score(z_frames, z_prompts, tiling=tiling)
    loss = prompt * coef_prompt + softmax * coef_softmax + oe * coef_oe
    return {"loss": loss, "loss_prompt": prompt, "loss_softmax": softmax, "loss_oe": oe}

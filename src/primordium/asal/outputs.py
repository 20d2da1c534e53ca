"""What an ASAL run leaves behind: the best-params document, result.npz, the score
curve, the illumination poster and videos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from primordium.store.atomic import atomic_write_bytes


def result_npz(result: dict, history: list[dict]) -> bytes:
    """The run's numbers as an ``.npz`` any numpy reads (no pickle): best params
    and score, the illumination archive when there is one, and one array per
    history column."""
    import io

    arrays = {
        "best_params": np.asarray(result["best_flat"], np.float32),
        "best_score": np.asarray(result["best_score"], np.float64),
    }
    if "archive" in result:
        arrays["archive_params"] = np.asarray(result["archive"], np.float32)
        arrays["archive_z"] = np.asarray(result["archive_z"], np.float32)
    for col in history[0] if history else {}:
        arrays[f"history_{col}"] = np.asarray([h.get(col, np.nan) for h in history])
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def score_plot(history: list[dict], path: Path, label: str) -> Path:
    """Score per generation (best so far and generation mean when known)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gens = [h["gen"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if history and "best_score" in history[0]:
        ax.plot(gens, [h["best_score"] for h in history], label="best so far")
        ax.plot(gens, [h["gen_mean"] for h in history], label="generation mean", alpha=0.6)
        ax.legend()
    else:
        ax.plot(gens, [h.get("score", np.nan) for h in history])
    ax.set_xlabel("generation")
    ax.set_ylabel(f"{label} (lower is better)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def layout_positions(z: np.ndarray, grid: int) -> np.ndarray:
    """Distinct cells of a grid x grid board for each embedding, by 2D PCA.

    Each item goes to the free cell nearest its projected position, so
    similar simulations sit together without overlapping.
    """
    z = np.asarray(z, np.float64)
    centred = z - z.mean(0)
    if len(z) > 1 and np.abs(centred).max() > 0:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        proj = centred @ vt[:2].T
        if proj.shape[1] < 2:
            proj = np.pad(proj, ((0, 0), (0, 2 - proj.shape[1])))
    else:
        proj = np.zeros((len(z), 2))
    lo, hi = proj.min(0), proj.max(0)
    u = (proj - lo) / np.where(hi > lo, hi - lo, 1.0) * (grid - 1)
    free = {(r, c) for r in range(grid) for c in range(grid)}
    out = np.zeros((len(z), 2), np.int64)
    for i in np.argsort(np.linalg.norm(u - (grid - 1) / 2, axis=1)):
        cell = min(free, key=lambda rc: (rc[0] - u[i, 1]) ** 2 + (rc[1] - u[i, 0]) ** 2)
        free.remove(cell)
        out[i] = cell
    return out


def poster(frames: np.ndarray, z: np.ndarray, path: Path, thumb: int = 96) -> Path:
    """Final frames uint8[N, H, W, 3] laid out by a 2D projection of their embeddings."""
    from PIL import Image

    from primordium.viz import save_png

    n = len(frames)
    grid = int(np.ceil(np.sqrt(n * 1.5)))
    pos = layout_positions(z, grid)
    gap = 4
    board = np.full((grid * (thumb + gap) + gap, grid * (thumb + gap) + gap, 3), 24, np.uint8)
    for f, (r, c) in zip(frames, pos, strict=False):
        im = np.asarray(Image.fromarray(f).resize((thumb, thumb), Image.NEAREST))
        y, x = gap + r * (thumb + gap), gap + c * (thumb + gap)
        board[y : y + thumb, x : x + thumb] = im
    return save_png(board, path)


def params_document(
    substrate, flat: np.ndarray, unravel, score: float | None = None
) -> dict[str, Any]:
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


def write_video(frames: np.ndarray, path: Path, fps: float = 15.0) -> Path:
    import warnings

    from primordium.viz import save_video

    with warnings.catch_warnings():
        # ffmpeg runs as a subprocess (posix_spawn); JAX's fork warning does not apply.
        warnings.simplefilter("ignore", RuntimeWarning)
        return save_video(frames, path, fps=fps)


def video_frames(
    substrate, params, steps: int, seed: int, size: int, n_frames: int | None = None
) -> np.ndarray:
    from primordium.asal.substrates import rollout, to_uint8

    n = n_frames or min(steps, 96)
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 1_000_003)
    frames, _ = rollout(substrate, key, params, steps, n, max(size, 128))
    return to_uint8(frames)

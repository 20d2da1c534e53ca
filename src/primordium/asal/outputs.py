"""What an ASAL run leaves behind: the best-params document, result.npz, the score
curve, the illumination poster and videos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


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
    """scores.png (+ .pdf, .svg): score per generation, best so far and generation mean when known."""
    from primordium.viz import charts, save

    gens = [h["gen"] for h in history]
    if history and "best_score" in history[0]:
        series = [
            ("best so far", gens, [h["best_score"] for h in history]),
            ("generation mean", gens, [h["gen_mean"] for h in history]),
        ]
    else:
        series = [(label, gens, [h.get("score", np.nan) for h in history])]
    fig = charts.line_figure(
        series,
        xlabel="generation",
        ylabel=f"{label}\n(lower is better)",
        integer_x=True,
        markers=len(gens) < 12,
    )
    return save(fig, path)


LIVE_PICTURE = "best_so_far.png"


def live_picture(ctx, run, gen: int, size: int = 128) -> Path:
    """best_so_far.png from the run's last checkpoint, stamped with the generation.

    A CMA-ES search shows its best member at four moments of its rollout; an
    illumination run nine members of its archive at the end of theirs.
    """
    from primordium.asal.context import CHECKPOINT
    from primordium.asal.substrates import rollout, to_uint8
    from primordium.store import load_checkpoint
    from primordium.viz import save_png
    from primordium.viz.media import stamp

    cfg, ev = ctx.cfg, ctx.evaluator
    arrays, _ = load_checkpoint(run.dir / CHECKPOINT)
    key = jax.random.fold_in(jax.random.PRNGKey(cfg.seed), 1_000_003)
    size = max(cfg.size, size)
    if "es_best_member" in arrays:
        frames, _ = rollout(
            ev.substrate,
            key,
            ev.unravel(jnp.asarray(arrays["es_best_member"])),
            cfg.steps,
            min(4, cfg.steps),
            size,
        )
        tiles, cols = to_uint8(frames), min(4, cfg.steps)
        text = f"generation {gen}: best so far, score {float(arrays['es_best_fitness']):.4g}"
    else:
        if "archive" in arrays:
            flats = arrays["archive"]
        else:  # MAP-Elites: the filled cells
            flats = arrays["me_params"][np.isfinite(arrays["me_score"])]
        flats = np.asarray(flats[:9], np.float32)
        frames, _ = rollout(
            ev.substrate, key, ev.unravel_batch(flats), cfg.steps, size=size, batched=True,
            time_sampling="final",
        )  # fmt: skip
        tiles, cols = to_uint8(frames)[:, -1], 3
        text = f"generation {gen}: {len(flats)} of the archive"
    return save_png(
        stamp(_tile(tiles, cols), text, short=f"generation {gen}"), run.artifact(LIVE_PICTURE)
    )


def _tile(images: np.ndarray, cols: int, gap: int = 2) -> np.ndarray:
    """uint8[N, H, W, 3] in rows of ``cols`` with a dark gap between them."""
    n, h, w, _ = images.shape
    rows = -(-n // cols)
    board = np.full((rows * (h + gap) - gap, min(n, cols) * (w + gap) - gap, 3), 24, np.uint8)
    for k, im in enumerate(images):
        y, x = (k // cols) * (h + gap), (k % cols) * (w + gap)
        board[y : y + h, x : x + w] = im
    return board


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


# best.gif's side at least: a search's own renders (64 pixels for the pixels model) are too small to watch.
VIDEO_SIZE = 256


def video_frames(
    substrate, params, steps: int, seed: int, size: int, n_frames: int | None = None
) -> np.ndarray:
    from primordium.asal.substrates import rollout, to_uint8

    n = n_frames or min(steps, 96)
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 1_000_003)
    frames, _ = rollout(substrate, key, params, steps, n, max(size, 128))
    return to_uint8(frames)

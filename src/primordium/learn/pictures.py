"""LifeGPT's rollout picture: the model's grid, the true grid and the cells it got wrong."""

from __future__ import annotations

import numpy as np

_ALIVE = np.array([240, 240, 240], np.uint8)
_DEAD = np.array([20, 20, 30], np.uint8)
_WRONG = np.array([220, 40, 40], np.uint8)
_GAP = np.array([90, 90, 110], np.uint8)


def rollout_frames(model: np.ndarray, truth: np.ndarray, target: int = 192) -> np.ndarray:
    """uint8 frames [T, h + caption, 3w + 2 gaps, 3] from grids [T, H, W] of 0/1 cells."""
    t, h, w = model.shape
    scale = max(1, target // max(h, w))

    def paint(cells: np.ndarray, colour: np.ndarray) -> np.ndarray:
        rgb = np.where(cells[..., None] == 1, colour, _DEAD)
        return rgb.repeat(scale, axis=1).repeat(scale, axis=2)

    from primordium.viz.media import stamp

    gap = np.broadcast_to(_GAP, (t, h * scale, max(2, scale // 2), 3))
    panels = [paint(model, _ALIVE), gap, paint(truth, _ALIVE), gap, paint(model != truth, _WRONG)]
    frames = np.ascontiguousarray(np.concatenate(panels, axis=2))
    # Each frame says which step it is and which panel is which (the toolkit's font).
    wrong = (model != truth).reshape(t, -1).sum(axis=1)
    return np.stack(
        [
            stamp(f, f"step {k}  ·  model | truth | {wrong[k]} wrong", short=f"step {k}")
            for k, f in enumerate(frames)
        ]
    )

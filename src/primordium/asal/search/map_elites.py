"""MAP-Elites over a 2D map of embedding space.

The descriptor of a simulation is its final-frame embedding projected on
the two principal axes of the first batch (fixed thereafter), binned on a
``bins`` x ``bins`` grid spanning that batch's range (with a margin).
Each cell keeps the best (lowest-score) simulation that landed in it.
"""

from __future__ import annotations

import numpy as np


class MapElites:
    def __init__(self, bins: int = 16, margin: float = 0.5):
        self.bins, self.margin = bins, margin
        self.axes = self.lo = self.hi = None
        self.score = np.full((bins, bins), np.inf, np.float32)
        self.params: np.ndarray | None = None
        self.z: np.ndarray | None = None

    def fit_axes(self, z: np.ndarray) -> None:
        centred = z - z.mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        self.mean = z.mean(0)
        self.axes = vt[:2].T
        proj = centred @ self.axes
        span = np.maximum(proj.max(0) - proj.min(0), 1e-6)
        self.lo = proj.min(0) - self.margin * span
        self.hi = proj.max(0) + self.margin * span

    def cells(self, z: np.ndarray) -> np.ndarray:
        proj = (z - self.mean) @ self.axes
        u = (proj - self.lo) / (self.hi - self.lo)
        return np.clip((u * self.bins).astype(np.int64), 0, self.bins - 1)

    def insert(self, params: np.ndarray, z: np.ndarray, scores: np.ndarray) -> int:
        """Add a batch; returns how many cells improved."""
        if self.axes is None:
            self.fit_axes(z)
        if self.params is None:
            self.params = np.zeros((self.bins, self.bins, params.shape[1]), np.float32)
            self.z = np.zeros((self.bins, self.bins, z.shape[1]), np.float32)
        improved = 0
        for p, zz, s, (i, j) in zip(params, z, scores, self.cells(z), strict=False):
            if s < self.score[i, j]:
                self.score[i, j], self.params[i, j], self.z[i, j] = s, p, zz
                improved += 1
        return improved

    def filled(self) -> np.ndarray:
        return np.argwhere(np.isfinite(self.score))

    def sample_parents(self, rng: np.random.Generator, n: int) -> np.ndarray:
        cells = self.filled()
        pick = cells[rng.integers(0, len(cells), n)]
        return self.params[pick[:, 0], pick[:, 1]]

    def state(self) -> dict[str, np.ndarray]:
        return {
            "me_score": self.score,
            "me_params": self.params,
            "me_z": self.z,
            "me_axes": self.axes,
            "me_mean": self.mean,
            "me_lo": self.lo,
            "me_hi": self.hi,
        }

    def load(self, a: dict[str, np.ndarray]) -> None:
        self.score, self.params, self.z = a["me_score"], a["me_params"], a["me_z"]
        self.axes, self.mean, self.lo, self.hi = a["me_axes"], a["me_mean"], a["me_lo"], a["me_hi"]

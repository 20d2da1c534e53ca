"""MAP-Elites archive of one DRQ round: the fittest warrior per behaviour cell."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from primordium.redqueen.descriptors import get as get_descriptor


@dataclass
class Elite:
    """An evaluated, placed candidate (enough to rebuild it: its source)."""

    id: int
    fitness: float
    cell: tuple[int, int]
    descriptors: dict[str, float]
    source: str = field(repr=False)  # long: the repr shows the name instead
    name: str = ""
    operator: str = ""
    parents: list[int] = field(default_factory=list)
    # The LLM reply it came from, when one did (the mutate prompt can show it).
    reply: str | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["cell"] = list(self.cell)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Elite:
        d = dict(d)
        d["cell"] = tuple(d["cell"])
        return cls(**d)


class Archive:
    """Cells keyed by (bin of descriptor 1, bin of descriptor 2)."""

    def __init__(self, descriptors: tuple[str, str]):
        self.descriptors = tuple(descriptors)
        self.cells: dict[tuple[int, int], Elite] = {}

    def __repr__(self) -> str:
        best = self.best()
        top = f"; best #{best.id} {best.name!r} fitness {best.fitness:.4g}" if best else ""
        return f"Archive({len(self)} elites over {' x '.join(self.descriptors)}{top})"

    def __len__(self) -> int:
        return len(self.cells)

    def cell_of(self, descriptors: dict[str, float]) -> tuple[int, int]:
        a, b = (get_descriptor(n) for n in self.descriptors)
        return a.bin(descriptors[a.name]), b.bin(descriptors[b.name])

    def place(self, elite: Elite) -> bool:
        """Keep ``elite`` if its cell is empty or it is strictly fitter than the incumbent."""
        old = self.cells.get(elite.cell)
        if old is None or elite.fitness > old.fitness:
            self.cells[elite.cell] = elite
            return True
        return False

    def best(self) -> Elite | None:
        """The fittest elite; among equals, the earliest evaluated (lowest id)."""
        if not self.cells:
            return None
        return min(self.cells.values(), key=lambda e: (-e.fitness, e.id))

    def best_fitness(self) -> float:
        b = self.best()
        return b.fitness if b is not None else float("-inf")

    def keys(self) -> list[tuple[int, int]]:
        """Cells in a fixed order, so that a uniform draw by index is reproducible."""
        return sorted(self.cells)

    def sample(self, rng: np.random.Generator) -> Elite:
        keys = self.keys()
        return self.cells[keys[int(rng.integers(len(keys)))]]

    def shape(self) -> tuple[int, int]:
        a, b = (get_descriptor(n) for n in self.descriptors)
        return a.n_bins, b.n_bins

    def grid(self) -> np.ndarray:
        """Fitness per cell, NaN where empty: float[bins of descriptor 1, bins of descriptor 2]."""
        g = np.full(self.shape(), np.nan)
        for (i, j), e in self.cells.items():
            g[i, j] = e.fitness
        return g

    def to_json(self) -> dict[str, Any]:
        return {
            "descriptors": list(self.descriptors),
            "elites": [self.cells[k].to_json() for k in self.keys()],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Archive:
        a = cls(tuple(d["descriptors"]))
        for e in d["elites"]:
            el = Elite.from_json(e)
            a.cells[el.cell] = el
        return a

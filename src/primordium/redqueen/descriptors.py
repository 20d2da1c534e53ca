"""Behaviour descriptors: what a warrior did (or is), and the MAP-Elites bins.

Bins follow the public DRQ code: a value falls in bin ``k`` when it is at
least the k-th edge and below the next, so edges ``[1, 10, 100]`` make four
bins ``<1, 1-9, 10-99, >=100``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from primordium.corewar.isa import Warrior


@dataclass(frozen=True)
class Descriptor:
    name: str
    label: str
    edges: tuple[float, ...]
    value: Callable[[np.ndarray, np.ndarray, Warrior], float]  # (spawned[R], coverage[R], warrior)

    @property
    def n_bins(self) -> int:
        return len(self.edges) + 1

    def bin(self, v: float) -> int:
        return int(np.searchsorted(np.asarray(self.edges, float), v, side="right"))


DESCRIPTORS: dict[str, Descriptor] = {
    # Processes SPL added, as the public code counts them (its bin edge at 1
    # separates warriors that never split); fitness.melee gives that count.
    "spawned": Descriptor(
        "spawned",
        "processes spawned",
        (1, 10, 100, 1000, 10000),
        lambda sp, cv, w: float(np.mean(sp)),
    ),
    "coverage": Descriptor(
        "coverage",
        "memory coverage (cells)",
        (10, 100, 500, 1000, 4000),
        lambda sp, cv, w: float(np.mean(cv)),
    ),
    "opcodes": Descriptor(
        "opcodes",
        "distinct opcodes",
        (4, 6, 8, 10, 14),
        lambda sp, cv, w: float(len(np.unique(np.asarray(w.code)[:, 0]))),
    ),
    "length": Descriptor(
        "length", "program length", (5, 12, 20, 35, 60), lambda sp, cv, w: float(w.length)
    ),
}


def get(name: str) -> Descriptor:
    from primordium.errors import ConfigError

    if name not in DESCRIPTORS:
        raise ConfigError(f"unknown descriptor {name!r} (known: {', '.join(DESCRIPTORS)})")
    return DESCRIPTORS[name]


def describe(spawned: np.ndarray, coverage: np.ndarray, warrior: Warrior) -> dict[str, float]:
    """Every descriptor's raw value for one warrior (round means over its R rounds)."""
    return {name: d.value(spawned, coverage, warrior) for name, d in DESCRIPTORS.items()}

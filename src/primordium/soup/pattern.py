"""Interaction patterns in cubff's format: one ``a b`` per line, program a may pair with b (a first).

A program's partners keep the file's order and repeats (a repeated line makes
that partner likelier). Held as CSR arrays for the pairing kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from primordium.errors import ConfigError, read_text_file


@dataclass(frozen=True)
class Interactions:
    offsets: np.ndarray  # int64[n + 1]: partners of a are targets[offsets[a]:offsets[a + 1]]
    targets: np.ndarray  # int64[m]

    @property
    def edges(self) -> np.ndarray:
        """The (a, b) lines, grouped by a, as int64[m, 2]."""
        a = np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))
        return np.stack([a, self.targets], axis=1)

    @classmethod
    def from_edges(cls, edges: np.ndarray, programs: int) -> Interactions:
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        order = np.argsort(edges[:, 0], kind="stable")
        counts = np.bincount(edges[:, 0], minlength=programs)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(offsets, np.ascontiguousarray(edges[order, 1]))


def read_interactions(path: str | Path, programs: int) -> Interactions:
    """Parse a pattern file for a soup of ``programs``; bad lines are errors naming file:line.

    Blank lines are skipped. A line must hold two integers in [0, programs),
    and they must differ (cubff would pair a program with itself and overrun).
    """
    edges = []
    for number, line in enumerate(read_text_file(path).splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) != 2:
                raise ValueError
            a, b = int(fields[0]), int(fields[1])
        except ValueError:
            raise ConfigError(
                f"expected two program numbers 'a b', got {line.strip()[:40]!r}",
                file=path,
                line=number,
            ) from None
        for x in (a, b):
            if not 0 <= x < programs:
                raise ConfigError(
                    f"program {x} is outside the soup (0..{programs - 1})", file=path, line=number
                )
        if a == b:
            raise ConfigError(f"program {a} cannot interact with itself", file=path, line=number)
        edges.append((a, b))
    return Interactions.from_edges(np.array(edges, dtype=np.int64).reshape(-1, 2), programs)

"""Where a soup's epochs run: ``cpu`` (numba on the host) or ``gpu`` (CUDA, soup/gpu.py).

Both hold the soup behind one small interface, so a run loop does not care:
``epoch(index, interactions)`` -> tapes run, ``ops_through(index)`` the ops
run by epochs up to ``index`` since the soup was held (a GPU keeps them on the
device and syncs only when they are read, so a loop reads them at its metric
rows, not every epoch), ``host()`` the soup as a numpy array (a GPU copies it
back only then), ``replace(soup)`` for resets, and ``frozen()`` a handle on
this epoch's soup that later epochs leave alone. The bytes are the same on
both (see soup/gpu.py).
"""

from __future__ import annotations

import numpy as np

# OPS_MARKS: how many epochs back ``ops_through`` answers (a loop reads the
# count of its last whole epoch while the next one may already be under way).
from primordium.soup.gpu import DEVICES, OPS_MARKS, resolve_device
from primordium.soup.soup import SoupConfig, epoch

__all__ = ["DEVICES", "OPS_MARKS", "CpuSoup", "hold"]


class CpuSoup:
    device = "cpu"

    def __init__(self, soup: np.ndarray, config: SoupConfig):
        self.config = config
        self._soup = soup
        self._ops = 0
        self._marks: dict[int, int] = {}

    def epoch(self, index: int, interactions=None) -> int:
        self._soup, ops, tapes = epoch(self._soup, self.config, index, interactions)
        self._ops += ops
        self._marks[index] = self._ops
        self._marks.pop(index - OPS_MARKS, None)
        return tapes

    def ops_through(self, index: int) -> int:
        if index not in self._marks:
            raise ValueError(f"the ops of epoch {index} are not kept (the last {OPS_MARKS} are)")
        return self._marks[index]

    def host(self) -> np.ndarray:
        return self._soup

    def replace(self, soup: np.ndarray) -> None:
        self._soup = soup

    def frozen(self):
        soup = self._soup  # epochs return new arrays; this one is never written again
        return lambda: soup


def hold(soup: np.ndarray, config: SoupConfig, device: str = "cpu"):
    """The soup on ``device`` (cpu, gpu or auto); a GPU asked for that is not there is an error."""
    if resolve_device(device) == "gpu":
        from primordium.soup.gpu import GpuSoup

        return GpuSoup(soup, config)
    return CpuSoup(soup, config)

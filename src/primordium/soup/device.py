"""Where a soup's epochs run: ``cpu`` (numba on the host) or ``gpu`` (CUDA, soup/gpu.py).

Both hold the soup behind one small interface, so a run loop does not care:
``epoch(index, interactions)`` -> (ops, tapes), ``host()`` the soup as a
numpy array (a GPU copies it back only then), ``replace(soup)`` for resets,
and ``frozen()`` a handle on this epoch's soup that later epochs leave alone.
The bytes are the same on both (see soup/gpu.py).
"""

from __future__ import annotations

import numpy as np

from primordium.soup.gpu import DEVICES, resolve_device
from primordium.soup.soup import SoupConfig, epoch

__all__ = ["DEVICES", "CpuSoup", "hold"]


class CpuSoup:
    device = "cpu"

    def __init__(self, soup: np.ndarray, config: SoupConfig):
        self.config = config
        self._soup = soup

    def epoch(self, index: int, interactions=None) -> tuple[int, int]:
        self._soup, ops, tapes = epoch(self._soup, self.config, index, interactions)
        return ops, tapes

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

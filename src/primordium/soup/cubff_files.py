"""cubff's soup checkpoint (``.dat``): three native size_t (reset index, programs, epoch), then the soup bytes.

The epoch is the number of epochs already run; the reset index the next
reset's stream. A file is read whole and checked before any of it is used,
so a soup never starts from a half-read checkpoint.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from primordium.errors import StoreError, read_user_bytes
from primordium.store.atomic import atomic_write_bytes

_HEADER = struct.Struct("<QQQ")


def write_dat(path: str | Path, soup: np.ndarray, epoch: int, reset_index: int = 1) -> None:
    soup = np.ascontiguousarray(soup, dtype=np.uint8)
    atomic_write_bytes(path, _HEADER.pack(reset_index, soup.shape[0], epoch) + soup.tobytes())


def read_dat(path: str | Path, length: int = 64) -> tuple[np.ndarray, int, int]:
    """(soup uint8[n, length], epoch, reset index); cubff's programs are 64 bytes."""
    path = Path(path)
    data = read_user_bytes(path, "checkpoint", StoreError)
    if len(data) < _HEADER.size:
        raise StoreError(
            f"truncated checkpoint ({len(data)} bytes, the header alone is {_HEADER.size})",
            file=path,
        )
    reset_index, programs, epoch = _HEADER.unpack_from(data)
    body = len(data) - _HEADER.size
    if programs < 2 or programs % 2 or programs > body:
        raise StoreError(
            f"corrupt checkpoint (it says {programs} programs in {body} bytes)", file=path
        )
    if body != programs * length:
        raise StoreError(
            f"truncated or foreign checkpoint ({body} soup bytes, expected {programs} programs "
            f"x {length} bytes)",
            file=path,
        )
    if epoch >= 1 << 48 or reset_index >= 1 << 48:
        raise StoreError(
            f"corrupt checkpoint (epoch {epoch}, reset index {reset_index})", file=path
        )
    soup = np.frombuffer(data, dtype=np.uint8, offset=_HEADER.size).reshape(programs, length).copy()
    return soup, int(epoch), int(reset_index)

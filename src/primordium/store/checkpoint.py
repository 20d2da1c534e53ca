"""Checkpoints: named numpy arrays plus a JSON state, in one atomically written file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from primordium.errors import StoreError
from primordium.store.atomic import atomic_write_bytes

_STATE_KEY = "__state_json__"


def save_checkpoint(path: str | Path, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
    """Write arrays and a JSON-able state dict to ``path`` (an .npz), atomically."""
    if _STATE_KEY in arrays:
        raise ValueError(f"array name {_STATE_KEY!r} is reserved")
    buf = io.BytesIO()
    payload: dict[str, Any] = dict(arrays)
    payload[_STATE_KEY] = np.frombuffer(json.dumps(state, sort_keys=True).encode(), dtype=np.uint8)
    np.savez_compressed(buf, **payload)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint; a missing or damaged file is a StoreError naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise StoreError("checkpoint not found", file=path) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise StoreError(f"corrupt checkpoint ({type(e).__name__})", file=path) from None
    raw = arrays.pop(_STATE_KEY, None)
    if raw is None:
        raise StoreError("corrupt checkpoint (no state)", file=path)
    try:
        state = json.loads(bytes(raw).decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StoreError("corrupt checkpoint (bad state)", file=path) from None
    return arrays, state

"""The run store: a SQLite index beside one folder per run."""

from primordium.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from primordium.store.checkpoint import load_checkpoint, save_checkpoint
from primordium.store.runs import Run, Store

__all__ = [
    "Run",
    "Store",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "load_checkpoint",
    "save_checkpoint",
]

"""Picklable task functions for executor tests (workers import this module)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def square(x: int) -> int:
    return x * x


def die_once(arg: tuple[int, str]) -> int:
    """Kills its own worker process the first time it runs for an item."""
    x, marker_dir = arg
    marker = Path(marker_dir) / f"attempt-{x}"
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return x + 100


def slow_square(arg: tuple[int, float]) -> int:
    x, seconds = arg
    time.sleep(seconds)
    return x * x


def boom(x: int) -> int:
    raise ValueError(f"task {x} failed")

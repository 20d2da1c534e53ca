"""The one font of every picture: DejaVu Sans, which ships inside matplotlib.

Charts (matplotlib) and text stamped on frames (Pillow: replay strips, soup
epochs) both use it, so a warrior named "Avançado" reads the same everywhere.
Pillow's built-in font lacks most non-ASCII glyphs; DejaVu covers Latin,
Greek, Cyrillic and many symbols.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

FAMILY = "DejaVu Sans"


@cache
def font_path(bold: bool = False) -> Path:
    """DejaVu Sans's file in matplotlib's data folder, found without importing matplotlib.

    (Core War's command line draws replay strips but must start fast; importing
    matplotlib costs a few hundred milliseconds.)
    """
    spec = importlib.util.find_spec("matplotlib")
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / name
        if path.is_file():
            return path
    raise RuntimeError(f"{name} not found: matplotlib (a dependency of primordium) is missing")


@cache
def load_font(size: int = 12, bold: bool = False) -> Any:
    """Pillow's handle on DejaVu Sans at ``size`` pixels."""
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(bold)), size)

"""The one font every chart and replay strip draws with."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def load_font(size: int = 12) -> Any:
    """Pillow's built-in font at ``size`` pixels (no font file to ship or find)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed-size bitmap font
        return ImageFont.load_default()

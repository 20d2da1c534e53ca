"""Colours shared by the charts: one series palette, ink, grid and background."""

from __future__ import annotations

Colour = tuple[int, int, int]

BACKGROUND: Colour = (255, 255, 255)
INK: Colour = (30, 30, 30)
GRID: Colour = (225, 225, 225)

# Matplotlib's ten "tab10" colours: distinct series that readers already know.
SERIES: tuple[Colour, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)


def series(k: int) -> Colour:
    """The colour of series ``k`` (the palette repeats past ten)."""
    return SERIES[k % len(SERIES)]

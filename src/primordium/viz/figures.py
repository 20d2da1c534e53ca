"""Figures for a two-column paper: the house style, the sizes, and saving PNG + PDF + SVG.

matplotlib is imported inside the functions: Core War's command line must
start without it. Figures are made with ``matplotlib.figure.Figure`` directly
(the Agg canvas, no pyplot), so nothing is kept in a global figure registry
and nothing needs closing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from primordium.store.atomic import atomic_write_bytes
from primordium.viz.fonts import FAMILY

# Widths in inches of a figure in one column and across both columns of a
# two-column paper (ACM, IEEE, ALIFE proceedings are all close to these).
SINGLE = 3.5
DOUBLE = 7.2
# Raster resolution: a single-column figure is 700 pixels wide.
DPI = 200
FORMATS = ("png", "pdf", "svg")

STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FAMILY],
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "image.cmap": "viridis",
    # Text stays text in the vector files: searchable, editable, and the SVG
    # can be checked for a name; the PDF embeds the font (Type 42, not Type 3).
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "axes.unicode_minus": True,
}


@contextmanager
def style() -> Iterator[None]:
    """The house style for the figures made (and saved) inside the block; the caller's rcParams are left alone."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def width_of(width: str | float) -> float:
    if width == "single":
        return SINGLE
    if width == "double":
        return DOUBLE
    return float(width)


def figure(
    width: str | float = "single",
    height: float | None = None,
    nrows: int = 1,
    ncols: int = 1,
    **subplots: Any,
) -> tuple[Any, Any]:
    """(fig, axes) in the house style: ``width`` is "single", "double" or inches.

    Call inside ``style()`` so the axes take the style (the chart functions do).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w = width_of(width)
    h = height if height is not None else w * 0.62 * nrows / max(ncols, 1) ** 0.5
    fig = Figure(figsize=(w, h), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas, whatever backend the user's matplotlib is set to
    axes = fig.subplots(nrows, ncols, squeeze=True, **subplots)
    return fig, axes


def render(fig: Any, fmt: str = "png") -> bytes:
    """The figure's bytes in ``fmt`` (png, pdf, svg)."""
    buf = io.BytesIO()
    with style():
        # No timestamps in the files: same data, same bytes.
        metadata = {"png": {"Software": None}, "pdf": {"CreationDate": None}, "svg": {"Date": None}}
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata.get(fmt), facecolor="white")
    return buf.getvalue()


def save(fig: Any, path: str | Path, formats: tuple[str, ...] = FORMATS) -> Path:
    """Write ``fig`` as PNG, plus PDF and SVG beside it (same name), each atomically.

    Returns the PNG's path (``path`` with suffix .png). The figure's layout is
    fixed by the first save.
    """
    p = Path(path)
    if p.suffix.lower().lstrip(".") in FORMATS:
        p = p.with_name(p.stem)

    def named(fmt: str) -> Path:
        return p.with_name(f"{p.name}.{fmt}")  # not with_suffix: "v1.2" keeps its dot

    # Lay the figure out once, then keep that layout for every format: the
    # constrained-layout solver is most of a save's time.
    with style():
        fig.canvas.draw()
    fig.set_layout_engine("none")
    for fmt in formats:
        atomic_write_bytes(named(fmt), render(fig, fmt))
    return named("png")


def to_array(fig: Any) -> Any:
    """uint8[H, W, 3]: the figure as the PNG shows it (for frames and tests)."""
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(render(fig, "png"))) as im:
        return np.asarray(im.convert("RGB"))

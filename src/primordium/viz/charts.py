"""Chart pieces in the house style: lines, heat maps with colour bars, scatters, markers.

Each function draws on an axes it is given (so engines compose panels) and
labels what it draws; ``line_figure`` and ``heatmap_figure`` make a whole
one-panel figure. Call them inside ``figures.style()`` (the figure functions
of the engines do) so text takes the house font.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from primordium.viz.figures import figure, style

# (label, xs, ys); a NaN in ys breaks the line.
Series = tuple[str, Sequence[float], Sequence[float]]
# Legends longer than this become a colour bar (a line per round of a long run).
MAX_LEGEND = 10
EMPTY = "#ebebeb"  # cells of a heat map with no value


def _integer_axis(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def lines(
    ax: Any,
    series: Sequence[Series],
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    markers: bool = False,
    log_y: bool = False,
    integer_x: bool = False,
    legend: bool = True,
    legend_title: str | None = None,
    bands: Sequence[tuple[Sequence[float], Sequence[float], Sequence[float]]] = (),
) -> None:
    """Lines (label, xs, ys) with labelled axes. ``bands``: (xs, lo, hi) shaded, in series order.

    With ``log_y`` the y label says so. More than ``MAX_LEGEND`` series are
    coloured along viridis with a colour bar (titled ``legend_title``) in
    place of a legend.
    """
    import matplotlib as mpl

    many = len(series) > MAX_LEGEND
    cmap = mpl.colormaps["viridis"]
    colours = (
        [cmap(k / max(len(series) - 1, 1)) for k in range(len(series))]
        if many
        else [f"C{k % 10}" for k in range(len(series))]
    )
    for k, (xs, lo, hi) in enumerate(bands):
        ax.fill_between(
            np.asarray(xs, float), np.asarray(lo, float), np.asarray(hi, float),
            color=colours[k % len(colours)] if colours else "C0", alpha=0.2, linewidth=0,
        )  # fmt: skip
    for (label, xs, ys), colour in zip(series, colours, strict=True):
        y = np.asarray(ys, float)
        ax.plot(
            np.asarray(xs, float), y, color=colour, label=label,
            marker="o" if markers or np.isfinite(y).sum() == 1 else None,
        )  # fmt: skip
    if log_y:
        ax.set_yscale("log")
        ylabel = f"{ylabel} (log scale)"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if integer_x:
        _integer_axis(ax.xaxis)
    if many:
        sm = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(1, len(series)), cmap=cmap)
        bar = ax.figure.colorbar(sm, ax=ax, pad=0.02)
        bar.set_label(legend_title or "series")
        _integer_axis(bar.ax.yaxis)
    elif legend and (len(series) > 1 or bands):
        ax.legend(title=legend_title, loc="best")


def heatmap(
    ax: Any,
    grid: np.ndarray,
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "viridis",
    xticklabels: Sequence[str] | None = None,
    yticklabels: Sequence[str] | None = None,
    annotations: Sequence[Sequence[str]] | None = None,
    origin: str = "lower",
) -> Any:
    """A grid as coloured cells (NaN: light grey, "no value"); returns the image for ``colorbar``.

    ``origin="lower"``: row 0 at the bottom, as for a descriptor that grows
    upward; ``"upper"`` for a matrix read like a table.
    """
    import matplotlib as mpl

    g = np.asarray(grid, float)
    colours = mpl.colormaps[cmap].with_extremes(bad=EMPTY)
    im = ax.imshow(
        np.ma.masked_invalid(g), cmap=colours, vmin=vmin, vmax=vmax, origin=origin,
        aspect="auto" if xticklabels is None else "equal", interpolation="nearest",
    )  # fmt: skip
    ax.grid(False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if xticklabels is not None:
        ax.set_xticks(range(len(xticklabels)), list(xticklabels), rotation=45, ha="right")
    else:
        _integer_axis(ax.xaxis)
    if yticklabels is not None:
        ax.set_yticks(range(len(yticklabels)), list(yticklabels))
    else:
        _integer_axis(ax.yaxis)
    if annotations is not None:
        norm = im.norm
        for i, row in enumerate(annotations):
            for j, text in enumerate(row):
                if not text:
                    continue
                v = g[i, j]
                # Light text on the dark ends of the scale.
                dark = np.isfinite(v) and abs(float(norm(v)) - 0.5) > 0.3
                ax.text(j, i, text, ha="center", va="center", fontsize=6,
                        color="white" if dark else "#202020")  # fmt: skip
    return im


def colorbar(ax: Any, mappable: Any, label: str, axes: Any = None) -> Any:
    """A colour bar for ``mappable`` beside ``axes`` (default ``ax``), labelled."""
    bar = ax.figure.colorbar(mappable, ax=axes if axes is not None else ax, pad=0.02)
    bar.set_label(label)
    return bar


def scatter(
    ax: Any,
    x: Sequence[float],
    y: Sequence[float],
    *,
    xlabel: str,
    ylabel: str,
    c: Sequence[float] | None = None,
    clabel: str | None = None,
    title: str | None = None,
) -> Any:
    """Points, coloured by ``c`` with a labelled colour bar when given."""
    pts = ax.scatter(np.asarray(x, float), np.asarray(y, float), c=c, s=8, cmap="viridis")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if c is not None:
        colorbar(ax, pts, clabel or "value")
    return pts


def mark_x(ax: Any, x: float, label: str) -> None:
    """A dashed vertical line at ``x`` that appears in the legend as ``label``."""
    ax.axvline(x, color="#e08a00", linestyle="--", linewidth=1.0, label=label)


def line_figure(
    series: Sequence[Series],
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    width: str | float = "single",
    height: float | None = None,
    **kw: Any,
) -> Any:
    """A one-panel line chart (see ``lines``)."""
    with style():
        fig, ax = figure(width, height)
        lines(ax, series, xlabel=xlabel, ylabel=ylabel, title=title, **kw)
    return fig


def heatmap_figure(
    grid: np.ndarray,
    *,
    xlabel: str,
    ylabel: str,
    clabel: str,
    title: str | None = None,
    width: str | float = "single",
    height: float | None = None,
    **kw: Any,
) -> Any:
    """A one-panel heat map with its labelled colour bar (see ``heatmap``)."""
    with style():
        fig, ax = figure(width, height)
        im = heatmap(ax, grid, xlabel=xlabel, ylabel=ylabel, title=title, **kw)
        colorbar(ax, im, clabel)
    return fig

"""Pictures of a soup: the soup itself (a row per program), its history as a GIF, its curves.

The soup pictures are raw pixels (Pillow, fast enough to write while the
run goes), stamped with their epoch in the toolkit's font; the curves are a
matplotlib figure (PNG, PDF, SVG).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from primordium.soup.languages import get_language
from primordium.viz import save, save_gif, save_png
from primordium.viz.media import stamp

PAD = 4


def soup_image(soup: np.ndarray, lang: str, scale: int = 2, epoch: int | None = None) -> np.ndarray:
    """uint8[H, W, 3]: one row per program, one pixel per byte coloured by its class.

    Rows wrap into side-by-side columns so a large sample stays roughly square.
    With ``epoch`` a strip below says which epoch the sample is from.
    """
    soup = np.asarray(soup, dtype=np.uint8)
    n, length = soup.shape
    cols = max(1, round(math.sqrt(n / (length + PAD))))
    per_col = -(-n // cols)
    width = cols * (length + PAD) - PAD
    img = np.full((per_col, width, 3), 255, dtype=np.uint8)
    rgb = get_language(lang).colors()[soup]
    for c in range(cols):
        block = rgb[c * per_col : (c + 1) * per_col]
        x = c * (length + PAD)
        img[: len(block), x : x + length] = block
    img = np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)
    if epoch is None:
        return img
    return stamp(img, f"epoch {epoch:,}  ·  {n} programs  ·  {lang}", short=f"epoch {epoch:,}")


def grid_image(soup: np.ndarray, grid: tuple[int, int], lang: str) -> np.ndarray:
    """A 2D soup as tiles: each program is a square of its bytes at its grid cell."""
    soup = np.asarray(soup, dtype=np.uint8)
    width, height = grid
    n, length = soup.shape
    side = int(math.isqrt(length))
    tiles = (
        get_language(lang).colors()[soup[:, : side * side]].reshape(height, width, side, side, 3)
    )
    return tiles.transpose(0, 2, 1, 3, 4).reshape(height * side, width * side, 3)


def history_frames(
    snaps: list[tuple[int, np.ndarray]], lang: str, max_frames: int = 120
) -> np.ndarray:
    """The samples as GIF frames, each stamped with its epoch (at most ``max_frames``, the last kept)."""
    stride = max(1, -(-len(snaps) // max_frames))
    chosen = snaps[::stride]
    if snaps and chosen[-1] is not snaps[-1]:
        chosen.append(snaps[-1])
    return np.stack([soup_image(s, lang, epoch=e) for e, s in chosen])


def curves_figure(rows: list[dict], transition_epoch: int | None = None) -> Any:
    """Entropies (bits per byte) and ops per tape (log scale) against epochs, the transition marked."""
    from primordium.viz import charts, figure, style

    rows = [r for r in rows if "h0" in r]
    xs = [r["epoch"] for r in rows]
    later = rows[1:]  # the starting soup ran no ops
    with style():
        fig, (top, bottom) = figure("double", 3.6, 2, 1, sharex=True)
        charts.lines(
            top,
            [
                ("H0 (byte entropy)", xs, [r["h0"] for r in rows]),
                ("brotli", xs, [r["brotli_bpb"] for r in rows]),
                ("high-order entropy", xs, [r["high_order_entropy"] for r in rows]),
            ],
            xlabel="",
            ylabel="bits per byte",
            title="Entropy of the soup"
            + (f" (transition at epoch {transition_epoch:,})" if transition_epoch else ""),
            legend=False,
        )
        ops = [(r["epoch"], r["ops_per_tape"]) for r in later if r.get("ops_per_tape", 0) > 0]
        charts.lines(
            bottom,
            [("ops per tape", [e for e, _ in ops], [v for _, v in ops])],
            xlabel="epoch",
            ylabel="ops per tape per epoch",
            log_y=bool(ops),
            integer_x=True,
            legend=False,
        )
        if transition_epoch is not None:
            for ax in (top, bottom):
                charts.mark_x(ax, transition_epoch, "transition")
        top.legend(loc="best")
    return fig


def write_run_pictures(run, lang: str) -> list[Path]:
    """soup.png (latest sample), soup.gif (its history), curves.png; soup_grid.png for a 2D run."""
    from primordium.soup.experiment import load_soup, snapshots
    from primordium.soup.metrics import detect_transition

    written = []
    snaps = snapshots(run)
    if snaps:
        epoch, soup = snaps[-1]
        written.append(save_png(soup_image(soup, lang, epoch=epoch), run.artifact("soup.png")))
        if len(snaps) > 1:
            written.append(save_gif(history_frames(snaps, lang), run.artifact("soup.gif"), fps=8))
    rows = run.metrics()
    written.append(save(curves_figure(rows, detect_transition(rows)), run.artifact("curves.png")))
    grid = run.config.get("soup", {}).get("grid")
    if grid and grid[0] * 8 <= 4096 and grid[1] * 8 <= 4096:
        _, soup, _ = load_soup(run)
        written.append(save_png(grid_image(soup, tuple(grid), lang), run.artifact("soup_grid.png")))
    return written

"""Pictures of a soup: the soup itself (a row per program), its history as a GIF, its curves."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from primordium.soup.languages import get_language
from primordium.viz import save_gif, save_png

PAD = 4


def soup_image(soup: np.ndarray, lang: str, scale: int = 2) -> np.ndarray:
    """uint8[H, W, 3]: one row per program, one pixel per byte coloured by its class.

    Rows wrap into side-by-side columns so a large sample stays roughly square.
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
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)


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
    stride = max(1, -(-len(snaps) // max_frames))
    chosen = snaps[::stride]
    if snaps and chosen[-1] is not snaps[-1]:
        chosen.append(snaps[-1])
    return np.stack([soup_image(s, lang) for _, s in chosen])


# -- curves ---------------------------------------------------------------------------------------
def _panel(draw, box, xs, series, title, log=False):
    """One chart in ``box`` (x0, y0, x1, y1): a frame, a title, min/max labels, polylines."""
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline=(90, 90, 90))
    draw.text((x0 + 6, y0 + 4), title, fill=(20, 20, 20))
    vals = [
        v
        for _, ys, _ in series
        for v in ys
        if v is not None and math.isfinite(v) and (v > 0 or not log)
    ]
    if not vals or not xs:
        return
    f = (lambda v: math.log10(v)) if log else (lambda v: v)
    lo, hi = min(map(f, vals)), max(map(f, vals))
    if hi - lo < 1e-9:
        hi, lo = hi + 0.5, lo - 0.5
    xmin, xmax = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    px = lambda x: x0 + 8 + (x1 - x0 - 16) * (x - xmin) / (xmax - xmin)  # noqa: E731
    py = lambda v: y1 - 8 - (y1 - y0 - 30) * (f(v) - lo) / (hi - lo)  # noqa: E731
    lab = (lambda v: f"1e{v:.1f}") if log else (lambda v: f"{v:.2f}")
    draw.text((x1 - 70, y0 + 4), f"max {lab(hi)}", fill=(90, 90, 90))
    draw.text((x1 - 70, y1 - 18), f"min {lab(lo)}", fill=(90, 90, 90))
    legend_x = x0 + 200
    for name, ys, color in series:
        pts = [
            (px(x), py(v))
            for x, v in zip(xs, ys, strict=False)
            if v is not None and math.isfinite(v) and (v > 0 or not log)
        ]
        if len(pts) > 1:
            draw.line(pts, fill=color, width=2)
        draw.text((legend_x, y0 + 4), name, fill=color)
        legend_x += 8 * len(name) + 16


def curves_image(
    rows: list[dict], transition_epoch: int | None = None, size=(900, 560)
) -> np.ndarray:
    """Entropy curves (H0, brotli bits/byte, high-order entropy) over ops per tape, against epochs."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    rows = [r for r in rows if "h0" in r]
    xs = [r["epoch"] for r in rows]
    w, h = size
    top = (10, 10, w - 10, h // 2 - 5)
    bottom = (10, h // 2 + 5, w - 10, h - 24)
    _panel(
        draw,
        top,
        xs,
        [
            ("H0", [r["h0"] for r in rows], (40, 90, 220)),
            ("brotli bpb", [r["brotli_bpb"] for r in rows], (120, 120, 120)),
            ("high-order entropy", [r["high_order_entropy"] for r in rows], (220, 40, 40)),
        ],
        "bits per byte",
    )
    _panel(
        draw,
        bottom,
        xs[1:],
        [("ops per tape", [r["ops_per_tape"] for r in rows[1:]], (30, 150, 60))],
        "ops per tape per epoch (log)",
        log=True,
    )
    if xs:
        draw.text(
            (10, h - 18),
            f"epoch {xs[0]} .. {xs[-1]}"
            + (
                f"   transition at epoch {transition_epoch}"
                if transition_epoch is not None
                else "   no transition detected"
            ),
            fill=(20, 20, 20),
        )
        if transition_epoch is not None and xs[-1] > xs[0]:
            x = 18 + (w - 36) * (transition_epoch - xs[0]) / (xs[-1] - xs[0])
            for box in (top, bottom):
                draw.line([(x, box[1] + 20), (x, box[3])], fill=(250, 170, 0), width=1)
    return np.asarray(img)


def write_run_pictures(run, lang: str) -> list[Path]:
    """soup.png (latest sample), soup.gif (its history), curves.png; soup_grid.png for a 2D run."""
    from primordium.soup.experiment import load_soup, snapshots
    from primordium.soup.metrics import detect_transition

    written = []
    snaps = snapshots(run)
    if snaps:
        written.append(save_png(soup_image(snaps[-1][1], lang), run.artifact("soup.png")))
        if len(snaps) > 1:
            written.append(save_gif(history_frames(snaps, lang), run.artifact("soup.gif"), fps=8))
    rows = run.metrics()
    written.append(
        save_png(curves_image(rows, detect_transition(rows)), run.artifact("curves.png"))
    )
    grid = run.config.get("soup", {}).get("grid")
    if grid and grid[0] * 8 <= 4096 and grid[1] * 8 <= 4096:
        _, soup, _ = load_soup(run)
        written.append(save_png(grid_image(soup, tuple(grid), lang), run.artifact("soup_grid.png")))
    return written

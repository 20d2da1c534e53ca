"""Pictures of a DRQ run, drawn with Pillow (no plotting library needed).

``fitness.png``: best fitness in the archive after every iteration, one
colour per round, and each round's champion. ``archives.png``: every round's
MAP-Elites archive as a heat map. ``generality.png`` (after ``eval``): the
fraction of held-out warriors each round's champion beats or ties.
``compare --out``: across runs, round by round, how alike the champions
behave (phenotype similarity) and how far apart their code is (genotype
distance).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from primordium.viz import colours, save_png
from primordium.viz.colours import BACKGROUND, GRID, INK
from primordium.viz.fonts import load_font

W, H = 900, 420


def _nice_ticks(lo: float, hi: float, n: int = 5, integer: bool = False) -> list[float]:
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        hi = lo + 1.0
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    if integer:
        step = max(1.0, round(step))
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step + 1e-9) + 1)]


def line_chart(
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    title: str,
    xlabel: str,
    ylabel: str,
    size: tuple[int, int] = (W, H),
    markers: bool = False,
    bands: Sequence[tuple[Sequence[float], Sequence[float], Sequence[float]]] = (),
) -> np.ndarray:
    """uint8[H, W, 3]: lines (label, xs, ys); NaN breaks a line. ``bands``: (xs, lo, hi) shaded areas."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, BACKGROUND)
    d = ImageDraw.Draw(img)
    f, fb = load_font(12), load_font(15)
    left, right, top, bottom = 70, 170, 34, 46
    x0, y0, x1, y1 = left, top, size[0] - right, size[1] - bottom
    xs_all = [x for _, xs, ys in series for x, y in zip(xs, ys, strict=False) if np.isfinite(y)]
    ys_all = [y for _, _, ys in series for y in ys if np.isfinite(y)]
    for bx, blo, bhi in bands:
        xs_all += list(bx)
        ys_all += [v for v in list(blo) + list(bhi) if np.isfinite(v)]
    xlo, xhi = (min(xs_all), max(xs_all)) if xs_all else (0.0, 1.0)
    ylo, yhi = (min(ys_all), max(ys_all)) if ys_all else (0.0, 1.0)
    if xhi == xlo:
        xhi = xlo + 1
    pad = (yhi - ylo) * 0.05 or 0.5
    ylo, yhi = ylo - pad, yhi + pad

    def px(x: float, y: float) -> tuple[float, float]:
        return x0 + (x - xlo) / (xhi - xlo) * (x1 - x0), y1 - (y - ylo) / (yhi - ylo) * (y1 - y0)

    for t in _nice_ticks(ylo, yhi):
        _, yy = px(xlo, t)
        d.line([(x0, yy), (x1, yy)], fill=GRID)
        d.text((x0 - 6, yy), f"{t:g}", fill=INK, font=f, anchor="rm")
    integer_x = all(float(x).is_integer() for x in xs_all)
    for t in _nice_ticks(xlo, xhi, 8, integer=integer_x):
        xx, _ = px(t, ylo)
        d.line([(xx, y1), (xx, y1 + 4)], fill=INK)
        d.text((xx, y1 + 6), f"{t:g}", fill=INK, font=f, anchor="mt")
    d.rectangle([x0, y0, x1, y1], outline=INK)
    d.text(((x0 + x1) / 2, 8), title, fill=INK, font=fb, anchor="mt")
    d.text(((x0 + x1) / 2, size[1] - 6), xlabel, fill=INK, font=f, anchor="mb")
    d.text((8, (y0 + y1) / 2), ylabel, fill=INK, font=f, anchor="lm")
    for k, (bx, blo, bhi) in enumerate(bands):
        col = colours.series(k)
        light = tuple(int(c + (255 - c) * 0.75) for c in col)
        pts = [px(x, y) for x, y in zip(bx, bhi, strict=False) if np.isfinite(y)]
        pts += [px(x, y) for x, y in reversed(list(zip(bx, blo, strict=False))) if np.isfinite(y)]
        if len(pts) >= 3:
            d.polygon(pts, fill=light)
    for k, (label, xs, ys) in enumerate(series):
        col = colours.series(k)
        seg: list[tuple[float, float]] = []
        for x, y in list(zip(xs, ys, strict=False)) + [(math.nan, math.nan)]:
            if np.isfinite(y):
                seg.append(px(x, y))
                continue
            if len(seg) > 1:
                d.line(seg, fill=col, width=2)
            if markers or len(seg) == 1:
                for p in seg:
                    d.ellipse([p[0] - 3, p[1] - 3, p[0] + 3, p[1] + 3], fill=col)
            seg = []
        ly = y0 + 8 + 18 * k
        if ly < y1:
            d.line([(x1 + 12, ly), (x1 + 32, ly)], fill=col, width=3)
            d.text((x1 + 38, ly), label[:18], fill=INK, font=f, anchor="lm")
    return np.asarray(img)


def _viridis(t: np.ndarray) -> np.ndarray:
    """A small perceptual colour ramp (approximates viridis), t in [0, 1]."""
    stops = np.array(
        [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], float
    )
    t = np.clip(t, 0, 1) * (len(stops) - 1)
    i = np.minimum(t.astype(int), len(stops) - 2)
    frac = (t - i)[..., None]
    return (stops[i] * (1 - frac) + stops[i + 1] * frac).astype(np.uint8)


def heatmaps(
    grids: Sequence[np.ndarray],
    titles: Sequence[str],
    xlabel: str,
    ylabel: str,
    cell: int = 22,
    per_row: int = 5,
) -> np.ndarray:
    """Archive fitness grids side by side (empty cells grey), one shared colour scale."""
    from PIL import Image, ImageDraw

    f = load_font(11)
    n = max(1, len(grids))
    rows_n, cols_n = grids[0].shape if grids else (6, 6)
    pw, ph = cols_n * cell + 40, rows_n * cell + 40
    cols = min(per_row, n)
    nrows = -(-n // cols)
    finite = [g[np.isfinite(g)] for g in grids]
    vals = (
        np.concatenate(finite) if finite and any(v.size for v in finite) else np.array([0.0, 1.0])
    )
    lo, hi = float(vals.min()), float(vals.max())
    if hi <= lo:
        hi = lo + 1
    img = Image.new("RGB", (cols * pw + 20, nrows * ph + 60), BACKGROUND)
    d = ImageDraw.Draw(img)
    for k, (g, title) in enumerate(zip(grids, titles, strict=False)):
        ox, oy = 30 + (k % cols) * pw, 10 + (k // cols) * ph
        d.text((ox + cols_n * cell / 2, oy), title, fill=INK, font=f, anchor="mt")
        colours = _viridis((np.nan_to_num(g, nan=lo) - lo) / (hi - lo))
        for i in range(rows_n):  # descriptor 1 grows upward
            for j in range(cols_n):
                x, y = ox + j * cell, oy + 16 + (rows_n - 1 - i) * cell
                fill = (
                    tuple(int(c) for c in colours[i, j])
                    if np.isfinite(g[i, j])
                    else (235, 235, 235)
                )
                d.rectangle([x, y, x + cell - 2, y + cell - 2], fill=fill)
    d.text(
        (10, nrows * ph + 14),
        f"x: {xlabel}   y: {ylabel}   colour: fitness {lo:.3g} (dark) .. {hi:.3g} (bright)",
        fill=INK,
        font=f,
    )
    return np.asarray(img)


def fitness_image(metrics: list[dict]) -> np.ndarray:
    """Best fitness after each iteration (per round) and each round's champion."""
    by_round: dict[int, tuple[list, list]] = {}
    champ_x, champ_y = [], []
    for m in metrics:
        if m.get("kind") in ("iteration", "init") and m.get("best") is not None:
            xs, ys = by_round.setdefault(m["round"], ([], []))
            xs.append(m["step"])
            ys.append(m["best"])
        elif m.get("kind") == "round" and m.get("fitness") is not None:
            champ_x.append(m["round"])
            champ_y.append(m["fitness"])
    series = [(f"round {r}", xs, ys) for r, (xs, ys) in sorted(by_round.items())]
    top = line_chart(
        series[:10] if len(series) <= 10 else series,
        "best fitness in the archive",
        "step (rounds laid end to end)",
        "fitness",
    )
    bottom = line_chart(
        [("champion", champ_x, champ_y)],
        "champion fitness per round",
        "round",
        "fitness",
        markers=True,
    )
    return np.concatenate([top, bottom], axis=0)


def write_run_plots(run) -> list[Path]:
    """Draw every picture the run's data allows; returns the files written."""
    from primordium.redqueen.descriptors import get as get_descriptor
    from primordium.redqueen.loop import archives

    out = []
    metrics = run.metrics()
    if metrics:
        out.append(save_png(fitness_image(metrics), run.artifact("fitness.png")))
    arcs = archives(run)
    if arcs:
        d1, d2 = (get_descriptor(n) for n in arcs[0].descriptors)
        img = heatmaps(
            [a.grid() for a in arcs],
            [f"round {k + 1}" for k in range(len(arcs))],
            d2.label,
            d1.label,
        )
        out.append(save_png(img, run.artifact("archives.png")))
    ev = run.dir / "eval.json"
    if ev.exists():
        out.append(
            save_png(
                generality_image(json.loads(ev.read_text("utf-8"))), run.artifact("generality.png")
            )
        )
    return out


def generality_image(result: dict) -> np.ndarray:
    rows = result["rounds"]
    return line_chart(
        [("generality", [r["round"] for r in rows], [r["generality"] for r in rows])],
        f"generality ({result.get('measure', 'pmars')} measure) against "
        f"{result.get('against', 'held-out warriors')}",
        "round",
        "fraction beaten or tied",
        markers=True,
    )


def convergence_image(result: dict) -> np.ndarray:
    """Two panels over rounds: phenotype similarity and genotype distance across runs."""
    rows = [r for r in result["rounds"] if r["phenotype_similarity"] is not None]
    xs = [r["round"] for r in rows]
    n = len(result["runs"])
    top = line_chart(
        [("phenotype", xs, [r["phenotype_similarity"] for r in rows])],
        f"phenotype similarity of {n} runs' champions (vs {result['opponents']} warriors)",
        "round",
        "mean pairwise cosine",
        markers=True,
    )
    bottom = line_chart(
        [("genotype", xs, [r["genotype_distance"] for r in rows])],
        f"genotype distance of {n} runs' champions",
        "round",
        "mean edit distance",
        markers=True,
    )
    return np.concatenate([top, bottom], axis=0)

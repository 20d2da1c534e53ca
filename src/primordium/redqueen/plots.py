"""Pictures of a DRQ run, drawn with the figure toolkit (``primordium.viz``).

``fitness.png``: best fitness in the archive after every iteration, one
colour per round, and each round's champion. ``archives.png``: every round's
MAP-Elites archive as a heat map on one colour scale. ``generality.png``
(after ``eval``): the fraction of held-out warriors each round's champion
beats or ties. ``compare --out``: across runs, round by round, how alike the
champions behave (phenotype similarity) and how far apart their code is
(genotype distance). Each PNG has a PDF and an SVG beside it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from primordium.viz import charts, figure, save, style


def fitness_figure(metrics: list[dict]) -> Any:
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
    with style():
        fig, (top, bottom) = figure("double", 2.4, 1, 2)
        charts.lines(
            top,
            [(f"round {r}", xs, ys) for r, (xs, ys) in sorted(by_round.items())],
            xlabel="step (rounds laid end to end)",
            ylabel="best fitness in the archive",
            title="Archive's best during each round",
            integer_x=True,
            legend_title="round",
        )
        charts.lines(
            bottom,
            [("champion", champ_x, champ_y)],
            xlabel="round",
            ylabel="champion fitness",
            title="Each round's champion",
            markers=True,
            integer_x=True,
        )
    return fig


def archives_figure(
    grids: Sequence[np.ndarray],
    titles: Sequence[str],
    xlabel: str,
    ylabel: str,
    per_row: int = 5,
    xbins: Sequence[str] | None = None,
    ybins: Sequence[str] | None = None,
) -> Any:
    """Archive fitness grids side by side on one colour scale (empty cells grey), one colour bar.

    ``xbins``/``ybins`` name the bins (``bin_labels``); without them the ticks are bin numbers.
    """
    n = max(1, len(grids))
    cols = min(per_row, n)
    rows = -(-n // cols)
    finite = [g[np.isfinite(g)] for g in grids]
    vals = np.concatenate(finite) if any(v.size for v in finite) else np.array([0.0, 1.0])
    lo, hi = float(vals.min()), float(vals.max())
    if hi <= lo:
        hi = lo + 1.0
    with style():
        side = min(1.45, 6.4 / cols)
        fig, axes = figure("double", side * rows + 1.3, rows, cols, sharex=True, sharey=True)
        flat = np.atleast_1d(axes).ravel()
        im = None
        for k, ax in enumerate(flat):
            if k >= len(grids):
                ax.set_visible(False)
                continue
            # The panels share their axes: one label for the row and one for the column.
            im = charts.heatmap(
                ax,
                grids[k],
                xlabel="",
                ylabel="",
                title=titles[k],
                vmin=lo,
                vmax=hi,
                xticklabels=xbins,
                yticklabels=ybins,
            )
            ax.set_aspect("equal")
        fig.supxlabel(xlabel if xbins else f"{xlabel}: bin", fontsize=8)
        fig.supylabel(ylabel if ybins else f"{ylabel}: bin", fontsize=8)
        if im is not None:
            charts.colorbar(flat[0], im, "fitness (grey: empty)", axes=list(flat))
    return fig


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Names of the bins that ``edges`` make: [1, 10, 100] gives <1, 1-9, 10-99, >=100."""
    e = [f"{x:g}" for x in edges]
    inner = [
        f"{a}–{b - 1:g}" if float(a).is_integer() and float(b).is_integer() else f"{a}–{b:g}"
        for a, b in zip(e, edges[1:], strict=False)
    ]
    return [f"<{e[0]}", *inner, f"≥{e[-1]}"] if e else ["all"]


def write_run_plots(run) -> list[Path]:
    """Draw every picture the run's data allows; returns the PNGs written."""
    from primordium.redqueen.descriptors import get as get_descriptor
    from primordium.redqueen.loop import archives

    out = []
    metrics = run.metrics()
    if metrics:
        out.append(save(fitness_figure(metrics), run.artifact("fitness.png")))
    arcs = archives(run)
    if arcs:
        d1, d2 = (get_descriptor(n) for n in arcs[0].descriptors)
        fig = archives_figure(
            [a.grid() for a in arcs],
            [f"round {k + 1}" for k in range(len(arcs))],
            d2.label,
            d1.label,
            xbins=bin_labels(d2.edges),
            ybins=bin_labels(d1.edges),
        )
        out.append(save(fig, run.artifact("archives.png")))
    ev = run.dir / "eval.json"
    if ev.exists():
        fig = generality_figure(json.loads(ev.read_text("utf-8")))
        out.append(save(fig, run.artifact("generality.png")))
    return out


def generality_figure(result: dict) -> Any:
    rows = result["rounds"]
    against = Path(str(result.get("against", "held-out warriors"))).name or "held-out warriors"
    with style():
        fig, ax = figure("single")
        charts.lines(
            ax,
            [("generality", [r["round"] for r in rows], [r["generality"] for r in rows])],
            xlabel="round",
            ylabel="fraction beaten or tied",
            title=f"Each champion against {result.get('opponents', '')} held-out warriors\n"
            f"({against}, {result.get('measure', 'pmars')} measure)",
            markers=True,
            integer_x=True,
        )
        ax.set_ylim(-0.02, 1.02)
    return fig


def convergence_figure(result: dict) -> Any:
    """Two panels over rounds: phenotype similarity and genotype distance across runs."""
    rows = [r for r in result["rounds"] if r["phenotype_similarity"] is not None]
    xs = [r["round"] for r in rows]
    n = len(result["runs"])
    with style():
        fig, (left, right) = figure("double", 2.4, 1, 2)
        charts.lines(
            left,
            [("phenotype", xs, [r["phenotype_similarity"] for r in rows])],
            xlabel="round",
            ylabel="mean pairwise cosine similarity",
            title=f"Behaviour of {n} runs' champions\n(against {result['opponents']} warriors)",
            markers=True,
            integer_x=True,
        )
        charts.lines(
            right,
            [("genotype", xs, [r["genotype_distance"] for r in rows])],
            xlabel="round",
            ylabel="mean normalised edit distance\n(0: same code, 1: nothing shared)",
            title=f"Code of {n} runs' champions",
            markers=True,
            integer_x=True,
        )
        right.set_ylim(-0.02, 1.02)  # the whole range of a normalised distance
    return fig

"""The figure toolkit and every engine figure built on it: files, labels, colour bars, fonts.

Figures are inspected as objects (axis labels, tick labels, colour bars, text
extents after a draw) and as files (PNG, PDF and SVG beside each other, the
text kept as text in the SVG).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from primordium.viz import charts, save

UNICODE_NAME = "Avançado Ünïcødé — ½"


def _drawn(fig):
    fig.canvas.draw()
    return fig


def _ticks(axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels() if t.get_visible()]


def _colorbars(fig) -> list:
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_save_writes_png_pdf_svg_beside_each_other_and_leaves_no_temp_files(tmp_path):
    fig = charts.line_figure(
        [("a", [1, 2, 3], [1.0, 4.0, 2.0])], xlabel="round", ylabel="fitness (points)"
    )
    png = save(fig, tmp_path / "run.v1.png")
    assert png == tmp_path / "run.v1.png"  # a dot in the name is kept
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "run.v1.pdf").read_bytes()[:5] == b"%PDF-"
    svg = (tmp_path / "run.v1.svg").read_text("utf-8")
    assert "<svg" in svg and "fitness (points)" in svg and "round" in svg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.v1.pdf", "run.v1.png", "run.v1.svg"]
    # Same figure, same bytes: no timestamps in the files.
    again = save(fig, tmp_path / "again.png")
    assert again.read_bytes() == png.read_bytes()
    assert (tmp_path / "again.pdf").read_bytes() == (tmp_path / "run.v1.pdf").read_bytes()


def test_line_chart_has_labels_ticks_and_legend_at_paper_width():
    from primordium.viz.figures import DPI, SINGLE

    fig = _drawn(
        charts.line_figure(
            [("best", [0, 1, 2, 3], [3.0, 2.0, 2.0, 1.0]), ("mean", [0, 1, 2, 3], [4, 3, 3, 2])],
            xlabel="generation",
            ylabel="loss",
            integer_x=True,
        )
    )
    (ax,) = fig.axes
    assert ax.get_xlabel() == "generation" and ax.get_ylabel() == "loss"
    assert all(_ticks(ax.xaxis)) and len(_ticks(ax.xaxis)) >= 3
    assert all(_ticks(ax.yaxis)) and len(_ticks(ax.yaxis)) >= 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["best", "mean"]
    assert fig.get_size_inches()[0] == SINGLE and fig.dpi == DPI


def test_many_series_get_a_colour_bar_and_a_log_axis_says_so():
    series = [(f"round {k}", [0, 1], [k + 1, k + 2]) for k in range(14)]
    fig = _drawn(
        charts.line_figure(series, xlabel="step", ylabel="ops", log_y=True, legend_title="round")
    )
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "ops (log scale)"
    (bar,) = _colorbars(fig)
    assert bar.get_ylabel() == "round" and ax.get_legend() is None


def test_heatmap_figure_has_a_labelled_colour_bar_and_grey_empty_cells(tmp_path):
    grid = np.arange(12, dtype=float).reshape(3, 4)
    grid[0, 0] = np.nan
    fig = _drawn(charts.heatmap_figure(grid, xlabel="x bin", ylabel="y bin", clabel="fitness"))
    (bar,) = _colorbars(fig)
    assert bar.get_ylabel() == "fitness"
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x bin" and all(_ticks(ax.xaxis))
    # Row 0 is drawn at the bottom (origin lower); its first cell is the empty grey.
    png = save(fig, tmp_path / "h.png")
    from PIL import Image

    assert Image.open(png).size[0] == 700  # 3.5 in at 200 dpi


def test_the_font_covers_every_character_of_a_unicode_warrior_name():
    from matplotlib.ft2font import FT2Font

    from primordium.viz.fonts import font_path, load_font

    charmap = FT2Font(str(font_path())).get_charmap()
    missing = [c for c in UNICODE_NAME if ord(c) not in charmap]
    assert not missing
    # Pillow draws with the same file (replay strips, soup stamps).
    assert Path(load_font(14).path) == font_path()


def _results(names: list[str]) -> dict:
    n = len(names)
    wins = [[0 if i == j else (3 if i < j else 1) for j in range(n)] for i in range(n)]
    losses = [[wins[j][i] for j in range(n)] for i in range(n)]
    ties = [[0 if i == j else 4 - wins[i][j] - losses[i][j] for j in range(n)] for i in range(n)]
    return {
        "rounds": 4,
        "ranking": list(range(n)),
        "warriors": [{"name": s, "score": 10 - k} for k, s in enumerate(names)],
        "wins": wins,
        "losses": losses,
        "ties": ties,
    }


def test_corewar_heat_map_keeps_unicode_names_and_has_a_colour_bar(tmp_path):
    from primordium.corewar.experiment import heatmap_figure

    fig = _drawn(heatmap_figure(_results(["Imp", UNICODE_NAME, "Dwarf"])))
    ax = fig.axes[0]
    assert UNICODE_NAME in _ticks(ax.xaxis)
    assert f"{UNICODE_NAME} (9)" in _ticks(ax.yaxis)
    assert {t.get_text() for t in ax.texts} >= {"3/1/0", "1/3/0"}
    (bar,) = _colorbars(fig)
    assert "wins" in bar.get_ylabel()
    save(fig, tmp_path / "results.png")
    assert UNICODE_NAME in (tmp_path / "results.svg").read_text("utf-8")


def test_replay_strip_draws_a_unicode_name_with_the_toolkit_font():
    from primordium.corewar.replay import Replay, frames

    rep = Replay(
        owner=np.zeros((2, 64), np.int32),
        processes=np.full((2, 64), -1, np.int32),
        cycles=np.array([0, 10]),
        core=np.zeros((3, 64), np.int64),
        survivors=2,
        positions=np.array([0, 32]),
        names=[UNICODE_NAME, "Imp"],
    )
    out = frames(rep, width=8, scale=4)
    # The strip under the core holds the two names; the font has every glyph
    # (see above), so nothing is drawn as a missing-glyph box.
    assert out.shape[1] == 8 * 4 + 30 and (out[:, 8 * 4 :] < 100).any()


def _drq_metrics() -> list[dict]:
    rows = []
    for r in (1, 2, 3):
        for s in range(4):
            rows.append({"kind": "iteration", "round": r, "step": (r - 1) * 4 + s, "best": r + s})
        rows.append({"kind": "round", "round": r, "fitness": float(r)})
    return rows


def test_drq_figures_label_their_axes_and_ticks():
    from primordium.redqueen.plots import (
        archives_figure,
        bin_labels,
        convergence_figure,
        fitness_figure,
        generality_figure,
    )

    fig = _drawn(fitness_figure(_drq_metrics()))
    left, right = fig.axes[:2]
    assert left.get_ylabel() == "best fitness in the archive" and right.get_xlabel() == "round"
    assert all(_ticks(left.xaxis)) and all(_ticks(right.yaxis))

    grids = [np.where(np.eye(3) > 0, k + 1.0, np.nan) for k in range(3)]
    fig = _drawn(
        archives_figure(
            grids,
            ["round 1", "round 2", "round 3"],
            "coverage",
            "spawned",
            xbins=bin_labels((1, 10)),
            ybins=bin_labels((1, 10)),
        )  # fmt: skip
    )
    (bar,) = _colorbars(fig)
    assert bar.get_ylabel().startswith("fitness")
    assert _ticks(fig.axes[0].xaxis) == ["<1", "1–9", "≥10"]

    result = {
        "rounds": [{"round": r, "generality": g} for r, g in ((1, 0.2), (2, 0.5), (3, 0.6))],
        "measure": "pmars",
        "against": "/somewhere/warriors",
        "opponents": 60,
    }
    fig = _drawn(generality_figure(result))
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    label = ax.yaxis.label.get_window_extent(renderer)
    ticks = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_text()]
    # generality.png once printed its y label over the tick labels (those level with it).
    beside = [t for t in ticks if t.y1 > label.y0 and t.y0 < label.y1]
    assert len(beside) >= 3 and label.x1 <= min(t.x0 for t in beside)
    assert ax.get_ylabel() == "fraction beaten or tied"

    conv = {
        "runs": ["a", "b"],
        "opponents": 60,
        "rounds": [
            {"round": r, "phenotype_similarity": 0.5 + r / 10, "genotype_distance": 0.8}
            for r in (1, 2)
        ],
    }
    fig = _drawn(convergence_figure(conv))
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels[0] == "mean pairwise cosine similarity" and "edit distance" in labels[1]
    assert all(ax.get_yscale() == "linear" for ax in fig.axes)


def _soup_rows() -> list[dict]:
    return [
        {
            "epoch": e,
            "h0": 7.9,
            "brotli_bpb": 7.5 - e / 100,
            "high_order_entropy": e / 50,
            "ops_per_tape": 10.0 * (1 + e),
        }
        for e in range(0, 128, 16)
    ]


def test_soup_curves_have_tick_labels_and_a_labelled_log_axis():
    from primordium.soup.pictures import curves_figure

    fig = _drawn(curves_figure(_soup_rows(), transition_epoch=64))
    top, bottom = fig.axes[:2]
    # curves.png once had no tick labels at all.
    assert all(_ticks(bottom.xaxis)) and len(_ticks(bottom.xaxis)) >= 3
    assert all(_ticks(top.yaxis)) and all(_ticks(bottom.yaxis))
    assert top.get_ylabel() == "bits per byte" and bottom.get_xlabel() == "epoch"
    assert bottom.get_yscale() == "log" and "log scale" in bottom.get_ylabel()
    assert "transition" in [t.get_text() for t in top.get_legend().get_texts()]


def test_soup_sweep_figure():
    from primordium.soup.sweep import sweep_figure

    results = [
        {"seed": 0, "transition_epoch": 32, "curve": [(0, 0.0), (32, 1.0), (64, 2.0)]},
        {"seed": 1, "transition_epoch": None, "curve": [(0, 0.0), (32, 0.1), (64, 0.2)]},
    ]
    ax = _drawn(sweep_figure(results)).axes[0]
    assert ax.get_xlabel() == "epoch" and "bits per byte" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "transition (1 seeds)",
        "no transition (1 seeds)",
    ]


def test_soup_frames_are_stamped_with_their_epoch():
    from primordium.soup.pictures import history_frames, soup_image
    from primordium.viz.media import stamp

    soup = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    plain = soup_image(soup, "bff")
    at_256 = soup_image(soup, "bff", epoch=256)
    h = plain.shape[0]
    assert at_256.shape[0] > h and np.array_equal(at_256[:h], plain)
    # The strip is the epoch's text, and another epoch's strip differs.
    assert np.array_equal(at_256, stamp(plain, "epoch 256  ·  64 programs  ·  bff", "epoch 256"))
    assert not np.array_equal(at_256[h:], soup_image(soup, "bff", epoch=512)[h:])
    frames = history_frames([(0, soup), (16, soup)], "bff")
    assert frames.shape[1] == at_256.shape[0] and not np.array_equal(frames[0], frames[1])


def test_asal_score_plot(tmp_path):
    from primordium.asal.outputs import score_plot

    history = [{"gen": g, "best_score": 1 / (g + 1), "gen_mean": 2 / (g + 1)} for g in range(5)]
    png = score_plot(history, tmp_path / "scores.png", "target score")
    assert png.is_file() and (tmp_path / "scores.pdf").is_file()
    svg = (tmp_path / "scores.svg").read_text("utf-8")
    assert "generation" in svg and "lower is better" in svg and "best so far" in svg


def test_importing_the_toolkit_and_core_war_does_not_import_matplotlib():
    code = (
        "import sys, primordium.viz, primordium.corewar.experiment, primordium.corewar.replay\n"
        "from primordium.viz.fonts import load_font; load_font(12)\n"
        "sys.exit('matplotlib' in sys.modules)"
    )
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


@pytest.mark.parametrize("rc", [{"font.family": "serif", "svg.fonttype": "path"}])
def test_the_house_style_leaves_the_callers_matplotlib_settings_alone(rc):
    import matplotlib

    with matplotlib.rc_context(rc):
        charts.line_figure([("a", [0, 1], [0, 1])], xlabel="x", ylabel="y")
        assert matplotlib.rcParams["font.family"] == ["serif"]
        assert matplotlib.rcParams["svg.fonttype"] == "path"

"""A Core War tournament as a stored run: results, the warriors' sources, a heat map and a replay.

Small on purpose: the quickstart's Core War run, and a way to keep any
round robin in the store (``primordium corewar tournament --save``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from primordium.corewar.battle import tournament
from primordium.corewar.isa import Settings, Warrior
from primordium.errors import ConfigError
from primordium.store import Run, Store

ENGINE = "corewar"


def run_tournament(
    store: Store,
    files: Sequence[str | Path] | None = None,
    *,
    rounds: int = 100,
    seed: int = 0,
    settings: Settings | None = None,
    name: str | None = None,
    replay: bool = True,
    progress: Callable[[int, int], None] | None = None,
    position: int | None = None,
    executor=None,
) -> tuple[Run, dict]:
    """Round robin of ``files`` (default: the built-in warriors) written to a new run.

    ``progress(done, total)`` hears of pairs as they finish; ``position`` and
    ``executor`` are ``tournament``'s. Returns the run and the results (also
    in ``results.json``).
    """
    from primordium.corewar.redcode import assemble_file
    from primordium.corewar.warriors import builtin_warriors

    paths = [Path(f) for f in files] if files is not None else list(builtin_warriors().values())
    if len(paths) < 2:
        raise ConfigError("a tournament needs at least two warriors")
    settings = (settings or Settings()).with_(rounds=rounds, warriors=2).validate()
    warriors = [assemble_file(p, settings) for p in paths]
    config = {
        "kind": "tournament",
        "warriors": [str(p) for p in paths],
        "rounds": rounds,
        "seed": seed,
        "position": position,
        "settings": dataclasses.asdict(settings),
    }
    run = store.create(ENGINE, config, name=name)
    with run.running():
        stems = _unique_stems(paths)
        for stem, w in zip(stems, warriors, strict=False):
            run.write_text(f"warriors/{stem}.red", w.source)
        n_pairs = len(warriors) * (len(warriors) - 1) // 2
        done = [0]

        def on_chunk(k: int) -> None:
            done[0] += k
            run.log(done[0], pairs_done=done[0], pairs=n_pairs)
            if progress is not None:
                progress(done[0], n_pairs)

        t = tournament(
            warriors,
            settings,
            seed=seed,
            position=position,
            on_progress=on_chunk,
            executor=executor,
        )
        results = results_dict(warriors, stems, t, rounds)
        run.write_json("results.json", results)
        run.write_text("results.csv", results_csv(results))
        from primordium.viz import save, save_gif

        save(heatmap_figure(results), run.artifact("results.png"))
        best = results["ranking"][:2]
        if replay:
            from primordium.corewar import replay as rp

            pair = [warriors[i] for i in best]
            frames = rp.frames(
                rp.replay(
                    pair, settings, rp.first_round_positions(pair, settings, seed), frames=60
                ),
                width=100,
                scale=6,
            )
            save_gif(frames, run.artifact("replay.gif"), fps=12)
            run.write_json(
                "replay.json",
                {
                    "warriors": [results["warriors"][i]["name"] for i in best],
                    "files": [f"warriors/{stems[i]}.red" for i in best],
                    "seed": seed,
                    "frames": int(len(frames)),
                },
            )
        champion = results["warriors"][best[0]]
        run.update_summary(
            warriors=len(warriors),
            rounds=rounds,
            champion=champion["name"],
            champion_score=champion["score"],
        )
    return run, results


def _unique_stems(paths: Sequence[Path]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for p in paths:
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in p.stem) or "warrior"
        k = seen.get(stem, 0)
        seen[stem] = k + 1
        out.append(stem if k == 0 else f"{stem}_{k + 1}")
    return out


def results_dict(warriors: Sequence[Warrior], stems: Sequence[str], t, rounds: int) -> dict:
    scores = t.scores()
    ranking = sorted(range(len(warriors)), key=lambda i: (-int(scores[i]), i))
    return {
        "rounds": rounds,
        "warriors": [
            {
                "name": w.name,
                "author": w.author,
                "strategy": w.strategy,
                "length": w.length,
                "file": f"warriors/{stems[i]}.red",
                "score": int(scores[i]),
                "wins": int(t.wins[i].sum()),
                "losses": int(t.losses[i].sum()),
                "ties": int(t.ties[i].sum()),
            }
            for i, w in enumerate(warriors)
        ],
        # wins[i][j]: rounds warrior i won against j (and so on).
        "wins": t.wins.tolist(),
        "losses": t.losses.tolist(),
        "ties": t.ties.tolist(),
        "ranking": ranking,
    }


def results_csv(results: dict) -> str:
    """Every ordered pair as one CSV row (warrior, opponent, wins, losses, ties), in ranking order.

    Long form rather than a grid of "W/L/T" cells, so a spreadsheet or pandas
    reads the numbers without splitting strings.
    """
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["rank", "warrior", "file", "score", "opponent", "opponent_file", "wins", "losses", "ties"]
    )
    ws = results["warriors"]
    for rank, i in enumerate(results["ranking"], 1):
        for j in results["ranking"]:
            if i == j:
                continue
            w.writerow(
                [
                    rank,
                    ws[i]["name"],
                    ws[i]["file"],
                    ws[i]["score"],
                    ws[j]["name"],
                    ws[j]["file"],
                    results["wins"][i][j],
                    results["losses"][i][j],
                    results["ties"][i][j],
                ]
            )
    return buf.getvalue()


# -- pictures -------------------------------------------------------------------------------------
def heatmap_figure(results: dict) -> Any:
    """Rows against columns, ranked by score: colour is (wins - losses) / rounds, text is W/L/T."""
    from primordium.viz import charts, figure, style

    order = results["ranking"]
    n, rounds = len(order), max(results["rounds"], 1)
    grid = np.full((n, n), np.nan)
    text = [["" for _ in order] for _ in order]
    for r, i in enumerate(order):
        for c, j in enumerate(order):
            if i != j:
                w, lost, t = results["wins"][i][j], results["losses"][i][j], results["ties"][i][j]
                grid[r, c] = (w - lost) / rounds  # -1 (always lost) .. 1 (always won)
                text[r][c] = f"{w}/{lost}/{t}"
    names = [results["warriors"][i]["name"] for i in order]
    scores = [results["warriors"][i]["score"] for i in order]
    # Past a dozen warriors the cells are too small for W/L/T.
    annotate = n <= 12
    with style():
        side = min(7.2, max(3.5, 0.42 * n + 1.8))
        fig, ax = figure(side, side * 0.82)
        im = charts.heatmap(
            ax,
            grid,
            xlabel="column warrior",
            ylabel="row warrior (score)",
            title=f"Round robin, {rounds} rounds per pair"
            + ("\nrow's wins/losses/ties against column" if annotate else ""),
            vmin=-1,
            vmax=1,
            cmap="RdBu",
            xticklabels=names,
            yticklabels=[f"{name} ({score})" for name, score in zip(names, scores, strict=True)],
            annotations=text if annotate else None,
            origin="upper",
        )
        charts.colorbar(ax, im, "(wins − losses) / rounds")
    return fig

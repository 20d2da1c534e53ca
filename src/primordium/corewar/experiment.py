"""A Core War tournament as a stored run: results, the warriors' sources, a heat map and a replay.

Small on purpose: the quickstart's Core War run, and a way to keep any
round robin in the store (``primordium corewar tournament --store``).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from primordium.corewar import mars
from primordium.corewar.battle import pool_arrays, initial_seed, tournament
from primordium.corewar.isa import Settings, Warrior
from primordium.errors import ConfigError
from primordium.store import Run, Store

ENGINE = "corewar"
# Colour of warrior k in pictures (the web gallery uses the same order).
PALETTE = np.array(
    [(66, 135, 245), (245, 96, 66), (80, 200, 120), (240, 190, 50), (190, 110, 230), (60, 200, 210)], np.uint8
)


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
) -> tuple[Run, dict]:
    """Round robin of ``files`` (default: the built-in warriors) written to a new run.

    ``progress(done, total)`` hears of pairs as they finish. Returns the run
    and the results (also in ``results.json``).
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
        "settings": dataclasses.asdict(settings),
    }
    run = store.create(ENGINE, config, name=name)
    try:
        stems = _unique_stems(paths)
        for stem, w in zip(stems, warriors):
            run.write_text(f"warriors/{stem}.red", w.source)
        n_pairs = len(warriors) * (len(warriors) - 1) // 2
        done = [0]

        def on_chunk(k: int) -> None:
            done[0] += k
            run.log(done[0], pairs_done=done[0], pairs=n_pairs)
            if progress is not None:
                progress(done[0], n_pairs)

        t = tournament(warriors, settings, seed=seed, on_progress=on_chunk)
        results = results_dict(warriors, stems, t, rounds)
        run.write_json("results.json", results)
        from primordium.viz import save_gif, save_png

        save_png(heatmap_image(results), run.artifact("results.png"))
        best = results["ranking"][:2]
        if replay:
            pair = [warriors[i] for i in best]
            frames = replay_frames(pair, settings, seed=seed)
            save_gif(frames, run.artifact("replay.gif"), fps=12)
            run.write_json("replay.json", {"warriors": [results["warriors"][i]["name"] for i in best],
                                           "files": [f"warriors/{stems[i]}.red" for i in best],
                                           "seed": seed, "frames": int(len(frames))})
        champion = results["warriors"][best[0]]
        run.update_summary(warriors=len(warriors), rounds=rounds, champion=champion["name"],
                           champion_score=champion["score"])
    except BaseException:
        run.set_status("failed")
        raise
    run.set_status("finished")
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
            {"name": w.name, "author": w.author, "strategy": w.strategy, "length": w.length,
             "file": f"warriors/{stems[i]}.red", "score": int(scores[i]),
             "wins": int(t.wins[i].sum()), "losses": int(t.losses[i].sum()), "ties": int(t.ties[i].sum())}
            for i, w in enumerate(warriors)
        ],
        # wins[i][j]: rounds warrior i won against j (and so on).
        "wins": t.wins.tolist(),
        "losses": t.losses.tolist(),
        "ties": t.ties.tolist(),
        "ranking": ranking,
    }


# -- pictures -------------------------------------------------------------------------------------
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the bitmap font
        return ImageFont.load_default()


def heatmap_image(results: dict, cell: int = 64) -> np.ndarray:
    """Rows against columns: colour is (wins - losses) / rounds, text is W/L/T; ranked by score."""
    from PIL import Image, ImageDraw

    order = results["ranking"]
    names = [results["warriors"][i]["name"] for i in order]
    n, rounds = len(order), max(results["rounds"], 1)
    font, small = _font(15), _font(12)
    label_w = max(120, 9 * max(len(s) for s in names) + 24)
    top, right = 70, 90
    width, height = label_w + n * cell + right, top + n * cell + 40
    img = Image.new("RGB", (width, height), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.text((10, 8), f"Round robin, {rounds} rounds per pair: row against column (W/L/T)", fill=(20, 20, 20), font=font)
    for c, name in enumerate(names):
        x = label_w + c * cell + cell // 2
        d.text((x, top - 10), name[:10], fill=(40, 40, 40), font=small, anchor="ms")
    d.text((label_w + n * cell + right // 2, top - 10), "score", fill=(40, 40, 40), font=small, anchor="ms")
    for r, i in enumerate(order):
        y = top + r * cell
        d.text((label_w - 10, y + cell // 2), names[r], fill=(20, 20, 20), font=font, anchor="rm")
        for c, j in enumerate(order):
            x = label_w + c * cell
            box = (x, y, x + cell - 2, y + cell - 2)
            if i == j:
                d.rectangle(box, fill=(235, 235, 235))
                continue
            w, l, t = results["wins"][i][j], results["losses"][i][j], results["ties"][i][j]
            v = (w - l) / rounds  # -1 (always lost) .. 1 (always won)
            d.rectangle(box, fill=_diverging(v))
            ink = (255, 255, 255) if abs(v) > 0.55 else (20, 20, 20)
            d.text((x + cell // 2 - 1, y + cell // 2 - 1), f"{w}/{l}/{t}", fill=ink, font=small, anchor="mm")
        d.text((label_w + n * cell + right // 2, y + cell // 2), str(results["warriors"][i]["score"]),
               fill=(20, 20, 20), font=font, anchor="mm")
    d.text((10, height - 26), "blue: row wins more often; red: row loses more often", fill=(90, 90, 90), font=small)
    return np.asarray(img)


def _diverging(v: float) -> tuple[int, int, int]:
    lo, mid, hi = np.array((200, 60, 50)), np.array((247, 247, 247)), np.array((40, 90, 190))
    v = max(-1.0, min(1.0, v))
    c = mid + (hi - mid) * v if v >= 0 else mid + (lo - mid) * (-v)
    return tuple(int(x) for x in c)


def _round_state(pool, positions: np.ndarray, settings: Settings, cycles: int):
    """Core, coverage and queues after ``cycles`` turns each of one round (fresh from the start)."""
    code_w, code_a, code_b, offs, lens, starts, _pins = pool
    n, cs = len(offs), settings.core_size
    core_w, core_a, core_b = (np.empty(cs, np.int32) for _ in range(3))
    queue = np.empty((n, settings.processes), np.int32)
    qhead, qcount = np.zeros(n, np.int64), np.zeros(n, np.int64)
    seen = np.zeros((n, cs), np.uint8)
    outs = [np.zeros(n, np.int64) for _ in range(4)]
    mars.run_round(
        core_w, core_a, core_b, queue, qhead, qcount, code_w, code_a, code_b, offs, lens, starts,
        positions, 0, cycles, settings.processes, np.zeros((n, settings.pspace), np.int32),
        np.arange(n, dtype=np.int64), np.full(n, cs - 1, np.int32), True, seen, *outs,
    )
    queues = [queue[i, (qhead[i] + np.arange(qcount[i])) % settings.processes] for i in range(n)]
    written = (core_w != mars.EMPTY_WORD) | (core_a != 0) | (core_b != 0)
    return seen.astype(bool), written, queues, outs[0]


def replay_frames(warriors: Sequence[Warrior], settings: Settings, *, seed: int = 0, frames: int = 60,
                  width: int = 100, scale: int = 6) -> np.ndarray:
    """uint8[T, H, W, 3]: the first round of a battle as the core fills up.

    Each cell is one square: a warrior's colour where its processes have
    run, grey where something was written, white where a process is now.
    """
    from PIL import Image, ImageDraw

    if len(warriors) != 2:
        raise ConfigError("a replay shows two warriors")
    pool = pool_arrays(warriors, settings)
    cs, sep = settings.core_size, settings.distance
    state = initial_seed(seed)
    positions = np.array([0, sep + state % (cs + 1 - 2 * sep)], np.int64)
    # The round's length in turns: frames span it, whether it lasts 80 000 turns or 900.
    _, _, _, executed = _round_state(pool, positions, settings, settings.cycles)
    end = max(1, int(executed.max()))
    rows = math.ceil(cs / width)
    font = _font(14)
    legend_h = 30
    out = []
    for k in range(1, frames + 1):
        cycles = max(1, round(end * k / frames))
        seen, written, queues, _ = _round_state(pool, positions, settings, cycles)
        cells = np.full((rows * width, 3), (22, 24, 30), np.uint8)
        cells[:cs][written] = (95, 98, 108)
        for w in range(2):
            cells[:cs][seen[w]] = PALETTE[w]
        for w in range(2):
            cells[queues[w]] = (255, 255, 255)
        grid = cells.reshape(rows, width, 3)
        grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
        img = Image.new("RGB", (grid.shape[1], grid.shape[0] + legend_h), (255, 255, 255))
        img.paste(Image.fromarray(grid), (0, 0))
        d = ImageDraw.Draw(img)
        x = 8
        y = grid.shape[0] + legend_h // 2
        for w, warrior in enumerate(warriors):
            d.rectangle((x, y - 6, x + 12, y + 6), fill=tuple(int(c) for c in PALETTE[w]))
            label = f"{warrior.name} ({len(queues[w])} proc)"
            d.text((x + 18, y), label, fill=(20, 20, 20), font=font, anchor="lm")
            x += 26 + int(d.textlength(label, font=font)) + 12
        d.text((img.width - 8, y), f"turn {cycles}/{end}", fill=(90, 90, 90), font=font, anchor="rm")
        out.append(np.asarray(img))
    return np.stack(out)

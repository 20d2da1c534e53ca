"""Replays: who owns each core cell as a battle unfolds, as frames for a GIF or MP4.

The MARS itself records the battle: ``mars.run_round`` with a recording
(``mars.recording``) keeps the last writer of every cell and takes frames of
it, so a replay shows exactly the round the battles run. This module only
chooses the frames and draws them.

Ownership: a cell belongs to the warrior that last wrote it (its code when
loaded, a MOV, an arithmetic result, a DJN, an LDP, an increment or
decrement through an indirect operand); cells nobody has touched stay dark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from primordium.corewar import mars
from primordium.corewar.battle import battle, simulate_round
from primordium.corewar.isa import Settings, Warrior
from primordium.viz.fonts import load_font


@dataclass
class Replay:
    owner: np.ndarray  # int64[frames, core]: last writer, -1 for nobody
    processes: np.ndarray  # int64[frames, core]: warrior with a process queued there, -1 for none
    cycles: np.ndarray  # int64[frames]: cycle of each frame
    core: np.ndarray  # int64[3, core]: final (word, a, b)
    survivors: int
    positions: np.ndarray
    names: list[str]


def replay(
    warriors: Sequence[Warrior], settings: Settings, positions: Sequence[int], *, frames: int = 200
) -> Replay:
    """Replay one round with warriors at ``positions`` (warrior 0 at 0, moving first)."""
    pos = np.asarray(positions, np.int64)

    def run(every: int, last: int):
        # Frames at laps 0, every, 2*every, ... up to `last`, and one at the end.
        rec = mars.recording(settings.core_size, every, last // every + 2)
        end = simulate_round(warriors, pos, settings, record=rec)
        k = int(rec[5][0])
        core = np.stack([end.word, end.a, end.b]).astype(np.int64)
        return k, end.survivors, rec[2], rec[3], rec[4], core

    # A first, coarse pass finds when the round ends, so the frames span the
    # battle itself whether it lasts 80 000 cycles or 900.
    # The second pass is the same round, so it ends at the same lap: its
    # buffers need hold only the frames up to there.
    k, left, owner, proc, cyc, core = run(settings.cycles, settings.cycles)
    last = int(cyc[k - 1])
    every = max(1, -(-last // frames))
    if every < settings.cycles:
        k, left, owner, proc, cyc, core = run(every, last)
    return Replay(owner[:k], proc[:k], cyc[:k], core, int(left), pos, [w.name for w in warriors])


# Colour of warrior k (the gallery's Core War pages use the same order).
COLOURS = np.array(
    [
        [66, 135, 245],
        [245, 96, 66],
        [80, 200, 120],
        [240, 190, 50],
        [190, 110, 230],
        [60, 200, 210],
    ],
    np.uint8,
)


def frames(
    rep: Replay, width: int | None = None, scale: int = 4, legend: bool = True
) -> np.ndarray:
    """uint8[T, H, W, 3]: the core as a grid of cells, coloured by owner, processes bright.

    With ``legend`` each frame carries a strip naming the warriors (with
    their processes at that moment) and the cycle.
    """
    from PIL import Image, ImageDraw

    cs = rep.owner.shape[1]
    width = width or int(np.ceil(np.sqrt(cs * 1.5)))
    height = -(-cs // width)
    t = rep.owner.shape[0]
    img = np.full((t, height * width, 3), 18, np.uint8)
    for k in range(t):
        o = rep.owner[k]
        m = o >= 0
        img[k, :cs][m] = COLOURS[o[m] % len(COLOURS)] // 2 + 20
        p = rep.processes[k]
        mp = p >= 0
        img[k, :cs][mp] = np.minimum(COLOURS[p[mp] % len(COLOURS)].astype(int) + 90, 255).astype(
            np.uint8
        )
    img = img.reshape(t, height, width, 3)
    img = np.repeat(np.repeat(img, scale, axis=1), scale, axis=2)
    if not legend:
        return img
    font, strip = load_font(14), 30
    out = []
    for k in range(t):
        frame = Image.new("RGB", (img.shape[2], img.shape[1] + strip), (255, 255, 255))
        frame.paste(Image.fromarray(img[k]), (0, 0))
        d = ImageDraw.Draw(frame)
        x, y = 8, img.shape[1] + strip // 2
        for w, name in enumerate(rep.names):
            d.rectangle(
                (x, y - 6, x + 12, y + 6), fill=tuple(int(c) for c in COLOURS[w % len(COLOURS)])
            )
            label = f"{name.strip()} ({int((rep.processes[k] == w).sum())} proc)"
            d.text((x + 18, y), label, fill=(20, 20, 20), font=font, anchor="lm")
            x += 30 + int(d.textlength(label, font=font))
        d.text(
            (frame.width - 8, y),
            f"cycle {int(rep.cycles[k])}",
            fill=(90, 90, 90),
            font=font,
            anchor="rm",
        )
        out.append(np.asarray(frame))
    return np.stack(out)


def first_round_positions(
    warriors: Sequence[Warrior], settings: Settings, seed: int = 0
) -> np.ndarray:
    """Where ``battle(..., seed=seed)`` puts the warriors in its first round."""
    first = battle(
        warriors, settings.with_(rounds=1, warriors=len(warriors)), seed=seed, track=False
    )
    return first.positions[0, 0]


def write_replay(
    files: Sequence[str | Path],
    out: str | Path,
    settings: Settings,
    *,
    seed: int = 0,
    frames_n: int = 200,
    fps: float = 20.0,
) -> dict:
    """Assemble the warriors, take round 1's positions from the seed (as ``battle``), write the movie."""
    from primordium.corewar.redcode import assemble_file
    from primordium.viz import save_video

    warriors = [assemble_file(f, settings) for f in files]
    pos = first_round_positions(warriors, settings, seed)
    rep = replay(warriors, settings, pos, frames=frames_n)
    save_video(frames(rep), out, fps=fps)
    return {
        "out": str(out),
        "frames": int(rep.owner.shape[0]),
        "last_cycle": int(rep.cycles[-1]),
        "survivors": rep.survivors,
        "positions": [int(x) for x in pos],
        "names": rep.names,
        "alive": [bool((rep.processes[-1] == w).any()) for w in range(len(warriors))],
    }


__all__ = ["COLOURS", "Replay", "first_round_positions", "frames", "replay", "write_replay"]

"""Replays: who owns each core cell as a battle unfolds, as frames for a GIF or MP4.

The fast kernel in ``mars.py`` keeps no per-cell history, and restarting it
for every frame cannot say *who* wrote a cell. So this module has its own
small stepping kernel, written for clarity rather than speed: the same
semantics as ``mars.run_round`` (operands evaluated A then B, the values read
during evaluation, MOV.I/SEQ.I reading whole words, SPL queueing next first,
pMARS's budget when a warrior dies), plus an ``owner`` array updated on every
write. A test checks that it ends every round with the same core and the
same survivors as ``mars.run_round``.

Ownership: a cell belongs to the warrior that last wrote it (its code when
loaded, a MOV, an arithmetic result, an increment or decrement through an
indirect operand); cells nobody has touched stay dark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from primordium.corewar.battle import battle, pool_arrays
from primordium.corewar.isa import Settings, Warrior
from primordium.corewar.mars import (
    A_INDIRECT,
    A_POSTINC,
    A_PREDEC,
    ADD,
    AMODE_SHIFT,
    B_POSTINC,
    B_PREDEC,
    CMP,
    DAT,
    DIRECT,
    DIV,
    DJN,
    EMPTY_WORD,
    IMMEDIATE,
    JMN,
    JMP,
    JMZ,
    LDP,
    M_A,
    M_AB,
    M_B,
    M_BA,
    M_F,
    M_I,
    M_X,
    MOD,
    MOD_SHIFT,
    MOV,
    MUL,
    OP_SHIFT,
    SEQ,
    SLT,
    SNE,
    SPL,
    STP,
    SUB,
)
from primordium.viz.fonts import load_font


@njit(cache=True)
def _operand(mode, field, pc, core_w, core_a, core_b, owner, w, cs):
    """Evaluate one operand: (address, its A-number, its B-number), with in/decrements applied."""
    if mode == IMMEDIATE:
        return pc, -1, -1  # the caller reads the instruction register
    addr = (pc + field) % cs
    if mode == DIRECT:
        return addr, core_a[addr], core_b[addr]
    ptr = addr
    use_a = mode >= A_INDIRECT
    t = core_a[ptr] if use_a else core_b[ptr]
    if mode == A_PREDEC or mode == B_PREDEC:
        t = (t - 1) % cs
        if use_a:
            core_a[ptr] = t
        else:
            core_b[ptr] = t
        owner[ptr] = w
    addr = (t + ptr) % cs
    va, vb = core_a[addr], core_b[addr]
    if mode == A_POSTINC or mode == B_POSTINC:
        t = (t + 1) % cs
        if use_a:
            core_a[ptr] = t
        else:
            core_b[ptr] = t
        owner[ptr] = w
    return addr, va, vb


@njit(cache=True)
def _pick(mod):
    """Which fields an arithmetic op combines: (uses A->A or B->A, source of A, uses B, source of B).

    Returned as codes: for the target's A field 0 = untouched, 1 = from source A, 2 = from source B;
    likewise for its B field.
    """
    if mod == M_A:
        return 1, 0
    if mod == M_B:
        return 0, 2
    if mod == M_AB:
        return 0, 1
    if mod == M_BA:
        return 2, 0
    if mod == M_X:
        return 2, 1
    return 1, 2  # F, I


@njit(cache=True)
def _arith(op, x, y, cs):
    """(result, ok): ok is False on division by zero."""
    if op == ADD:
        return (x + y) % cs, True
    if op == SUB:
        return (x - y) % cs, True
    if op == MUL:
        return (x * y) % cs, True
    if y == 0:
        return 0, False
    if op == DIV:
        return x // y, True
    return x % y, True


@njit(cache=True)
def replay_round(
    code_w,
    code_a,
    code_b,
    w_off,
    w_len,
    w_start,
    pos,
    cycles,
    max_proc,
    pspace_size,
    every,
    max_frames,
    out_owner,
    out_proc,
    out_cycle,
    out_core,
):
    """Run one round; every ``every`` cycles store owner[cell] and process positions as a frame.

    Returns (frames written, survivors). ``out_core`` gets the final core (word, a, b) for checking.
    """
    n = w_off.shape[0]
    cs = out_core.shape[1]
    core_w = np.full(cs, EMPTY_WORD, np.int64)
    core_a = np.zeros(cs, np.int64)
    core_b = np.zeros(cs, np.int64)
    owner = np.full(cs, -1, np.int64)
    queue = np.zeros((n, max_proc), np.int64)
    head = np.zeros(n, np.int64)
    count = np.ones(n, np.int64)
    alive = np.ones(n, np.bool_)
    # P-space as in a first round: empty, and cell 0 (the last result) reads CORESIZE-1.
    pspace = np.zeros((n, pspace_size), np.int64)
    last = np.full(n, cs - 1, np.int64)
    for w in range(n):
        for k in range(w_len[w]):
            x = (pos[w] + k) % cs
            core_w[x] = code_w[w_off[w] + k]
            core_a[x] = code_a[w_off[w] + k]
            core_b[x] = code_b[w_off[w] + k]
            owner[x] = w
        queue[w, 0] = (pos[w] + w_start[w]) % cs
    frames = 0
    left = n
    budget = n * cycles  # pMARS counts turns, not cycles
    w = 0
    turn_in_cycle = 0
    cycle_no = 0
    while True:
        if turn_in_cycle == 0 and cycle_no % every == 0 and frames < max_frames:
            out_owner[frames] = owner
            out_proc[frames] = -1
            for v in range(n):
                for k in range(count[v]):
                    out_proc[frames, queue[v, (head[v] + k) % max_proc]] = v
            out_cycle[frames] = cycle_no
            frames += 1
        pc = queue[w, head[w]]
        head[w] = (head[w] + 1) % max_proc
        count[w] -= 1
        iw, ira, irb = core_w[pc], core_a[pc], core_b[pc]
        op = iw >> OP_SHIFT
        mod = (iw >> MOD_SHIFT) & 7
        amode = (iw >> AMODE_SHIFT) & 7
        bmode = iw & 7
        addr_a, a_a, a_b = _operand(amode, ira, pc, core_w, core_a, core_b, owner, w, cs)
        if amode == IMMEDIATE:
            a_a, a_b = ira, irb
        addr_b, b_a, b_b = _operand(bmode, irb, pc, core_w, core_a, core_b, owner, w, cs)
        if bmode == IMMEDIATE:
            b_a, b_b = ira, irb
        nextpc = (pc + 1) % cs
        die = False
        jump = -1
        if op == DAT:
            die = True
        elif op == MOV:
            owner[addr_b] = w
            if mod == M_I:
                core_w[addr_b] = core_w[addr_a]
                core_a[addr_b] = a_a
                core_b[addr_b] = a_b
            else:
                ta, tb = _pick(mod)
                src_a, src_b = a_a, a_b
                if ta == 1:
                    core_a[addr_b] = src_a
                elif ta == 2:
                    core_a[addr_b] = src_b
                if tb == 1:
                    core_b[addr_b] = src_a
                elif tb == 2:
                    core_b[addr_b] = src_b
        elif op == ADD or op == SUB or op == MUL or op == DIV or op == MOD:
            ta, tb = _pick(mod)
            owner[addr_b] = w
            # Target A uses the target's A (b_a); target B uses the target's B (b_b).
            if ta != 0:
                r, ok = _arith(op, b_a, a_a if ta == 1 else a_b, cs)
                if ok:
                    core_a[addr_b] = r
                else:
                    die = True
            if tb != 0:
                r, ok = _arith(op, b_b, a_a if tb == 1 else a_b, cs)
                if ok:
                    core_b[addr_b] = r
                else:
                    die = True
        elif op == JMP:
            jump = addr_a
        elif op == JMZ or op == JMN:
            if mod == M_A or mod == M_BA:
                z = b_a == 0
            elif mod == M_B or mod == M_AB:
                z = b_b == 0
            elif op == JMZ:
                z = b_a == 0 and b_b == 0
            else:
                z = not (b_a != 0 or b_b != 0)
            if z == (op == JMZ):
                jump = addr_a
        elif op == DJN:
            owner[addr_b] = w
            if mod == M_A or mod == M_BA:
                core_a[addr_b] = (core_a[addr_b] - 1) % cs
                go = b_a != 1
            elif mod == M_B or mod == M_AB:
                core_b[addr_b] = (core_b[addr_b] - 1) % cs
                go = b_b != 1
            else:
                core_b[addr_b] = (core_b[addr_b] - 1) % cs
                core_a[addr_b] = (core_a[addr_b] - 1) % cs
                go = not (b_a == 1 and b_b == 1)
            if go:
                jump = addr_a
        elif op == SPL:
            queue[w, (head[w] + count[w]) % max_proc] = nextpc
            count[w] += 1
            jump = addr_a if count[w] < max_proc else -2
        elif op == SEQ or op == CMP or op == SNE:
            if mod == M_A:
                eq = b_a == a_a
            elif mod == M_B:
                eq = b_b == a_b
            elif mod == M_AB:
                eq = b_b == a_a
            elif mod == M_BA:
                eq = b_a == a_b
            elif mod == M_X:
                eq = b_b == a_a and b_a == a_b
            elif mod == M_F:
                eq = b_a == a_a and b_b == a_b
            else:
                eq = core_w[addr_b] == core_w[addr_a] and b_a == a_a and b_b == a_b
            if eq != (op == SNE):
                jump = (nextpc + 1) % cs
        elif op == SLT:
            if mod == M_A:
                lt = a_a < b_a
            elif mod == M_B:
                lt = a_b < b_b
            elif mod == M_AB:
                lt = a_a < b_b
            elif mod == M_BA:
                lt = a_b < b_a
            elif mod == M_X:
                lt = a_a < b_b and a_b < b_a
            else:
                lt = a_a < b_a and a_b < b_b
            if lt:
                jump = (nextpc + 1) % cs
        elif op == LDP:
            idx = a_a if mod == M_A or mod == M_AB else a_b
            j = idx % pspace_size
            v = last[w] if j == 0 else pspace[w, j]
            owner[addr_b] = w
            if mod == M_A or mod == M_BA:
                core_a[addr_b] = v
            else:
                core_b[addr_b] = v
        elif op == STP:
            v = a_a if mod == M_A or mod == M_AB else a_b
            idx = b_a if mod == M_A or mod == M_BA else b_b
            j = idx % pspace_size
            if j == 0:
                last[w] = v
            else:
                pspace[w, j] = v
        if die:
            if count[w] == 0:
                alive[w] = False
                budget = budget - 1 - (budget - 1) // left
                left -= 1
                if left < 2:
                    break
        elif jump != -2:
            queue[w, (head[w] + count[w]) % max_proc] = nextpc if jump == -1 else jump
            count[w] += 1
        # Next living warrior; a full lap of the living is one cycle.
        nxt = (w + 1) % n
        while not alive[nxt]:
            nxt = (nxt + 1) % n
        if nxt <= w:
            cycle_no += 1
            turn_in_cycle = 0
        else:
            turn_in_cycle += 1
        w = nxt
        budget -= 1
        if budget <= 0:
            break
    if frames < max_frames:
        out_owner[frames] = owner
        out_proc[frames] = -1
        for v in range(n):
            for k in range(count[v]):
                out_proc[frames, queue[v, (head[v] + k) % max_proc]] = v
        out_cycle[frames] = cycle_no
        frames += 1
    out_core[0] = core_w
    out_core[1] = core_a
    out_core[2] = core_b
    return frames, left


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
    code_w, code_a, code_b, offs, lens, starts, _ = pool_arrays(warriors, settings)
    cs = settings.core_size
    pos = np.asarray(positions, np.int64)

    def run(every: int):
        cap = settings.cycles // every + 2
        owner = np.empty((cap, cs), np.int64)
        proc = np.empty((cap, cs), np.int64)
        cyc = np.empty(cap, np.int64)
        core = np.empty((3, cs), np.int64)
        k, left = replay_round(
            code_w.astype(np.int64),
            code_a.astype(np.int64),
            code_b.astype(np.int64),
            offs,
            lens,
            starts,
            pos,
            settings.cycles,
            settings.processes,
            settings.pspace,
            every,
            cap,
            owner,
            proc,
            cyc,
            core,
        )
        return k, left, owner, proc, cyc, core

    # A first, coarse pass finds when the round ends, so the frames span the
    # battle itself whether it lasts 80 000 cycles or 900.
    k, left, owner, proc, cyc, core = run(settings.cycles)
    every = max(1, -(-int(cyc[k - 1]) // frames))
    if every < settings.cycles:
        k, left, owner, proc, cyc, core = run(every)
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

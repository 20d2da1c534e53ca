"""The MARS: numba kernels that run Core War battles with pMARS 0.9.2's semantics.

Everything here is a pure function of arrays: warriors' code in, per-round
outcomes out. ``battle.py`` wraps it in a friendly API.

Semantics follow the ICWS'94 draft as pMARS implements it (with its '94
extensions: SEQ/SNE/NOP, the A-field modes ``* { }``, P-space):

* An instruction is fetched into a register; both operands are evaluated in
  order A then B, each reading core *after* the previous operand's
  increments. The values an opcode uses are those read during evaluation,
  while ``MOV.I`` and ``SEQ.I`` read the instruction word from core as it is
  after evaluation.
* One FIFO process queue per warrior. ``SPL`` queues the next instruction and
  then, if the warrior has room, the target. A process that executes ``DAT``
  or divides by zero is removed.
* Warriors take turns, one instruction each. A round lasts ``cycles`` turns of
  every warrior; when one dies, the remaining budget is shrunk so the others
  keep the same number of turns each (pMARS's bookkeeping, reproduced exactly).
  pMARS ends a round when one warrior is left; with ``all_dead`` the round
  instead goes on until the cycle limit or until every warrior is dead, as
  the public Digital Red Queen code runs its melees (each warrior then gets
  exactly ``cycles`` turns unless it dies). The option only changes what
  happens at a death, so it costs nothing on the per-instruction path.
* Coverage counts the distinct cells a process was queued at by execution;
  the entry cell counts only once a process is queued there again, as the
  DRQ code counts it (it marks cells in its enqueue, and loading a warrior
  does not enqueue).
* Starting positions come from pMARS's own generator (Park-Miller), so a seed
  or a fixed position gives the same positions as pMARS; the warrior that
  moves first rotates every round.
* A round can also be recorded for a replay (``recording``): the last
  writer of every cell and frames of it. That is a separate numba
  specialisation of ``run_round``, so battles pay nothing for it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# The word layout and numbers live in words.py (numba-free, for the callers);
# the ahead-of-time build (mars_aot.py) hashes that file with this one.
from primordium.corewar.words import (  # noqa: F401 - pack_code, EMPTY_WORD re-exported
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
    NOP,
    OP_SHIFT,
    RNG_MODULUS,
    SEQ,
    SLT,
    SNE,
    SPL,
    STP,
    SUB,
    pack_code,
)

# Unsigned indices spare numba's negative-index fix-up on every core access.
U = np.uint64


@njit(cache=True)
def rng(seed):
    """pMARS's generator: the Park-Miller minimal standard, Schrage's method."""
    t = 16807 * (seed % 127773) - 2836 * (seed // 127773)
    if t < 0:
        t += RNG_MODULUS
    return t


@njit(cache=True)
def _positions_multi(pos, n, core_size, sep, seed):
    """Random non-overlapping positions for warriors 1..n-1 (warrior 0 sits at 0).

    pMARS's scheme: draw positions one at a time, redrawing on overlap and
    backtracking a few times; if that keeps failing, fall back to spacing the
    warriors evenly at random offsets. Returns the new seed.
    """
    k = 1
    retries1 = 20
    retries2 = 4
    failed = False
    while k < n:
        seed = rng(seed)
        pos[k] = seed % (core_size - 2 * sep + 1) + sep
        i = 1
        while i < k:
            d = pos[k] - pos[i]
            if d < 0:
                d = -d
            if d < sep:
                break
            i += 1
        if i == k:
            k += 1
        else:
            if retries2 == 0:
                failed = True
                break
            if retries1 == 0:
                k = i
                retries2 -= 1
                retries1 = 20
            else:
                retries1 -= 1
    if failed:
        room = core_size - sep * n + 1
        for i in range(1, n):
            seed = rng(seed)
            t = seed % room
            j = i - 1
            while j > 0:
                if t > pos[j]:
                    break
                pos[j + 1] = pos[j]
                j -= 1
            pos[j + 1] = t
        t = sep
        for i in range(1, n):
            pos[i] += t
            t += sep
        for i in range(1, n):
            seed = rng(seed)
            j = seed % (n - i) + i
            t = pos[j]
            pos[j] = pos[i]
            pos[i] = t
    return seed


@njit(cache=True)
def _pspace_get(pspace, row, idx, last_result):
    j = idx % pspace.shape[1]
    if j == 0:
        return last_result
    return pspace[row, j]


@njit(cache=True)
def _pspace_set(pspace, row, idx, value, last_result):
    """Returns the (possibly updated) last result: cell 0 is that value."""
    j = idx % pspace.shape[1]
    if j == 0:
        return value
    pspace[row, j] = value
    return last_result


def recording(core_size, every, max_frames):
    """Buffers for ``run_round(..., rec=...)`` to record a round for a replay.

    ``(owner, every, frame_owner, frame_process, frame_lap, n_frames)``:
    ``owner[cell]`` is the warrior that last wrote the cell (loaded it, MOV,
    arithmetic, DJN, LDP, or an in/decrement through an indirect operand),
    -1 if none. At the start of every ``every``-th lap, and once at the end,
    a frame stores a copy of ``owner``, the warrior with a process queued at
    each cell (-1 for none; where two share a cell, the later warrior shows)
    and the lap number; at most ``max_frames`` frames, ``n_frames[0]`` taken.
    """
    return (
        np.full(core_size, -1, np.int64),
        np.int64(every),
        np.empty((max_frames, core_size), np.int64),
        np.empty((max_frames, core_size), np.int64),
        np.empty(max_frames, np.int64),
        np.zeros(1, np.int64),
    )


@njit(cache=True)
def _take_frame(rec, k, lap, queue, qhead, qcount, max_proc):
    rec[2][k] = rec[0]
    proc = rec[3][k]
    proc[:] = -1
    for v in range(qcount.shape[0]):
        for j in range(qcount[v]):
            h = qhead[v] + j
            if h >= max_proc:
                h -= max_proc
            proc[queue[v, h]] = v
    rec[4][k] = lap


@njit(cache=True)
def run_round(
    core_w,
    core_a,
    core_b,  # the core, overwritten
    queue,
    qhead,
    qcount,  # per-warrior process queues, overwritten
    code_w,
    code_a,
    code_b,
    w_off,
    w_len,
    w_start,  # all warriors' code, concatenated
    pos,
    starter,
    cycles,
    max_proc,
    pspace,
    ps_row,
    last_result,  # P-space rows and each warrior's last result (updated)
    track,
    seen,  # coverage tracking: seen[U(w), U(addr)]
    out_exec,
    out_spawn,
    out_cover,
    out_death,  # per-warrior outputs of this round
    all_dead=False,  # run until the cycle limit or no warrior is left (not pMARS's one survivor)
    rec=None,  # a recording (see ``recording``), or None: then no recording code is compiled in
):
    """Run one round; returns the number of warriors alive at its end.

    With ``rec`` the round also keeps the last writer of every cell and
    takes frames of it (see ``recording``). ``rec=None`` is its own numba
    specialisation: every ``rec is not None`` branch is pruned before typing,
    so the battles' path carries none of it.
    """
    n = w_off.shape[0]
    cs = core_w.shape[0]
    cs1 = cs - 1
    for i in range(cs):
        core_w[U(i)] = EMPTY_WORD
        core_a[U(i)] = 0
        core_b[U(i)] = 0
    nxt = np.empty(n, np.int64)
    for w in range(n):
        for k in range(w_len[w]):
            addr = pos[w] + k
            if addr >= cs:
                addr -= cs
            core_w[U(addr)] = code_w[w_off[w] + k]
            core_a[U(addr)] = code_a[w_off[w] + k]
            core_b[U(addr)] = code_b[w_off[w] + k]
        entry = pos[w] + w_start[w]
        if entry >= cs:
            entry -= cs
        queue[U(w), U(0)] = entry
        qhead[w] = 0
        qcount[w] = 1
        out_exec[w] = 0
        out_spawn[w] = 1
        out_cover[w] = 0
        out_death[w] = 0
        nxt[w] = w + 1 if w + 1 < n else 0
        if rec is not None:
            for k in range(w_len[w]):
                addr = pos[w] + k
                if addr >= cs:
                    addr -= cs
                rec[0][U(addr)] = w
        if track:
            for a in range(cs):
                seen[U(w), U(a)] = 0

    w = starter
    prev = starter - 1 if starter > 0 else n - 1
    left = n
    cycle = n * cycles
    # Recording: laps of the living warriors (one lap ends each time the turn
    # passes back to a lower-numbered warrior) and frames taken so far.
    lap = 0
    lap_start = True
    n_frames = 0

    while True:
        # A bare `rec is not None` is what numba prunes; keep it its own `if`.
        if rec is not None:  # noqa: SIM102
            if lap_start and lap % rec[1] == 0 and n_frames < rec[4].shape[0]:
                _take_frame(rec, n_frames, lap, queue, qhead, qcount, max_proc)
                n_frames += 1
        # Fetch the next process of warrior w.
        h = qhead[U(w)]
        pc = queue[U(w), U(h)]
        h += 1
        if h == max_proc:
            h = 0
        qhead[U(w)] = h
        qcount[U(w)] -= 1
        out_exec[U(w)] += 1

        iw = core_w[U(pc)]
        ira = core_a[U(pc)]
        irb = core_b[U(pc)]
        op = iw >> OP_SHIFT
        mod = (iw >> MOD_SHIFT) & 7
        amode = (iw >> AMODE_SHIFT) & 7
        bmode = iw & 7

        # The A and B operand blocks are one logic written twice, on purpose:
        # as one numba helper (inline="always", or left to LLVM) the kernel
        # ran 2.4x (3.3x) slower on human warriors (BENCHMARKS.md, Core War).
        # --- A operand: pointer addr_a; aa = its A-number, ab_ = its B-number.
        if amode == IMMEDIATE:
            addr_a = pc
            a_a = ira
            a_b = irb
        else:
            addr_a = ira + pc
            if addr_a >= cs:
                addr_a -= cs
            if amode == DIRECT:
                a_a = core_a[U(addr_a)]
                a_b = core_b[U(addr_a)]
            else:
                ptr = addr_a
                if amode >= A_INDIRECT:
                    t = core_a[U(ptr)]
                    if amode == A_PREDEC:
                        t -= 1
                        if t < 0:
                            t = cs1
                        core_a[U(ptr)] = t
                        if rec is not None:
                            rec[0][U(ptr)] = w
                else:
                    t = core_b[U(ptr)]
                    if amode == B_PREDEC:
                        t -= 1
                        if t < 0:
                            t = cs1
                        core_b[U(ptr)] = t
                        if rec is not None:
                            rec[0][U(ptr)] = w
                addr_a = t + ptr
                if addr_a >= cs:
                    addr_a -= cs
                a_a = core_a[U(addr_a)]
                a_b = core_b[U(addr_a)]
                if amode == A_POSTINC:
                    t += 1
                    if t == cs:
                        t = 0
                    core_a[U(ptr)] = t
                    if rec is not None:
                        rec[0][U(ptr)] = w
                elif amode == B_POSTINC:
                    t += 1
                    if t == cs:
                        t = 0
                    core_b[U(ptr)] = t
                    if rec is not None:
                        rec[0][U(ptr)] = w

        # --- B operand: pointer addr_b; b_a, b_b its numbers as read now.
        if bmode == IMMEDIATE:
            addr_b = pc
            b_a = ira
            b_b = irb
        else:
            addr_b = irb + pc
            if addr_b >= cs:
                addr_b -= cs
            if bmode == DIRECT:
                b_a = core_a[U(addr_b)]
                b_b = core_b[U(addr_b)]
            else:
                ptr = addr_b
                if bmode >= A_INDIRECT:
                    t = core_a[U(ptr)]
                    if bmode == A_PREDEC:
                        t -= 1
                        if t < 0:
                            t = cs1
                        core_a[U(ptr)] = t
                        if rec is not None:
                            rec[0][U(ptr)] = w
                else:
                    t = core_b[U(ptr)]
                    if bmode == B_PREDEC:
                        t -= 1
                        if t < 0:
                            t = cs1
                        core_b[U(ptr)] = t
                        if rec is not None:
                            rec[0][U(ptr)] = w
                addr_b = t + ptr
                if addr_b >= cs:
                    addr_b -= cs
                b_a = core_a[U(addr_b)]
                b_b = core_b[U(addr_b)]
                if bmode == A_POSTINC:
                    t += 1
                    if t == cs:
                        t = 0
                    core_a[U(ptr)] = t
                    if rec is not None:
                        rec[0][U(ptr)] = w
                elif bmode == B_POSTINC:
                    t += 1
                    if t == cs:
                        t = 0
                    core_b[U(ptr)] = t
                    if rec is not None:
                        rec[0][U(ptr)] = w

        # --- Execute. `nextpc` is queued unless the process dies or jumps.
        nextpc = pc + 1
        if nextpc == cs:
            nextpc = 0
        die = False
        jump = -1  # an address to queue instead of nextpc

        if op == MOV:
            if rec is not None:
                rec[0][U(addr_b)] = w
            if mod == M_I:
                core_w[U(addr_b)] = core_w[U(addr_a)]
                core_a[U(addr_b)] = a_a
                core_b[U(addr_b)] = a_b
            elif mod == M_A:
                core_a[U(addr_b)] = a_a
            elif mod == M_B:
                core_b[U(addr_b)] = a_b
            elif mod == M_AB:
                core_b[U(addr_b)] = a_a
            elif mod == M_BA:
                core_a[U(addr_b)] = a_b
            elif mod == M_F:
                core_a[U(addr_b)] = a_a
                core_b[U(addr_b)] = a_b
            else:  # X
                core_b[U(addr_b)] = a_a
                core_a[U(addr_b)] = a_b
        elif op == DAT:
            die = True
        elif op == SPL:
            # Queue next first, then the new process if there is room.
            tail = qhead[U(w)] + qcount[U(w)]
            if tail >= max_proc:
                tail -= max_proc
            queue[U(w), U(tail)] = nextpc
            qcount[U(w)] += 1
            if track and seen[U(w), U(nextpc)] == 0:
                seen[U(w), U(nextpc)] = 1
                out_cover[U(w)] += 1
            if qcount[U(w)] < max_proc:
                jump = addr_a
                out_spawn[U(w)] += 1
            else:
                jump = -2  # nothing more to queue
        elif op == JMP:
            jump = addr_a
        elif op == ADD or op == SUB or op == MUL:
            if rec is not None:
                rec[0][U(addr_b)] = w
            # r_a, r_b: the new A- and B-numbers of the target, -1 if untouched.
            if mod == M_A:
                xa, ya, xb, yb = b_a, a_a, -1, -1
            elif mod == M_B:
                xa, ya, xb, yb = -1, -1, b_b, a_b
            elif mod == M_AB:
                xa, ya, xb, yb = -1, -1, b_b, a_a
            elif mod == M_BA:
                xa, ya, xb, yb = b_a, a_b, -1, -1
            elif mod == M_X:
                xa, ya, xb, yb = b_a, a_b, b_b, a_a
            else:  # F, I
                xa, ya, xb, yb = b_a, a_a, b_b, a_b
            if op == ADD:
                if xa >= 0:
                    r = xa + ya
                    if r >= cs:
                        r -= cs
                    core_a[U(addr_b)] = r
                if xb >= 0:
                    r = xb + yb
                    if r >= cs:
                        r -= cs
                    core_b[U(addr_b)] = r
            elif op == SUB:
                if xa >= 0:
                    r = xa - ya
                    if r < 0:
                        r += cs
                    core_a[U(addr_b)] = r
                if xb >= 0:
                    r = xb - yb
                    if r < 0:
                        r += cs
                    core_b[U(addr_b)] = r
            else:
                if xa >= 0:
                    core_a[U(addr_b)] = (np.int64(xa) * ya) % cs
                if xb >= 0:
                    core_b[U(addr_b)] = (np.int64(xb) * yb) % cs
        elif op == DIV or op == MOD:
            if rec is not None:
                rec[0][U(addr_b)] = w
            # Both halves of .F/.I/.X are done where the divisor is non-zero;
            # any zero divisor then kills the process (pMARS's order).
            if mod == M_A:
                xa, ya, xb, yb = b_a, a_a, -1, -1
            elif mod == M_B:
                xa, ya, xb, yb = -1, -1, b_b, a_b
            elif mod == M_AB:
                xa, ya, xb, yb = -1, -1, b_b, a_a
            elif mod == M_BA:
                xa, ya, xb, yb = b_a, a_b, -1, -1
            elif mod == M_X:
                xa, ya, xb, yb = b_a, a_b, b_b, a_a
            else:
                xa, ya, xb, yb = b_a, a_a, b_b, a_b
            if xa >= 0:
                if ya == 0:
                    die = True
                else:
                    core_a[U(addr_b)] = xa // ya if op == DIV else xa % ya
            if xb >= 0:
                if yb == 0:
                    die = True
                else:
                    core_b[U(addr_b)] = xb // yb if op == DIV else xb % yb
        elif op == DJN:
            if rec is not None:
                rec[0][U(addr_b)] = w
            if mod == M_A or mod == M_BA:
                t = core_a[U(addr_b)] - 1
                if t < 0:
                    t = cs1
                core_a[U(addr_b)] = t
                if b_a != 1:
                    jump = addr_a
            elif mod == M_B or mod == M_AB:
                t = core_b[U(addr_b)] - 1
                if t < 0:
                    t = cs1
                core_b[U(addr_b)] = t
                if b_b != 1:
                    jump = addr_a
            else:
                t = core_b[U(addr_b)] - 1
                if t < 0:
                    t = cs1
                core_b[U(addr_b)] = t
                t = core_a[U(addr_b)] - 1
                if t < 0:
                    t = cs1
                core_a[U(addr_b)] = t
                if not (b_a == 1 and b_b == 1):
                    jump = addr_a
        elif op == JMZ:
            if mod == M_A or mod == M_BA:
                z = b_a == 0
            elif mod == M_B or mod == M_AB:
                z = b_b == 0
            else:
                z = b_a == 0 and b_b == 0
            if z:
                jump = addr_a
        elif op == JMN:
            if mod == M_A or mod == M_BA:
                nz = b_a != 0
            elif mod == M_B or mod == M_AB:
                nz = b_b != 0
            else:
                nz = b_a != 0 or b_b != 0
            if nz:
                jump = addr_a
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
                eq = core_w[U(addr_b)] == core_w[U(addr_a)] and b_a == a_a and b_b == a_b
            if eq != (op == SNE):
                jump = nextpc + 1
                if jump == cs:
                    jump = 0
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
                jump = nextpc + 1
                if jump == cs:
                    jump = 0
        elif op == NOP:
            pass
        elif op == LDP:
            if rec is not None:
                rec[0][U(addr_b)] = w
            row = ps_row[U(w)]
            if mod == M_A:
                core_a[U(addr_b)] = _pspace_get(pspace, row, a_a, last_result[U(w)])
            elif mod == M_AB:
                core_b[U(addr_b)] = _pspace_get(pspace, row, a_a, last_result[U(w)])
            elif mod == M_BA:
                core_a[U(addr_b)] = _pspace_get(pspace, row, a_b, last_result[U(w)])
            else:
                core_b[U(addr_b)] = _pspace_get(pspace, row, a_b, last_result[U(w)])
        elif op == STP:
            row = ps_row[U(w)]
            if mod == M_A:
                last_result[U(w)] = _pspace_set(pspace, row, b_a, a_a, last_result[U(w)])
            elif mod == M_AB:
                last_result[U(w)] = _pspace_set(pspace, row, b_b, a_a, last_result[U(w)])
            elif mod == M_BA:
                last_result[U(w)] = _pspace_set(pspace, row, b_a, a_b, last_result[U(w)])
            else:
                last_result[U(w)] = _pspace_set(pspace, row, b_b, a_b, last_result[U(w)])

        if die:
            if qcount[U(w)] == 0:
                out_death[U(w)] = left
                if all_dead:
                    # Drop exactly the turns it will not take, so every other
                    # warrior still gets `cycles` turns.
                    cycle -= cycles - out_exec[U(w)]
                    left -= 1
                    if left == 0:
                        break
                else:
                    # pMARS: shrink the remaining budget so that the survivors
                    # keep the same number of turns each.
                    cycle = cycle - 1 - (cycle - 1) // left
                    left -= 1
                    if left < 2:
                        break
                nxt[U(prev)] = nxt[U(w)]
                if rec is not None:
                    lap_start = nxt[U(w)] <= w
                    if lap_start:
                        lap += 1
                w = nxt[U(w)]
                cycle -= 1
                if cycle <= 0:
                    break
                continue
        elif jump != -2:
            target = nextpc if jump == -1 else jump
            tail = qhead[U(w)] + qcount[U(w)]
            if tail >= max_proc:
                tail -= max_proc
            queue[U(w), U(tail)] = target
            qcount[U(w)] += 1
            if track and seen[U(w), U(target)] == 0:
                seen[U(w), U(target)] = 1
                out_cover[U(w)] += 1

        prev = w
        if rec is not None:
            lap_start = nxt[U(w)] <= w
            if lap_start:
                lap += 1
        w = nxt[U(w)]
        cycle -= 1
        if cycle <= 0:
            break

    if rec is not None:
        if n_frames < rec[4].shape[0]:
            _take_frame(rec, n_frames, lap, queue, qhead, qcount, max_proc)
            n_frames += 1
        rec[5][0] = n_frames
    for i in range(n):
        if qcount[i] > 0:
            last_result[i] = left
        else:
            last_result[i] = 0
    return left


@njit(cache=True)
def run_battle(
    code_w,
    code_a,
    code_b,
    w_off,
    w_len,
    w_start,
    ps_row,
    n_pspace,
    core_size,
    cycles,
    max_proc,
    sep,
    pspace_size,
    rounds,
    seed,
    track,
    out_alive,
    out_death,
    out_exec,
    out_spawn,
    out_cover,
    out_pos,
    all_dead,
    given_pos,
):
    """Run ``rounds`` rounds of one battle; outputs are [rounds, warriors] arrays.

    ``seed`` is pMARS's generator state: for two warriors the second one's
    first position is ``sep + seed % (core_size + 1 - 2 * sep)``. A non-empty
    ``given_pos[rounds, warriors]`` loads the warriors there instead (the
    seed is then unused).
    """
    n = w_off.shape[0]
    core_w = np.empty(core_size, np.int32)
    core_a = np.empty(core_size, np.int32)
    core_b = np.empty(core_size, np.int32)
    queue = np.empty((n, max_proc), np.int32)
    qhead = np.zeros(n, np.int64)
    qcount = np.zeros(n, np.int64)
    pspace = np.zeros((n_pspace, pspace_size), np.int32)
    last_result = np.full(n, core_size - 1, np.int32)
    seen = np.zeros((n if track else 1, core_size if track else 1), np.uint8)
    pos = np.zeros(n, np.int64)
    ex = np.empty(n, np.int64)
    sp = np.empty(n, np.int64)
    cv = np.empty(n, np.int64)
    dt = np.empty(n, np.int64)
    # int64, not the literal 0: numba would first compile run_round for a
    # constant 0 and then again for int64 (measured 7 s of extra compile).
    starter = np.int64(0)
    for r in range(rounds):
        if given_pos.shape[0] > 0:
            for i in range(n):
                pos[i] = given_pos[r, i]
        elif n == 2:
            pos[1] = sep + seed % (core_size + 1 - 2 * sep)
            seed = rng(seed)
        elif n > 2:
            seed = _positions_multi(pos, n, core_size, sep, seed)
        run_round(
            core_w,
            core_a,
            core_b,
            queue,
            qhead,
            qcount,
            code_w,
            code_a,
            code_b,
            w_off,
            w_len,
            w_start,
            pos,
            starter,
            cycles,
            max_proc,
            pspace,
            ps_row,
            last_result,
            track,
            seen,
            ex,
            sp,
            cv,
            dt,
            all_dead,
        )
        for i in range(n):
            out_alive[r, i] = qcount[i] > 0
            out_death[r, i] = dt[i]
            out_exec[r, i] = ex[i]
            out_spawn[r, i] = sp[i]
            out_cover[r, i] = cv[i]
            out_pos[r, i] = pos[i]
        starter += 1
        if starter == n:
            starter = 0


@njit(cache=True, parallel=True)
def run_battles(
    code_w,
    code_a,
    code_b,
    pool_off,
    pool_len,
    pool_start,
    pool_pin,
    battles,
    seeds,
    core_size,
    cycles,
    max_proc,
    sep,
    pspace_size,
    rounds,
    track,
    out_alive,
    out_death,
    out_exec,
    out_spawn,
    out_cover,
    out_pos,
    all_dead,
    given_pos,
):
    """Many battles at once, spread over all cores.

    ``battles[b]`` lists indices into the warrior pool; ``pool_pin[k]`` is the
    warrior's PIN or -1. Outputs are [battles, rounds, warriors]; so is
    ``given_pos``, the positions to load at (shape [battles, 0, 0]: pMARS's,
    from ``seeds``).
    """
    nb, n = battles.shape
    for b in prange(nb):
        idx = battles[b]
        w_off = np.empty(n, np.int64)
        w_len = np.empty(n, np.int64)
        w_start = np.empty(n, np.int64)
        ps_row = np.empty(n, np.int64)
        n_ps = np.int64(0)  # not a literal 0: see run_battle's starter
        for i in range(n):
            k = idx[i]
            w_off[i] = pool_off[k]
            w_len[i] = pool_len[k]
            w_start[i] = pool_start[k]
            # Warriors with the same PIN share one P-space; others get their own.
            ps_row[i] = -1
            if pool_pin[k] >= 0:
                for j in range(i):
                    if pool_pin[idx[j]] == pool_pin[k]:
                        ps_row[i] = ps_row[j]
                        break
            if ps_row[i] < 0:
                ps_row[i] = n_ps
                n_ps += 1
        run_battle(
            code_w,
            code_a,
            code_b,
            w_off,
            w_len,
            w_start,
            ps_row,
            n_ps,
            core_size,
            cycles,
            max_proc,
            sep,
            pspace_size,
            rounds,
            seeds[b],
            track,
            out_alive[b],
            out_death[b],
            out_exec[b],
            out_spawn[b],
            out_cover[b],
            out_pos[b],
            all_dead,
            given_pos[b],
        )

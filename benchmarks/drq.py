"""DRQ throughput: candidate evaluations per second at the paper's settings, beside the DRQ code's own.

One evaluation = the candidate in a melee with 1 + K opponents (the DRQ
code's imp and K = 20 past champions, so 22 warriors in one core), R = 20
battle rounds, core 8000, 80000 cycles, 8000 processes, every round run to
the cycle limit (``until="all_dead"``) with the DRQ placements: exactly
``redqueen.fitness.evaluate``. The champions and candidates are LLM-written
warriors from ../shared/reference/drq/corewar/gpt_warriors (what DRQ
champions are), in file order, those both assemblers accept.

The DRQ code's own evaluation (``corewar_util.run_single_round``, its pure
Python MARS, imported from ../shared/reference/drq) needs minutes per
80000-cycle round of 22 warriors, so it runs the first ``--ref-cycles``
cycles of ``--ref-rounds`` rounds of the first candidate, and primordium runs
exactly the same truncated rounds: that ratio is measured. The DRQ code's
evaluations per second at the paper's settings are extrapolated from it
(cost per cycle times 80000 cycles times 20 rounds; its cost per cycle only
falls as warriors die, so this flatters it when they do).

    python benchmarks/drq.py [--candidates 8] [--repeat 2] [--ref-cycles 2000] [--ref-rounds 2] [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numba
import numpy as np

from primordium.corewar import Settings, assemble_file
from primordium.corewar.battle import drq_positions, run_battles
from primordium.errors import PrimordiumError
from primordium.redqueen.fitness import drq_round_seeds, evaluate, melee

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRIMORDIUM_SHARED", REPO.parent / "shared"))
DRQ = SHARED / "reference" / "drq"
K = 20
R = 20


def reference():
    """The DRQ code's corewar_util (it needs tqdm), or exit with the reason."""
    if not DRQ.is_dir():
        sys.exit(f"the DRQ reference is not at {DRQ} (set PRIMORDIUM_SHARED)")
    sys.path[:0] = [str(DRQ / "src"), str(DRQ / "corewar")]
    try:
        import corewar_util
    finally:
        del sys.path[:2]
    return corewar_util


def warriors(ref, n_cand: int, s: Settings):
    """(path, ours, theirs) for the imp + K champions and n_cand candidates."""
    sim = ref.SimulationArgs()
    usable = []
    files = [DRQ / "human_warriors" / "imp.red"] + sorted(
        (DRQ / "corewar" / "gpt_warriors").glob("*.red"),
        key=lambda p: tuple(map(int, p.stem.split("_"))),
    )
    for f in files:
        try:
            usable.append((f, assemble_file(f, s), ref.parse_warrior_from_file(sim, f)[1]))
        except (PrimordiumError, Exception):
            continue
        if len(usable) == 1 + K + n_cand:
            break
    if len(usable) < 1 + K + n_cand:
        sys.exit(f"only {len(usable)} usable warriors in {DRQ}")
    return usable[1 + K :], usable[: 1 + K]


def ours(cands, opps, s: Settings, threads: int) -> float:
    numba.set_num_threads(threads)
    t = time.perf_counter()
    evs = evaluate(
        [w for _, w, _ in cands], [w for _, w, _ in opps], s, drq_round_seeds(len(cands), R)
    )
    dt = time.perf_counter() - t
    assert len(evs) == len(cands)
    return dt


def instructions(cands, opps, s: Settings) -> int:
    """Instructions one batch executes, counted by running the same rows once more."""
    pool = [w for _, w, _ in cands] + [w for _, w, _ in opps]
    n = 1 + len(opps)
    rows = np.array(
        [[k] + list(range(len(cands), len(pool))) for k in range(len(cands)) for _ in range(R)]
    )
    pos = np.array(
        [
            [drq_positions([pool[i].length for i in row], s.core_size, s.distance, r)]
            for row, r in zip(rows, [r for _ in cands for r in range(R)], strict=False)
        ]
    )
    res = run_battles(
        pool,
        rows,
        s.with_(rounds=1, warriors=n),
        np.zeros(len(rows), np.int64),
        track=True,
        until="all_dead",
        positions=pos,
    )
    return int(res.executed.sum())


def same_rounds(ref, cand, opps, cycles: int, rounds: int, repeat: int) -> tuple[float, float]:
    """Seconds for the first ``rounds`` rounds of one melee cut at ``cycles``: (DRQ code, primordium 1 thread)."""
    sim = ref.SimulationArgs(rounds=rounds, cycles=cycles)
    theirs = [cand[2]] + [w for _, _, w in opps]
    t = time.perf_counter()
    for r in range(rounds):
        ref.run_single_round(sim, theirs, r)
    t_ref = time.perf_counter() - t
    s = Settings(cycles=cycles)
    numba.set_num_threads(1)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        melee([cand[1]], [w for _, w, _ in opps], s, drq_round_seeds(1, rounds))
        best = min(best, time.perf_counter() - t)
    return t_ref, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--ref-cycles", type=int, default=2000, help="cycles of each round the DRQ code runs"
    )
    ap.add_argument("--ref-rounds", type=int, default=2, help="rounds the DRQ code runs")
    ap.add_argument("--update", type=Path, help="write the table into this BENCHMARKS.md section")
    args = ap.parse_args()
    ref = reference()
    s = Settings(warriors=K + 2)
    cands, opps = warriors(ref, args.candidates, s)
    n = len(cands)
    ours(cands[:1], opps, s.with_(cycles=100), 1)  # compile / load the cache outside the timing
    melee([cands[0][1]], [w for _, w, _ in opps], s.with_(cycles=100), drq_round_seeds(1, 1))
    instr = instructions(cands, opps, s)
    rows = []
    for threads in (1, 2):
        best = min(ours(cands, opps, s, threads) for _ in range(args.repeat))
        rows.append(
            (
                f"primordium, {threads} numba thread{'s' if threads > 1 else ''}",
                best,
                n / best,
                f"{instr / best / 1e6:.0f}",
            )
        )
    t_ref, t_ours = same_rounds(ref, cands[0], opps, args.ref_cycles, args.ref_rounds, args.repeat)
    scale = (s.cycles / args.ref_cycles) * (R / args.ref_rounds)
    est = t_ref * scale
    rows.append(("DRQ code (pure Python MARS), 1 process, extrapolated", est, 1 / est, "-"))
    base = rows[0][1] / n
    lines = [
        f"Melee of 1 candidate + {len(opps)} opponents (the DRQ imp + {K} LLM-written warriors), R = {R} rounds, "
        f"core 8000, 80000 cycles, 8000 processes, every round run to the cycle limit, DRQ placements; "
        f"{n} candidates per batch, best of {args.repeat}.",
        "",
        "| engine | seconds | evaluations/s | M instructions/s | vs primordium 1 thread (per evaluation) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, dt, eps, mips in rows:
        per = dt / (n if name.startswith("primordium") else 1)
        lines.append(f"| {name} | {dt:.2f} | {eps:.4g} | {mips} | {base / per:.3g}x |")
    lines += [
        "",
        f"Measured on the same work, the first {args.ref_cycles} cycles of rounds 0-{args.ref_rounds - 1} "
        f"of the first candidate's melee: the DRQ code {t_ref:.2f} s, primordium (1 thread) {t_ours:.4f} s, "
        f"{t_ref / t_ours:.0f}x. The DRQ code's row above is that measurement scaled by {scale:.0f} "
        f"(80000 / {args.ref_cycles} cycles, {R} / {args.ref_rounds} rounds); its Pool of processes "
        f"would divide it by at most the number of cores.",
    ]
    table = "\n".join(lines)
    print(table)
    if args.update:
        text = args.update.read_text()
        head = "## Digital Red Queen (`benchmarks/drq.py`)"
        if head not in text:
            text = text.rstrip("\n") + f"\n\n{head}\n\n(pending)\n"
        start = text.index(head) + len(head)
        nxt = re.search(r"\n## ", text[start:])
        end = start + nxt.start() if nxt else len(text)
        args.update.write_text(text[:start] + "\n\n" + table + "\n" + text[end:])


if __name__ == "__main__":
    main()

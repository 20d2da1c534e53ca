"""DRQ throughput: candidate evaluations per second at the paper's settings, side by side.

One evaluation = the candidate in a melee with 1 + K opponents (the imp and
K = 20 past champions, so 22 warriors in one core), R = 20 battle rounds,
core 8000, 80000 cycles, 8000 processes: exactly ``redqueen.fitness.evaluate``.
Champions stand in as real human warriors from ../shared (they survive long,
as evolved champions do, so rounds run to their full length); candidates are
offline-operator warriors and human warriors, half each.

Columns: primordium with 1 and with 2 numba threads (one batch of candidates),
and, for scale, pMARS running the same melees (one process per candidate, as
a pMARS-based DRQ would; positions differ, so instructions per second are
the fair comparison, and pMARS does no per-cycle bookkeeping for fitness at
all). The public DRQ code's simulator (pure Python) is not installed here and
there is no network to fetch it, so it is not measured.

    python benchmarks/drq.py [--candidates 8] [--repeat 2] [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np

from primordium.corewar import Settings, assemble_file, builtin_path
from primordium.redqueen.fitness import evaluate, round_seeds
from primordium.redqueen.mutation import Job, OfflineOperator
from primordium.corewar.redcode import assemble

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRIMORDIUM_SHARED", REPO.parent / "shared"))
K = 20
R = 20


def pmars_path() -> str | None:
    if os.environ.get("PMARS"):
        return os.environ["PMARS"]
    try:
        return subprocess.run(["bash", str(SHARED / "tools" / "pmars-oracle")], check=True, capture_output=True,
                              text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def warriors(n_cand: int, s: Settings):
    humans = []
    for f in sorted((SHARED / "corewar" / "warriors").glob("*.red")):
        try:
            w = assemble_file(f, s)
        except Exception:
            continue
        humans.append((f, w))
    if len(humans) < K + n_cand // 2:
        sys.exit(f"need {K + n_cand // 2} human warriors in {SHARED}/corewar/warriors")
    imp = assemble_file(builtin_path("imp"), s)
    opponents = [(builtin_path("imp"), imp)] + humans[:K]
    op = OfflineOperator(s)
    cands = []
    tmp = Path(tempfile.mkdtemp(prefix="drq-bench-"))
    for k, p in enumerate(op.propose([Job("new", 1, -1, k, 0) for k in range(n_cand - n_cand // 2)])):
        path = tmp / f"random{k}.red"
        path.write_text(p.source)
        cands.append((path, assemble(p.source, s)))
    cands += humans[K : K + n_cand // 2]
    return cands, opponents


def ours(cands, opps, s, threads: int) -> tuple[float, int]:
    numba.set_num_threads(threads)
    seeds = np.stack([round_seeds(0, 1, k, 0, R) for k in range(len(cands))])
    t = time.perf_counter()
    evs = evaluate([w for _, w in cands], [w for _, w in opps], s, seeds)
    dt = time.perf_counter() - t
    assert len(evs) == len(cands)
    return dt, 0


def instructions(cands, opps, s) -> int:
    """Instructions one batch executes (for instructions per second)."""
    from primordium.corewar.battle import run_battles

    pool = [w for _, w in cands] + [w for _, w in opps]
    n = 1 + len(opps)
    rows = np.array([[k] + list(range(len(cands), len(pool))) for k in range(len(cands)) for _ in range(R)])
    seeds = np.concatenate([round_seeds(0, 1, k, 0, R) for k in range(len(cands))])
    return int(run_battles(pool, rows, s.with_(rounds=1, warriors=n), seeds, track=True).executed.sum())


def pmars(exe: str, cands, opps, s, workers: int) -> tuple[float, int]:
    files = [str(f) for f, _ in opps]

    def one(c):
        r = subprocess.run([exe, "-b", "-r", str(R), "-s", str(s.core_size), "-c", str(s.cycles), "-p",
                            str(s.processes), "-l", str(s.length), "-d", str(s.distance), str(c[0]), *files],
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode("latin-1"))

    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(one, cands))
    return time.perf_counter() - t, 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--update", type=Path, help="write the table into this BENCHMARKS.md section")
    args = ap.parse_args()
    s = Settings(warriors=K + 2)
    cands, opps = warriors(args.candidates, s)
    n = len(cands)
    ours(cands[:1], opps, s.with_(cycles=100), 1)  # compile / load the cache outside the timing
    instr = instructions(cands, opps, s)
    exe = pmars_path()
    rows = []
    for threads in (1, 2):
        best = min(ours(cands, opps, s, threads)[0] for _ in range(args.repeat))
        rows.append((f"primordium, {threads} numba thread{'s' if threads > 1 else ''}", best, instr))
    if exe:
        for workers in (1, 2):
            best = min(pmars(exe, cands, opps, s, workers)[0] for _ in range(args.repeat))
            rows.append((f"pMARS 0.9.2 melee, {workers} process{'es' if workers > 1 else ''} at a time", best, None))
    base = rows[0][1]
    lines = [f"Melee of 1 candidate + {len(opps)} opponents (imp + {K} champions), R = {R} rounds, core 8000, "
             f"80000 cycles, 8000 processes; {n} candidates per batch, best of {args.repeat}.", "",
             "| engine | seconds | evaluations/s | M instructions/s | vs primordium 1 thread |",
             "|---|---:|---:|---:|---:|"]
    for name, dt, ins in rows:
        mips = f"{ins / dt / 1e6:.0f}" if ins else "-"
        lines.append(f"| {name} | {dt:.2f} | {n / dt:.2f} | {mips} | {base / dt:.2f}x |")
    lines += ["", "The public DRQ code's Python simulator: not measured (not installed, no network to fetch it)."]
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

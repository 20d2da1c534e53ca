"""Executors side by side: in-process, local processes (1 and 2), and Ray.

The workload is real: chunks of Core War battles (each task a batch of pairs
of the built-in and human warriors). Ray runs a local two-CPU cluster started
by this script on loopback. From the measured per-task overhead it prints a
simple model of throughput on N machines.

    python benchmarks/exec.py [--tasks 16] [--rounds 40] [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # keep Ray on loopback
os.environ.setdefault(
    "RAY_AUTH_MODE", "disabled"
)  # a throwaway local cluster: no token file in ~/.ray

import numpy as np  # noqa: E402

from primordium.corewar import Settings, assemble_file  # noqa: E402
from primordium.corewar.battle import position_seed, run_battles  # noqa: E402
from primordium.exec.local import LocalExecutor  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRIMORDIUM_SHARED", REPO.parent / "shared"))


def battle_task(task):
    warriors, pairs, settings, seeds = task
    res = run_battles(warriors, pairs, settings, seeds, track=False)
    return int(res.executed.sum())


def noop(x):
    return x


def build_tasks(n_tasks: int, pairs_per_task: int, rounds: int):
    s = Settings(rounds=rounds)
    files = sorted((SHARED / "corewar" / "warriors").glob("*.red"))
    ws = [assemble_file(f, s) for f in files]
    rng = random.Random(0)
    pairs = list(itertools.combinations(range(len(ws)), 2))
    rng.shuffle(pairs)
    tasks = []
    for k in range(n_tasks):
        chunk = np.array(pairs[k * pairs_per_task : (k + 1) * pairs_per_task], np.int64)
        seeds = np.array([position_seed(rng.randrange(100, 7901), s) for _ in chunk], np.int64)
        tasks.append((ws, chunk, s, seeds))
    return tasks


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=16)
    ap.add_argument("--pairs-per-task", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--update", type=Path)
    args = ap.parse_args()

    import numba

    tasks = build_tasks(args.tasks, args.pairs_per_task, args.rounds)
    numba.set_num_threads(1)
    battle_task(tasks[0])  # compile / load the cache
    rows = []
    dt_inline, _ = timed(lambda: [battle_task(t) for t in tasks])
    rows.append(("in-process, 1 thread, one task after another", dt_inline))
    for workers in (1, 2):
        ex = LocalExecutor(workers=workers)
        ex.map(battle_task, tasks[:workers])  # start the workers, load numba's cache
        dt, _ = timed(lambda ex=ex: ex.map(battle_task, tasks))
        ex.close()
        rows.append((f"local processes, {workers} worker{'s' if workers > 1 else ''}", dt))

    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        from primordium.exec.ray import RayExecutor

        ex = RayExecutor(None)
        ex.map(battle_task, tasks[:2])
        dt_ray, _ = timed(lambda: ex.map(battle_task, tasks))
        rows.append(("Ray, local cluster of 2 CPUs", dt_ray))
        n_noop = 500
        ex.map(noop, list(range(20)))
        dt_noop, _ = timed(lambda: ex.map(noop, list(range(n_noop))))
        overhead = dt_noop / n_noop
    finally:
        ray.shutdown()

    per_task = dt_inline / len(tasks)
    lines = [
        f"Workload: {len(tasks)} tasks, each {args.pairs_per_task} Core War battles of {args.rounds} rounds "
        f"(one task ≈ {per_task:.2f} s on one core).",
        "",
        "| executor | seconds | tasks/s | × in-process |",
        "|---|---:|---:|---:|",
    ]
    for name, dt in rows:
        lines.append(f"| {name} | {dt:.2f} | {len(tasks) / dt:.2f} | {dt_inline / dt:.2f} |")
    lines += [
        "",
        f"Ray overhead per task (500 no-op tasks on the local cluster): {overhead * 1000:.2f} ms.",
        "",
        "Model: with C cores per machine and tasks of T seconds, N machines give about "
        "N·C / (T + o) tasks/s, o the per-task overhead above. For these tasks "
        f"(T ≈ {per_task:.2f} s, o ≈ {overhead * 1000:.1f} ms) the overhead costs "
        f"{100 * overhead / (per_task + overhead):.1f}% — so 10 machines of 16 cores would run about "
        f"{10 * 16 / (per_task + overhead):.0f} tasks/s against {2 / (per_task + overhead):.1f} here. "
        "Keep tasks well above the overhead (batch battles, rollouts, soups per task).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.update:
        md = args.update.read_text()
        section = f"## Executors and Ray (`benchmarks/exec.py`)\n\nMeasured {time.strftime('%Y-%m-%d')}.\n\n{text}\n"
        md, n = re.subn(
            r"## Executors and Ray \(`benchmarks/exec.py`\)\n.*?(?=\n## |\Z)",
            lambda m: section,
            md,
            flags=re.S,
        )
        if n == 0:
            md = md.rstrip("\n") + "\n\n" + section
        args.update.write_text(md)


if __name__ == "__main__":
    main()

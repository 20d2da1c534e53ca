"""Core War throughput: primordium's MARS against the real pMARS, side by side.

One battle set (seeded pairs of the human warriors in ../shared, fixed
positions, default settings) runs through pMARS (one process per battle, as
people use it) and through primordium (one batch), alternating, best of
``--repeat``. Both simulate exactly the same rounds, so instruction counts
are equal and rounds/s compare directly.

    python benchmarks/corewar.py [--pairs 60] [--rounds 200] [--repeat 3] [--update BENCHMARKS.md]

``--whole`` measures instead what a shell user sees, start-up included: one
``primordium corewar battle a.red b.red --rounds 1`` against one ``pmars``
battle (on the ahead-of-time kernel, the default for one battle, and on the
JIT kernel, ``PRIMORDIUM_MARS=jit``), and a round-robin tournament of
``--warriors`` human warriors as one ``primordium corewar tournament``
process against pMARS run once per pair. Both use pMARS's ``-F`` placement,
so they fight the same rounds (the script checks that every pair's wins,
losses and ties agree). Caches are warm as in a user's shell: numba's, the
ahead-of-time kernel (built by the warm-up if missing) and Python's
bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped for the timed processes).

    python benchmarks/corewar.py --whole [--warriors 14] [--rounds 100] [--repeat 3] [--update BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np

from primordium.corewar import Settings, assemble_file
from primordium.corewar.battle import position_seed, run_battles

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRIMORDIUM_SHARED", REPO.parent / "shared"))


def pmars_path() -> str:
    return (
        os.environ.get("PMARS")
        or subprocess.run(
            ["bash", str(SHARED / "tools" / "pmars-oracle")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )


def run_pmars(pmars: str, jobs, rounds: int, workers: int) -> float:
    def one(job):
        a, b, p = job
        subprocess.run(
            [pmars, "-b", "-k", "-r", str(rounds), "-F", str(p), str(a), str(b)],
            capture_output=True,
            check=True,
        )

    t = time.perf_counter()
    if workers == 1:
        for j in jobs:
            one(j)
    else:
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(one, jobs))
    return time.perf_counter() - t


def run_ours(
    pool, battles, seeds, settings, threads: int, track: bool, kernel: str = "jit"
) -> tuple[float, int]:
    """One batch on the JIT kernel over ``threads`` cores, or (``kernel="aot"``) on
    the ahead-of-time build, which runs the battles in turn on one core."""
    numba.set_num_threads(threads)
    os.environ["PRIMORDIUM_MARS"] = kernel
    try:
        t = time.perf_counter()
        res = run_battles(pool, battles, settings, seeds, track=track)
        return time.perf_counter() - t, int(res.executed.sum())
    finally:
        del os.environ["PRIMORDIUM_MARS"]


def primordium_command() -> list[str]:
    """The ``primordium`` script beside this Python, as a shell user runs it."""
    script = Path(sys.executable).with_name("primordium")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from primordium.cli import main; main()"]


def user_env(**extra: str) -> dict[str, str]:
    """A shell user's environment: Python writes and reuses its bytecode."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "PRIMORDIUM_MARS")
    }
    return {**env, **extra}


def child_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, check=True, env=env or user_env())
    return time.perf_counter() - t, out.stdout.decode("latin-1")


def timed_cpu(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one process. On a loaded machine the CPU time
    is the steadier figure: it leaves out the waits for a core."""
    c = child_cpu()
    dt, _ = timed(cmd, env)
    return dt, child_cpu() - c


def pmars_results(text: str) -> tuple[int, int, int]:
    """(wins, losses, ties) of the first warrior from pMARS's ``Results: W L T`` line."""
    found = re.findall(r"^Results:\s+(\d+)\s+(\d+)\s+(\d+)", text, flags=re.M)
    if not found:
        raise RuntimeError(f"no Results line in pMARS output: {text[-200:]!r}")
    w, lost, t = found[-1]
    return int(w), int(lost), int(t)


def whole_process(args, pmars: str, files: list[Path]) -> str:
    """Start-up included: one battle, and a tournament as one process vs pMARS once per pair."""
    ours = primordium_command()
    warriors = files[:: max(1, len(files) // args.warriors)][: args.warriors]
    pairs = list(itertools.combinations(range(len(warriors)), 2))
    position = 4000
    a, b = str(files[0]), str(files[1])
    battle_ours = [*ours, "corewar", "battle", a, b, "--rounds", "1"]
    battle_pmars = [pmars, "-b", "-r", "1", a, b]
    tour_ours = [*ours, "corewar", "tournament", *map(str, warriors)]
    tour_ours += ["--rounds", str(args.rounds), "--position", str(position), "--json"]

    def tour_pmars() -> tuple[float, list[tuple[int, int, int]]]:
        t, results = 0.0, []
        for i, j in pairs:
            cmd = [pmars, "-b", "-r", str(args.rounds), "-F", str(position)]
            dt, out = timed([*cmd, str(warriors[i]), str(warriors[j])])
            t += dt
            results.append(pmars_results(out))
        return t, results

    jit = user_env(PRIMORDIUM_MARS="jit")
    # Warm up: numba's cache, the ahead-of-time kernel, bytecode, the page cache.
    timed(battle_ours)
    timed(battle_ours, jit)
    timed(battle_pmars)
    best: dict[str, float] = {}
    every: dict[str, list[float]] = {}

    def keep(key: str, dt: float) -> None:
        best[key] = min(best.get(key, float("inf")), dt)
        every.setdefault(key, []).append(dt)

    def keep_cpu(key: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        dt, cpu = timed_cpu(cmd, env)
        keep(key, dt)
        keep(key + "_cpu", cpu)

    load = os.getloadavg()
    for rep in range(args.repeat):
        for _ in range(3):
            keep_cpu("python", [sys.executable, "-c", "pass"])
            keep_cpu("battle_pmars", battle_pmars)
            keep_cpu("battle_ours", battle_ours)
            keep_cpu("battle_jit", battle_ours, jit)
        dt, pm = tour_pmars()
        keep("tour_pmars", dt)
        dt, out = timed(tour_ours)
        keep("tour_ours", dt)
        got = json.loads(out)["results"]
        mine = [(r["wins"], r["losses"], r["ties"]) for r in got]
        if mine != pm:
            raise RuntimeError("the tournament's results differ from pMARS's")
        print(f"repeat {rep + 1}/{args.repeat} done", file=sys.stderr)
    load = tuple((x + y) / 2 for x, y in zip(load, os.getloadavg(), strict=True))
    cores = os.cpu_count()

    def median(key: str) -> float:
        return float(np.median(every[key]))

    lines = [
        f"Whole processes, start-up included, caches warm (numba's, the ahead-of-time "
        f"kernel's, Python's bytecode). Best of {args.repeat} (one battle: best and median "
        f"of {3 * args.repeat}); {cores} cores, load average {load[0]:.1f} (1 min) during "
        f"the run, so only the ratios mean much. Tournament: {len(warriors)} human warriors, "
        f"{len(pairs)} pairs x {args.rounds} rounds, `-F {position}`; every pair's W/L/T "
        f"equal to pMARS's.",
        "",
        "| command | seconds (best) | median | CPU seconds (best) | × pMARS |",
        "|---|---:|---:|---:|---:|",
    ]

    def battle_row(label: str, key: str, ratio: bool = True) -> str:
        x = f"{best['battle_pmars'] / best[key]:.3f}" if ratio else ""
        return f"| {label} | {best[key]:.3f} | {median(key):.3f} | {best[key + '_cpu']:.3f} | {x} |"

    lines += [
        battle_row("`python -c pass` (interpreter start, for scale)", "python", ratio=False),
        battle_row("`pmars -b -r 1 a.red b.red`", "battle_pmars"),
        battle_row("`primordium corewar battle a.red b.red --rounds 1`", "battle_ours"),
        battle_row("the same, `PRIMORDIUM_MARS=jit` (numba imported)", "battle_jit"),
        f"| pMARS once per pair, one after another ({len(pairs)} processes) "
        f"| {best['tour_pmars']:.2f} | {median('tour_pmars'):.2f} | | 1.00 |",
        f"| `primordium corewar tournament` ({len(warriors)} files, one process) "
        f"| {best['tour_ours']:.2f} | {median('tour_ours'):.2f} | "
        f"| {best['tour_pmars'] / best['tour_ours']:.2f} |",
    ]
    return "\n".join(lines)


def update_section(path: Path, title: str, how: str, text: str) -> None:
    md = path.read_text()
    stamp = time.strftime("%Y-%m-%d")
    section = f"## {title}\n\nMeasured {stamp} with `{how}`.\n\n{text}\n"
    md, n = re.subn(rf"## {re.escape(title)}\n.*?(?=\n## |\Z)", lambda m: section, md, flags=re.S)
    if n == 0:
        md = md.rstrip("\n") + "\n\n" + section
    path.write_text(md)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--update", type=Path, help="write the results into this BENCHMARKS.md")
    ap.add_argument("--whole", action="store_true", help="whole processes, start-up included")
    ap.add_argument("--warriors", type=int, default=14, help="tournament size with --whole")
    args = ap.parse_args()

    pmars = pmars_path()
    files = sorted((SHARED / "corewar" / "warriors").glob("*.red"))
    if args.whole:
        text = whole_process(args, pmars, files)
        print(text)
        if args.update:
            update_section(
                args.update,
                "Core War from the shell (`benchmarks/corewar.py --whole`)",
                " ".join(["python benchmarks/corewar.py", *sys.argv[1:]]),
                text,
            )
        return
    settings = Settings(rounds=args.rounds)
    assembled = {f: assemble_file(f, settings) for f in files}
    rng = random.Random(args.seed)
    pairs = list(itertools.combinations(files, 2))
    rng.shuffle(pairs)
    jobs = [
        (a, b, rng.randrange(settings.distance, settings.core_size - settings.distance + 1))
        for a, b in pairs[: args.pairs]
    ]
    pool = list(assembled.values())
    index = {f: i for i, f in enumerate(assembled)}
    battles = np.array([[index[a], index[b]] for a, b, _ in jobs], np.int64)
    seeds = np.array([position_seed(p, settings) for _, _, p in jobs], np.int64)
    n_rounds = len(jobs) * args.rounds
    cores = numba.config.NUMBA_NUM_THREADS

    # Warm up: compile (or load the cache) and page everything in.
    run_ours(pool, battles[:2], seeds[:2], settings.with_(rounds=2), 1, True)
    run_ours(pool, battles[:2], seeds[:2], settings.with_(rounds=2), 1, False)
    run_ours(pool, battles[:2], seeds[:2], settings.with_(rounds=2), 1, False, "aot")
    t0 = time.perf_counter()
    for _ in range(20):
        subprocess.run([pmars, "-b", "-r", "0", str(files[0]), str(files[1])], capture_output=True)
    pmars_start = (time.perf_counter() - t0) / 20

    best: dict[str, float] = {}
    instructions = 0

    def keep(key, dt):
        best[key] = min(best.get(key, float("inf")), dt)

    for rep in range(args.repeat):
        keep("pmars_1", run_pmars(pmars, jobs, args.rounds, 1))
        for track in (False, True):
            dt, instructions = run_ours(pool, battles, seeds, settings, 1, track)
            keep(f"ours_1_{track}", dt)
            dt, _ = run_ours(pool, battles, seeds, settings, cores, track)
            keep(f"ours_{cores}_{track}", dt)
            dt, _ = run_ours(pool, battles, seeds, settings, 1, track, "aot")
            keep(f"aot_{track}", dt)
        keep(f"pmars_{cores}", run_pmars(pmars, jobs, args.rounds, cores))
        print(f"repeat {rep + 1}/{args.repeat} done", file=sys.stderr)

    base = best["pmars_1"]
    rows = [
        ("pMARS 0.9.2, 1 process at a time", best["pmars_1"]),
        (f"pMARS 0.9.2, {cores} processes at a time", best[f"pmars_{cores}"]),
        ("primordium, 1 core, no trace counters", best["ours_1_False"]),
        ("primordium, 1 core, with trace counters (DRQ)", best["ours_1_True"]),
        ("primordium ahead of time (one battle's kernel), 1 core, no trace", best["aot_False"]),
        ("primordium ahead of time, 1 core, with trace counters", best["aot_True"]),
        (f"primordium, {cores} cores, no trace counters", best[f"ours_{cores}_False"]),
        (f"primordium, {cores} cores, with trace counters (DRQ)", best[f"ours_{cores}_True"]),
    ]
    lines = [
        f"Battle set: {len(jobs)} seeded pairs of the {len(files)} human warriors, one fixed position each, "
        f"{args.rounds} rounds per pair ({n_rounds} rounds, {instructions / 1e6:.0f} M instructions), "
        f"core 8000, cycles 80000, processes 8000. Best of {args.repeat}. "
        f"pMARS process start-up: {pmars_start * 1000:.1f} ms per battle (included in its times).",
        "",
        "| simulator | seconds | rounds/s | M instr/s | × pMARS (1 process) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, dt in rows:
        lines.append(
            f"| {name} | {dt:.2f} | {n_rounds / dt:,.0f} | {instructions / dt / 1e6:.0f} | {base / dt:.2f} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.update:
        md = args.update.read_text()
        stamp = time.strftime("%Y-%m-%d")
        section = f"## Core War (`benchmarks/corewar.py`)\n\nMeasured {stamp} with `python benchmarks/corewar.py --update BENCHMARKS.md`.\n\n{text}\n"
        md, n = re.subn(
            r"## Core War \(`benchmarks/corewar.py`\)\n.*?(?=\n## |\Z)",
            lambda m: section,
            md,
            flags=re.S,
        )
        if n == 0:
            md = md.rstrip("\n") + "\n\n" + section
        args.update.write_text(md)


if __name__ == "__main__":
    main()

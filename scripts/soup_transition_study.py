"""How often, and when, soups reach the transition: primordium and cubff side by side.

Both engines run the same settings (language, programs, mutation 1/4096,
8192 steps, rows logged after cubff's epochs 1, 1 + k, 1 + 2k...) on the same
seed numbers. Seeds cannot give the same soups in both (their random streams
differ), so what is compared is statistics: the fraction of soups that reach
the transition and the distribution of the epoch at which they do.

One criterion for both, read from each engine's own CSV log (cubff's --log
columns, which primordium writes too): the transition epoch is the first
logged epoch whose brotli bits per byte (8 * brotli_size / soup bytes) is below
--bpb. Each run is also stopped there, cubff by its --stopping_bpb (which it
truncates to an integer, so --bpb must be one), primordium by --stop-bpb, so
post-transition epochs cost nothing. A run that does not cross by --epochs
counts as not transitioned.

    python scripts/soup_transition_study.py run --out study --langs bff_noheads forth forthtrivial \
        --programs 4096 --seeds 8 --epochs 4096 --jobs 2
    python scripts/soup_transition_study.py table --out study

`run` appends one JSON line per finished run to OUT/results.jsonl and skips runs
already there (so it can be restarted); jobs go seed by seed, both engines and
every language per seed, so a study cut short still has matched seeds.
`table` prints the Markdown table, counting only seeds finished by both engines.
Needs $CUBFF (the folder ../shared/tools/cubff-oracle prints). Each job runs on
one thread (numba and OpenMP), at most --jobs at a time.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

MUTATION = 1 / 4096  # cubff's default (its help prints it rounded, 0.00024)


def crossing(log: Path, bpb: float, length: int) -> tuple[int | None, int, float | None]:
    """(first logged epoch with bits per byte below bpb or None, last logged epoch, min bpb) from a cubff-style CSV."""
    first, last, lowest = None, 0, None
    with open(log, newline="") as f:
        for row in csv.DictReader(f):
            ep = int(row["epoch"])
            value = 8.0 * int(row["brotli_size"]) / (int(row["soup_size"]) * length)
            last = ep
            lowest = value if lowest is None else min(lowest, value)
            if first is None and value < bpb:
                first = ep
    return first, last, lowest


def run_cubff(job: dict, work: Path) -> Path:
    log = work / "log.csv"
    cmd = [
        str(Path(os.environ["CUBFF"]) / "main"),
        "--lang",
        job["lang"],
        "--num",
        str(job["programs"]),
        "--seed",
        str(job["seed"]),
        "--max_epochs",
        str(job["epochs"]),
        "--print_interval",
        str(job["every"]),
        "--mutation_prob",
        repr(MUTATION),
        "--stopping_bpb",
        str(int(job["bpb"])),
        "--log",
        str(log),
        "--disable_output",
    ]
    subprocess.run(
        cmd, cwd=work, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    return log


def run_primordium(job: dict, work: Path) -> Path:
    from primordium.soup.experiment import Schedule, run_soup
    from primordium.soup.soup import SoupConfig
    from primordium.store import Store

    # numpy's draws: the study compares two independent streams of cubff's law
    # (with cubff's draws the two engines would run the very same soups).
    config = SoupConfig(
        lang=job["lang"],
        programs=job["programs"],
        seed=job["seed"],
        mutation=MUTATION,
        draws="numpy",
    )
    # cubff's --max_epochs E ends at its first logged epoch past E; run to that same row.
    total = 1 + job["every"] * -(-job["epochs"] // job["every"])
    never = total + 10  # no checkpoints or snapshots beyond the final one: they are not needed here
    schedule = Schedule(
        epochs=total,
        log_every=job["every"],
        log_offset=1,
        checkpoint_every=never,
        snapshot_every=never,
        stop_bpb=float(job["bpb"]),
        log=str(work / "log.csv"),
    )
    run_soup(Store(work / "store"), config, schedule, pictures=False)
    return work / "log.csv"


def run_job(job: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="soupstudy-") as tmp:
        start = time.time()
        log = (run_cubff if job["engine"] == "cubff" else run_primordium)(job, Path(tmp))
        first, last, lowest = crossing(log, job["bpb"], 64)
        rows = Path(log).read_text()
    return {
        **job,
        "transition_epoch": first,
        "last_epoch": last,
        "min_bpb": lowest,
        "seconds": round(time.time() - start, 2),
        "log": rows,
    }


def key(job: dict) -> tuple:
    return (
        job["engine"],
        job["lang"],
        job["programs"],
        job["seed"],
        job["epochs"],
        job["every"],
        job["bpb"],
    )


def cmd_run(args: argparse.Namespace) -> None:
    if int(args.bpb) != args.bpb:
        sys.exit("--bpb must be a whole number: cubff truncates --stopping_bpb to an integer")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    done = {key(r) for r in read_results(results)}
    jobs = [
        {
            "engine": engine,
            "lang": lang,
            "programs": args.programs,
            "seed": seed,
            "epochs": args.epochs,
            "every": args.every,
            "bpb": args.bpb,
        }
        for seed in range(args.first_seed, args.first_seed + args.seeds)
        for lang in args.langs
        for engine in ("cubff", "primordium")
    ]
    jobs = [j for j in jobs if key(j) not in done]
    # Numba reads its thread count when first imported, in each worker.
    os.environ["NUMBA_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    with (
        ProcessPoolExecutor(max_workers=args.jobs) as pool,
        open(out / "progress.log", "a") as progress,
    ):
        futures = [pool.submit(run_job, j) for j in jobs]
        for fut in as_completed(futures):
            r = fut.result()
            with open(results, "a") as f:
                f.write(json.dumps(r) + "\n")
            progress.write(
                f"{time.strftime('%H:%M:%S')} {r['engine']} {r['lang']} seed {r['seed']}: "
                f"transition {r['transition_epoch']} last {r['last_epoch']} "
                f"min bpb {r['min_bpb']:.3f} ({r['seconds']} s)\n"
            )
            progress.flush()


def read_results(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rank_sum(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mann-Whitney's two-sample test, normal approximation with the tie correction: (z, two-sided p).
    Whether two samples could come from one distribution; a run that never crossed ranks beyond the cap."""
    values = sorted(a + b)
    n, na, nb = len(values), len(a), len(b)
    rank: dict[float, float] = {}
    i = 0
    while i < n:
        j = i
        while j < n and values[j] == values[i]:
            j += 1
        rank[values[i]] = (i + j + 1) / 2  # mean of the 1-based ranks i+1..j
        i = j
    u = sum(rank[x] for x in a) - na * (na + 1) / 2
    ties = sum(c**3 - c for c in (values.count(v) for v in set(values)))
    var = na * nb / 12 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return 0.0, 1.0
    z = (u - na * nb / 2) / math.sqrt(var)
    return z, math.erfc(abs(z) / math.sqrt(2))


def cmd_table(args: argparse.Namespace) -> None:
    results = read_results(Path(args.out) / "results.jsonl")
    groups: dict[tuple, dict[str, dict[int, dict]]] = {}
    for r in results:
        g = groups.setdefault((r["lang"], r["programs"], r["epochs"], r["every"], r["bpb"]), {})
        g.setdefault(r["engine"], {})[r["seed"]] = r
    print(
        "| engine | language | programs | seeds | epochs cap | criterion | transitioned | "
        "transition epochs median / min / max |"
    )
    print("|---|---|---|---|---|---|---|---|")
    tests = []
    for (lang, programs, epochs, every, bpb), by_engine in sorted(groups.items()):
        seeds = sorted(
            set.intersection(*(set(by_engine.get(e, {})) for e in ("cubff", "primordium")))
        )
        for engine in ("cubff", "primordium"):
            eps = [by_engine[engine][s]["transition_epoch"] for s in seeds]
            hit = sorted(e for e in eps if e is not None)
            spread = f"{statistics.median(hit):g} / {hit[0]} / {hit[-1]}" if hit else "-"
            print(
                f"| {engine} | {lang} | {programs} | {len(seeds)} | {epochs} | "
                f"bpb < {bpb:g} (rows every {every}) | {len(hit)}/{len(seeds)} | {spread} |"
            )
        beyond = [
            [
                math.inf if e is None else e
                for e in (by_engine[engine][s]["transition_epoch"] for s in seeds)
            ]
            for engine in ("cubff", "primordium")
        ]
        if any(x != math.inf for x in beyond[0] + beyond[1]):
            z, p = rank_sum(beyond[1], beyond[0])
            tests.append(
                f"{lang}, {programs} programs: primordium against cubff, z = {z:+.2f}, p = {p:.2g}"
            )
    if tests:
        print(
            "\nRank-sum test of the transition epochs (a run that never crossed ranks beyond the cap):"
        )
        for line in tests:
            print(f"* {line}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the study (restartable)")
    run.add_argument("--out", required=True)
    run.add_argument("--langs", nargs="+", default=["bff_noheads", "forth", "forthtrivial"])
    run.add_argument("--programs", type=int, default=4096)
    run.add_argument("--seeds", type=int, default=8)
    run.add_argument("--first-seed", type=int, default=1)
    run.add_argument("--epochs", type=int, default=4096)
    run.add_argument(
        "--every", type=int, default=16, help="log (and check the criterion) every this many epochs"
    )
    run.add_argument(
        "--bpb", type=float, default=4.0, help="transition: brotli bits per byte below this"
    )
    run.add_argument("--jobs", type=int, default=2)
    run.set_defaults(func=cmd_run)
    table = sub.add_parser("table", help="print the side-by-side table")
    table.add_argument("--out", required=True)
    table.set_defaults(func=cmd_table)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()

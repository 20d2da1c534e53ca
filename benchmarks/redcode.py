"""Redcode assembly speed: primordium's assembler against pMARS, side by side.

Both assemble and list the same human warriors (../shared/corewar/warriors):
pMARS as ``pmars -r 0 FILE...`` (up to 36 warriors per process, its limit),
primordium as ``listing(assemble(...))`` in this process, alternating, best of
``--repeat``. pMARS's figure includes starting its processes, which is what
using it from Python costs.

    python benchmarks/redcode.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from primordium.corewar.isa import Settings
from primordium.corewar.redcode import assemble, listing
from primordium.corewar.redcode_lex import tokenize

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRIMORDIUM_SHARED", ROOT.parent / "shared"))


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = sorted((SHARED / "corewar" / "warriors").glob("*.red"))
    sources = [f.read_bytes().decode("latin-1") for f in files]
    pmars = pmars_path()
    settings = Settings(rounds=0, warriors=1)

    def run_pmars() -> None:
        for i in range(0, len(files), 36):
            subprocess.run(
                [pmars, "-r", "0", *map(str, files[i : i + 36])], capture_output=True, check=True
            )

    def run_ours(cold: bool) -> None:
        if cold:
            tokenize.cache_clear()  # no help from earlier repeats
        for src in sources:
            listing(assemble(src, settings))

    best = {
        "pmars": float("inf"),
        "ours (cold cache)": float("inf"),
        "ours (warm cache)": float("inf"),
    }
    for _ in range(args.repeat):
        for name, fn in (
            ("pmars", run_pmars),
            ("ours (cold cache)", lambda: run_ours(True)),
            ("ours (warm cache)", lambda: run_ours(False)),
        ):
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    n = len(files)
    print(f"{n} warriors, best of {args.repeat}, python {sys.version.split()[0]}")
    print(f"{'':20s} {'ms/warrior':>10s} {'vs pMARS':>9s}")
    for name, t in best.items():
        print(f"{name:20s} {t / n * 1e3:10.3f} {best['pmars'] / t:8.2f}x")


if __name__ == "__main__":
    main()

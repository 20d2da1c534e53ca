"""Program soup throughput: primordium's numba BFF against a C/OpenMP reference, side by side.

The reference (benchmarks/soup_ref.c, a plain C BFF soup written for this
benchmark) is compiled here with gcc -O3 -fopenmp and loaded with ctypes.

1. Same tapes: one batch of 2^16 tapes (a soup after a few epochs) runs
   through both, alternating, --repeat times; outputs must be byte-identical.
2. Whole epochs: each side runs --epochs epochs of a 2^17 soup from the same
   start (shuffle, mutate, run, split; each with its own RNG), in alternating
   blocks so both see the same machine load.

    python benchmarks/soup.py [--programs 131072] [--epochs 512] [--repeat 11]
"""

from __future__ import annotations

import argparse
import ctypes
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from primordium.soup.languages import BFF_NOHEADS, run_batch
from primordium.soup.soup import SoupConfig, epoch, initial_soup

HERE = Path(__file__).resolve().parent
ISSUE_MOPS = "63-72"
ISSUE_MS_PER_EPOCH = 76.0


def build_reference(tmp: Path) -> ctypes.CDLL:
    lib = tmp / "soup_ref.so"
    cmd = ["gcc", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-o", str(lib), str(HERE / "soup_ref.c")]
    subprocess.run(cmd, check=True)
    ref = ctypes.CDLL(str(lib))
    ref.ref_run_tapes.restype = ctypes.c_int64
    ref.ref_run_tapes.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int,
                                  ctypes.c_void_p]
    ref.ref_epoch.restype = ctypes.c_int64
    ref.ref_epoch.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint64,
                              ctypes.c_double, ctypes.c_int64, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    return ref


def same_tapes(ref, soup: np.ndarray, repeat: int, steps: int) -> dict:
    tapes = soup.reshape(soup.shape[0] // 2, 2 * soup.shape[1])
    a, b = tapes.copy(), tapes.copy()
    ops_c = np.zeros(len(tapes), np.int64)
    ref.ref_run_tapes(a.ctypes.data, len(a), a.shape[1], steps, 0, ops_c.ctypes.data)
    ops_p = run_batch(BFF_NOHEADS, b, steps)
    assert np.array_equal(a, b) and np.array_equal(ops_c, ops_p), "primordium and the C reference disagree"
    t_c, t_p = [], []
    for _ in range(repeat):
        x = tapes.copy()
        t = time.perf_counter()
        ref.ref_run_tapes(x.ctypes.data, len(x), x.shape[1], steps, 0, None)
        t_c.append(time.perf_counter() - t)
        x = tapes.copy()
        t = time.perf_counter()
        run_batch(BFF_NOHEADS, x, steps)
        t_p.append(time.perf_counter() - t)
    return {"ops": int(ops_p.sum()), "c": min(t_c), "ours": min(t_p), "c_med": float(np.median(t_c)),
            "ours_med": float(np.median(t_p))}


def whole_epochs(ref, config: SoupConfig, epochs: int, block: int) -> dict:
    ours = initial_soup(config)
    theirs = ours.copy()
    n, length = ours.shape
    perm = np.empty(n, np.uint32)
    scratch = np.empty((n // 2, 2 * length), np.uint8)
    res = {"c": 0.0, "ours": 0.0, "c_ops": 0, "ours_ops": 0}
    for start in range(0, epochs, block):
        stop = min(start + block, epochs)
        t = time.perf_counter()
        for e in range(start, stop):
            res["c_ops"] += ref.ref_epoch(theirs.ctypes.data, n, length, config.seed, e, config.mutation,
                                          config.max_steps, 0, perm.ctypes.data, scratch.ctypes.data)
        res["c"] += time.perf_counter() - t
        t = time.perf_counter()
        for e in range(start, stop):
            ours, ops, _ = epoch(ours, config, e)
            res["ours_ops"] += ops
        res["ours"] += time.perf_counter() - t
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=2**17)
    ap.add_argument("--epochs", type=int, default=512)
    ap.add_argument("--block", type=int, default=16, help="epochs per alternating block")
    ap.add_argument("--repeat", type=int, default=11)
    args = ap.parse_args()
    config = SoupConfig(programs=args.programs, seed=1)
    print(f"BFF (bff_noheads) soup, {args.programs} programs x 64 bytes, 2^13 steps, {numba.get_num_threads()} threads,"
          f" Python {sys.version.split()[0]}, numba {numba.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        ref = build_reference(Path(tmp))
        # Warm up (JIT from cache, thread pools) and take a soup a few epochs in.
        soup = initial_soup(config)
        for e in range(4):
            soup, _, _ = epoch(soup, config, e)
        r = same_tapes(ref, soup, args.repeat, config.max_steps)
        print(f"\n1. same {args.programs // 2} tapes (outputs identical), {args.repeat} alternating runs: best (median)")
        for key, label in (("c", "C/OpenMP reference"), ("ours", "primordium (numba)")):
            print(f"   {label:19s}: {r[key] * 1e3:6.1f} ms ({r[key + '_med'] * 1e3:6.1f})"
                  f"  {r['ops'] / r[key] / 1e6:6.1f} M ops/s ({r['ops'] / r[key + '_med'] / 1e6:6.1f})")
        print(f"   speed ratio primordium / C: {r['c'] / r['ours']:.2f}x ({r['c_med'] / r['ours_med']:.2f}x)")
        w = whole_epochs(ref, config, args.epochs, args.block)
        print(f"\n2. whole epochs 0..{args.epochs - 1} from the same random soup, alternating blocks of {args.block}")
        for key, label in (("c", "C/OpenMP reference"), ("ours", "primordium (numba)")):
            sec, ops = w[key], w[key + "_ops"]
            print(f"   {label:19s}: {args.epochs / sec:6.2f} epochs/s  {sec / args.epochs * 1e3:6.1f} ms/epoch"
                  f"  {ops / sec / 1e6:6.1f} M ops/s")
        print(f"   speed ratio primordium / C (epochs/s): {w['c'] / w['ours']:.2f}x")
        print(f"\nfor context, the issue's figures for the paper's C++/OpenMP simulator on this machine: "
              f"{ISSUE_MOPS} M ops/s, ~{ISSUE_MS_PER_EPOCH:.0f} ms/epoch over the first 512 epochs at 2^17 programs")


if __name__ == "__main__":
    main()

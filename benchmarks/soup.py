"""Program soup throughput: primordium's numba BFF against a C/OpenMP reference, side by side.

The reference (benchmarks/soup_ref.c, a plain C BFF soup written for this
benchmark) is compiled here with gcc -O3 -fopenmp and loaded with ctypes.

1. Same tapes: one batch of 2^16 tapes (a soup after a few epochs) runs
   through both, alternating, --repeat times; outputs must be byte-identical.
2. Whole epochs: each side runs --epochs epochs of a 2^17 soup from the same
   start (shuffle, mutate, run, split; each with its own RNG), in alternating
   blocks so both see the same machine load.
3. cubff itself (its CPU/OpenMP ``main`` from $CUBFF, built by
   ../shared/tools/cubff-oracle): the same language, number of programs,
   epochs, mutation rate and seed, from a random soup, --rounds alternating
   runs. cubff runs epochs 0..E (E + 1 epochs) with --max_epochs E;
   primordium runs as many, twice: with cubff's draws (the default; the same
   soup as cubff's, checked against cubff's last checkpoint) and with numpy's.
   cubff's own "Elapsed" and "ops" figures are used (they leave out its
   start-up), and primordium's epoch loop is timed alone.
4. Post-transition: the same, from a soup where every program is one
   self-replicator (cubff reads it with --load), so most tapes run to the
   step limit: the regime a soup spends most of its life in after the
   transition.

With ``--device gpu`` (a CUDA machine) it measures the GPU path instead,
side by side with cubff's CUDA build (``--cubff-cuda``, the folder of its
``main`` built with ``make CUDA=1``; see BENCHMARKS.md):

G0. Same bytes: a few epochs on the GPU and on the CPU must give one soup.
G1. Kernel throughput: the run kernel alone on the soup's tapes (device
    resident, timed between synchronisations), on a fresh soup a few epochs
    in and on a post-transition soup (every program a replicator, or the
    cubff checkpoint given with --post-load). cubff has no kernel-only timer:
    its ops/s over a run with one report is printed beside it, and the
    ``nsys`` command that times its kernel alone.
G2. Whole run: epochs/s of ``GpuSoup`` (metrics every --print-interval
    epochs on a host copy, as cubff's report) against cubff's CUDA main on
    the same soup, fresh and post-transition, best of --rounds alternating.
    With cubff's draws (the default) the two run the very same epochs.

    python benchmarks/soup.py [--programs 131072] [--epochs 512] [--repeat 11] [--lang bff_noheads]
    python benchmarks/soup.py --only cubff   # sections 3 and 4 only
    python benchmarks/soup.py --device gpu --cubff-cuda ~/cubff-cuda [--post-load soup.dat]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from primordium.soup.languages import BFF_NOHEADS, get_language, run_batch
from primordium.soup.soup import SoupConfig, epoch, initial_soup

HERE = Path(__file__).resolve().parent


def build_reference(tmp: Path) -> ctypes.CDLL:
    lib = tmp / "soup_ref.so"
    cmd = [
        "gcc",
        "-O3",
        "-march=native",
        "-fopenmp",
        "-shared",
        "-fPIC",
        "-o",
        str(lib),
        str(HERE / "soup_ref.c"),
    ]
    subprocess.run(cmd, check=True)
    ref = ctypes.CDLL(str(lib))
    ref.ref_run_tapes.restype = ctypes.c_int64
    ref.ref_run_tapes.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_int,
        ctypes.c_void_p,
    ]
    ref.ref_epoch.restype = ctypes.c_int64
    ref.ref_epoch.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_uint64,
        ctypes.c_uint64,
        ctypes.c_double,
        ctypes.c_int64,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    return ref


def same_tapes(ref, soup: np.ndarray, repeat: int, steps: int) -> dict:
    tapes = soup.reshape(soup.shape[0] // 2, 2 * soup.shape[1])
    a, b = tapes.copy(), tapes.copy()
    ops_c = np.zeros(len(tapes), np.int64)
    ref.ref_run_tapes(a.ctypes.data, len(a), a.shape[1], steps, 0, ops_c.ctypes.data)
    ops_p = run_batch(BFF_NOHEADS, b, steps)
    assert np.array_equal(a, b) and np.array_equal(ops_c, ops_p), (
        "primordium and the C reference disagree"
    )
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
    return {
        "ops": int(ops_p.sum()),
        "c": min(t_c),
        "ours": min(t_p),
        "c_med": float(np.median(t_c)),
        "ours_med": float(np.median(t_p)),
    }


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
            res["c_ops"] += ref.ref_epoch(
                theirs.ctypes.data,
                n,
                length,
                config.seed,
                e,
                config.mutation,
                config.max_steps,
                0,
                perm.ctypes.data,
                scratch.ctypes.data,
            )
        res["c"] += time.perf_counter() - t
        t = time.perf_counter()
        for e in range(start, stop):
            ours, ops, _ = epoch(ours, config, e)
            res["ours_ops"] += ops
        res["ours"] += time.perf_counter() - t
    return res


CUBFF_MUTATION = 1 / 4096  # cubff's default --mutation_prob
# A palindromic bff_noheads self-replicator (tests/soup/conftest.py): with no
# zero on the tape its copy loop never ends, so every tape uses the whole budget.
REPLICATOR = b"[{.>]" + b"a" * 54 + b"]>.{["


def run_cubff(
    cubff: Path,
    lang: str,
    programs: int,
    epochs: int,
    seed: int,
    load: Path | None,
    every: int | None = None,
    save_to: Path | None = None,
) -> dict:
    """Run cubff's main for epochs 0..epochs (a report every ``every``, default once at the end).

    Returns its own elapsed seconds and ops, and the wall time.
    """
    cmd = [
        str(cubff / "main"),
        "--lang",
        lang,
        "--num",
        str(programs),
        "--max_epochs",
        str(epochs),
        "--print_interval",
        str(every or epochs),
        "--clear_interval",
        str(epochs),
        "--save_interval",
        str(epochs),
        "--seed",
        str(seed),
        "--mutation_prob",
        repr(CUBFF_MUTATION),
    ]
    if load is not None:
        cmd += ["--load", str(load)]
    if save_to is not None:
        cmd += ["--checkpoint_dir", str(save_to)]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    found = re.findall(r"Elapsed:\s*([\d.]+)\s+ops:\s*(\d+)", done.stdout)
    if not found:
        raise SystemExit(
            f"could not read cubff's output: {done.stdout[:300]!r} {done.stderr[:300]!r}"
        )
    elapsed, ops = found[-1]
    return {"sec": float(elapsed), "ops": int(ops), "wall": wall}


def run_ours(config: SoupConfig, soup: np.ndarray, epochs: int) -> dict:
    t = time.perf_counter()
    total = 0
    for e in range(epochs + 1):
        soup, ops, _ = epoch(soup, config, e)
        total += ops
    return {"sec": time.perf_counter() - t, "ops": total, "soup": soup}


OURS = (("numpy", "primordium, numpy draws"), ("cubff", "primordium, cubff draws"))


def against_cubff(
    cubff: Path, lang: str, programs: int, epochs: int, rounds: int, seeded: bool, tmp: Path
) -> tuple[dict, dict[str, dict]]:
    """Alternate cubff and primordium (each source of draws) ``rounds`` times; keep each one's fastest round.

    Also whether primordium with cubff's draws ends on cubff's very soup.
    """
    configs = {
        draws: SoupConfig(
            lang=lang, programs=programs, mutation=CUBFF_MUTATION, seed=1, draws=draws
        )
        for draws, _ in OURS
    }
    load = None
    if seeded:
        start = np.tile(np.frombuffer(REPLICATOR, np.uint8), (programs, 1))
        starts = dict.fromkeys(configs, start)
        load = tmp / "replicators.dat"
        # cubff's checkpoint: reset index, number of programs, epoch (size_t each), then the soup.
        load.write_bytes(struct.pack("<QQQ", 1, programs, 0) + start.tobytes())
    else:
        starts = {draws: initial_soup(config) for draws, config in configs.items()}
    for draws, config in configs.items():
        epoch(starts[draws].copy(), config, 0)  # JIT warm-up
    best_c: dict = {}
    best_p: dict[str, dict] = {}
    for _ in range(rounds):
        c = run_cubff(cubff, lang, programs, epochs, 1, load, save_to=tmp / "ck")
        best_c = c if not best_c or c["sec"] < best_c["sec"] else best_c
        for draws, config in configs.items():
            p = run_ours(config, starts[draws].copy(), epochs)
            if draws not in best_p or p["sec"] < best_p[draws]["sec"]:
                best_p[draws] = p
    from primordium.soup.cubff_files import read_dat

    theirs = read_dat(tmp / "ck" / f"{epochs:010d}.dat")[0]
    best_c["same_soup"] = bool(np.array_equal(theirs, best_p["cubff"]["soup"]))
    return best_c, best_p


def report_cubff(title: str, c: dict, ours: dict[str, dict], epochs: int) -> None:
    n = epochs + 1
    print(title)
    rows = [("cubff (CPU, OpenMP)", c)] + [(label, ours[draws]) for draws, label in OURS]
    for label, r in rows:
        print(
            f"   {label:24s}: {n / r['sec']:7.2f} epochs/s  {r['sec'] / n * 1e3:8.1f} ms/epoch"
            f"  {r['ops'] / r['sec'] / 1e6:7.1f} M ops/s  {r['ops'] / n / 1e6:8.2f} M ops/epoch"
        )
    print(f"   cubff wall time incl. start-up: {c['wall']:.2f} s")
    for draws, label in OURS:
        p = ours[draws]
        print(
            f"   speed ratio {label} / cubff: {c['sec'] / p['sec']:.2f}x epochs/s,"
            f" {(p['ops'] / p['sec']) / (c['ops'] / c['sec']):.2f}x ops/s"
        )
    print(
        "   cubff draws: the soup after the last epoch is cubff's, byte for byte: "
        + ("yes" if c["same_soup"] else "NO")
    )


def cubff_sections(args, tmp: Path) -> None:
    cubff = Path(args.cubff) if args.cubff else None
    if cubff is None or not (cubff / "main").is_file():
        print(
            "\n3-4. skipped: set CUBFF (or --cubff) to the folder from ../shared/tools/cubff-oracle"
        )
        return
    get_language(args.lang)
    c, p = against_cubff(cubff, args.lang, args.programs, args.epochs, args.rounds, False, tmp)
    report_cubff(
        f"\n3. cubff's own main against primordium: {args.lang}, {args.programs} programs, epochs"
        f" 0..{args.epochs}, mutation 1/4096, random start; best of {args.rounds} alternating rounds",
        c,
        p,
        args.epochs,
    )
    if args.lang != "bff_noheads":
        print("\n4. skipped: the seeded replicator is a bff_noheads program")
        return
    c, p = against_cubff(
        cubff, args.lang, args.post_programs, args.post_epochs, args.rounds, True, tmp
    )
    report_cubff(
        f"\n4. post-transition: every program a self-replicator, {args.post_programs} programs, epochs"
        f" 0..{args.post_epochs}; best of {args.rounds} alternating rounds",
        c,
        p,
        args.post_epochs,
    )


def gpu_same_bytes(config: SoupConfig, epochs: int) -> None:
    from primordium.soup.gpu import GpuSoup

    cpu = initial_soup(config)
    gpu = GpuSoup(cpu, config)
    total = 0
    for e in range(epochs):
        cpu, ops, _ = epoch(cpu, config, e)
        gpu.epoch(e)
        total += ops
        if total != gpu.ops_through(e) or not np.array_equal(cpu, gpu.host()):
            raise SystemExit(f"G0. the GPU and CPU soups differ after epoch {e}")
    print(f"G0. {epochs} epochs of {config.programs} programs: GPU soup == CPU soup (bytes, ops)")


def gpu_kernel(lang_id: int, soup: np.ndarray, steps: int, repeat: int) -> tuple[float, int]:
    """Best seconds of the run kernel alone over ``repeat`` runs on fresh copies; ops per run."""
    from numba import cuda

    from primordium.soup.gpu import BLOCK, _grid, _kernels

    tapes = np.ascontiguousarray(soup.reshape(soup.shape[0] // 2, 2 * soup.shape[1]))
    kernel = _kernels(lang_id, tapes.shape[1])[0]
    ops = cuda.device_array(len(tapes), dtype=np.int64)
    counter = cuda.to_device(np.zeros(1, dtype=np.int64))
    best, total = float("inf"), 0
    for _ in range(repeat + 1):  # the first run compiles
        d = cuda.to_device(tapes)
        cuda.synchronize()
        t = time.perf_counter()
        kernel[_grid(len(tapes)), BLOCK](d, steps, ops, counter)
        cuda.synchronize()
        best = min(best, time.perf_counter() - t)
        total = int(ops.copy_to_host().sum())
    return best, total


def run_ours_gpu(config: SoupConfig, soup: np.ndarray, epochs: int, every: int) -> dict:
    """Epochs 0..epochs on the GPU, a host copy and its brotli size every ``every`` epochs."""
    from primordium.soup.gpu import GpuSoup
    from primordium.soup.metrics import entropy

    held = GpuSoup(soup, config)
    t = time.perf_counter()
    for e in range(epochs + 1):
        held.epoch(e)
        if e % every == 0:
            # A report: the ops and a host copy (as the run loop reads them, at its rows only).
            held.ops_through(e)
            entropy(held.host())
    total = held.ops_through(epochs)
    return {"sec": time.perf_counter() - t, "ops": total}


def post_transition_soup(programs: int, load: str | None, tmp: Path) -> tuple[np.ndarray, Path]:
    """A soup after the transition and its cubff checkpoint: --post-load's, or all replicators."""
    from primordium.soup.cubff_files import read_dat, write_dat

    if load:
        soup, _, _ = read_dat(load, 64)
        soup = np.resize(soup, (programs, 64))  # tiled to the size asked for
    else:
        soup = np.tile(np.frombuffer(REPLICATOR, np.uint8), (programs, 1))
    path = tmp / "post.dat"
    write_dat(path, soup, 0, 1)
    return soup, path


def gpu_sections(args, tmp: Path) -> None:
    from numba import cuda

    from primordium.soup.gpu import resolve_device, simulated

    resolve_device("gpu")
    if simulated():
        print("GPU: numba's CUDA simulator (a check of this script, not a measurement)")
    else:
        dev = cuda.get_current_device()
        print(f"GPU: {dev.name}, compute capability {dev.compute_capability}")
    lang = get_language(args.lang)
    config = SoupConfig(lang=args.lang, programs=args.programs, mutation=CUBFF_MUTATION, seed=1)
    gpu_same_bytes(SoupConfig(lang=args.lang, programs=min(args.programs, 2**12), seed=1), 8)
    fresh = initial_soup(config)
    for e in range(4):
        fresh, _, _ = epoch(fresh, config, e)
    post, post_dat = None, None
    if args.post_load or args.lang == "bff_noheads":  # the built-in replicator is bff_noheads
        post, post_dat = post_transition_soup(args.programs, args.post_load, tmp)
    cuda_main = Path(args.cubff_cuda) / "main" if args.cubff_cuda else None
    have_cubff = cuda_main is not None and cuda_main.is_file()
    print(f"\nG1. run kernel alone, {args.programs // 2} tapes, best of {args.repeat}")
    for label, soup in (("fresh", fresh), ("post-transition", post)):
        if soup is None:
            continue
        sec, ops = gpu_kernel(lang.id, soup, config.max_steps, args.repeat)
        print(f"   {label:16s} primordium: {ops / sec / 1e9:8.2f} G ops/s ({sec * 1e3:.2f} ms)")
    print(
        "   cubff has no kernel-only timer; its kernel alone: nsys profile --stats=true "
        f"{cuda_main or '<cubff-cuda>/main'} --lang {args.lang} --num {args.programs}"
        " --max_epochs 16 --load <post-transition .dat>  (MutateAndRunPrograms's time)"
    )
    for label, soup, load, epochs in (
        ("fresh", initial_soup(config), None, args.epochs),
        ("post-transition", post, post_dat, args.post_epochs),
    ):
        if soup is None:
            print(
                f"\nG2. {label}: skipped (give --post-load for a language other than bff_noheads)"
            )
            continue
        print(
            f"\nG2. whole run, {label}: epochs 0..{epochs}, a report every {args.print_interval}"
            f" epochs; best of {args.rounds} alternating rounds"
        )
        run_ours_gpu(config, soup.copy(), 1, 1)  # compile
        best_c: dict = {}
        best_p: dict = {}
        for _ in range(args.rounds):
            p = run_ours_gpu(config, soup.copy(), epochs, args.print_interval)
            best_p = p if not best_p or p["sec"] < best_p["sec"] else best_p
            if have_cubff:
                c = run_cubff(
                    Path(args.cubff_cuda),
                    args.lang,
                    args.programs,
                    epochs,
                    1,
                    load,
                    args.print_interval,
                )
                best_c = c if not best_c or c["sec"] < best_c["sec"] else best_c
        n = epochs + 1
        rows = [("primordium (GPU)", best_p)] + ([("cubff (CUDA)", best_c)] if best_c else [])
        for name, r in rows:
            print(
                f"   {name:17s}: {n / r['sec']:8.2f} epochs/s  {r['sec'] / n * 1e3:8.2f} ms/epoch"
                f"  {r['ops'] / r['sec'] / 1e9:8.2f} G ops/s"
            )
        if best_c:
            print(
                f"   speed ratio primordium / cubff: {best_c['sec'] / best_p['sec']:.2f}x epochs/s"
            )
    if not have_cubff:
        print("\ncubff's CUDA build not given (--cubff-cuda): its columns are left out")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=2**17)
    ap.add_argument("--epochs", type=int, default=512)
    ap.add_argument("--block", type=int, default=16, help="epochs per alternating block")
    ap.add_argument("--repeat", type=int, default=11)
    ap.add_argument("--lang", default="bff_noheads", help="language of sections 3 (cubff)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds against cubff")
    ap.add_argument("--post-programs", type=int, default=2**14)
    ap.add_argument("--post-epochs", type=int, default=16)
    ap.add_argument(
        "--cubff", default=os.environ.get("CUBFF", ""), help="cubff oracle folder (default $CUBFF)"
    )
    ap.add_argument(
        "--only", choices=("c", "cubff"), help="run only sections 1-2 (c) or 3-4 (cubff)"
    )
    ap.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument(
        "--cubff-cuda",
        default=os.environ.get("CUBFF_CUDA", ""),
        help="folder of cubff's main built with make CUDA=1 (default $CUBFF_CUDA)",
    )
    ap.add_argument("--post-load", help="a cubff checkpoint after the transition (GPU sections)")
    ap.add_argument("--print-interval", type=int, default=64, help="GPU: epochs between reports")
    args = ap.parse_args()
    if args.device == "gpu":
        with tempfile.TemporaryDirectory() as tmp:
            gpu_sections(args, Path(tmp))
        return
    print(
        f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    if args.only == "cubff":
        print(
            f"{numba.get_num_threads()} numba threads, Python {sys.version.split()[0]}, numba {numba.__version__}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            cubff_sections(args, Path(tmp))
        return
    config = SoupConfig(programs=args.programs, seed=1)
    print(
        f"BFF (bff_noheads) soup, {args.programs} programs x 64 bytes, 2^13 steps, {numba.get_num_threads()} threads,"
        f" Python {sys.version.split()[0]}, numba {numba.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        ref = build_reference(Path(tmp))
        # Warm up (JIT from cache, thread pools) and take a soup a few epochs in.
        soup = initial_soup(config)
        for e in range(4):
            soup, _, _ = epoch(soup, config, e)
        r = same_tapes(ref, soup, args.repeat, config.max_steps)
        print(
            f"\n1. same {args.programs // 2} tapes (outputs identical), {args.repeat} alternating runs: best (median)"
        )
        for key, label in (("c", "C/OpenMP reference"), ("ours", "primordium (numba)")):
            print(
                f"   {label:19s}: {r[key] * 1e3:6.1f} ms ({r[key + '_med'] * 1e3:6.1f})"
                f"  {r['ops'] / r[key] / 1e6:6.1f} M ops/s ({r['ops'] / r[key + '_med'] / 1e6:6.1f})"
            )
        print(
            f"   speed ratio primordium / C: {r['c'] / r['ours']:.2f}x ({r['c_med'] / r['ours_med']:.2f}x)"
        )
        w = whole_epochs(ref, config, args.epochs, args.block)
        print(
            f"\n2. whole epochs 0..{args.epochs - 1} from the same random soup, alternating blocks of {args.block}"
        )
        for key, label in (("c", "C/OpenMP reference"), ("ours", "primordium (numba)")):
            sec, ops = w[key], w[key + "_ops"]
            print(
                f"   {label:19s}: {args.epochs / sec:6.2f} epochs/s  {sec / args.epochs * 1e3:6.1f} ms/epoch"
                f"  {ops / sec / 1e6:6.1f} M ops/s"
            )
        print(f"   speed ratio primordium / C (epochs/s): {w['c'] / w['ours']:.2f}x")
        if args.only != "c":
            cubff_sections(args, Path(tmp))


if __name__ == "__main__":
    main()

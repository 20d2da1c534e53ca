"""ASAL substrates, the paper's code against primordium, side by side.

For each substrate (by its registry name, the paper's names): the same key
draws the same parameters in both, and both roll out the substrate's default
number of steps, sampling 8 frames rendered at 224 px (the settings of the
issue's GPU figures; no foundation model). Columns: one simulation, then
populations of 16 and 256 (256 only for the cheap grid substrates unless
asked; the reference vmapped as its scripts do, primordium's ``rollout``
with ``batched=True``, which maps member after member on the CPU and vmaps
on an accelerator), reference time / primordium time as the ratio (above 1:
primordium is faster). A substrate that is not in primordium's registry yet,
or whose parameters or first frame differ from the reference's, is printed
and skipped. Runs unchanged on a GPU (JAX picks the default backend).

The reference is ../shared/reference/asal (PRIMORDIUM_SHARED overrides the
folder holding ``reference/``).

    python benchmarks/asal.py [--substrates gol,plenia] [--pop 16,256] [--repeat 3] [--quick]
    python benchmarks/asal.py --steps 200 --all-pops   # shorter rollouts, every population
    python benchmarks/asal.py --split 2 --substrates boids   # population over worker processes
    python benchmarks/asal.py --clip                          # CLIP ViT-B/32 images per second
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types
from functools import partial
from pathlib import Path

import jax
import numpy as np
from jax.flatten_util import ravel_pytree

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRIMORDIUM_SHARED", REPO.parent / "shared"))
PAPER = ("gol", "lenia", "nca_d1", "nca_d3", "dnca", "boids", "plife", "plife_plus", "plenia")
# Populations of 256 by default only where one rollout is cheap. The paper's
# rollout keeps every state before sampling frames, so 256 Life rollouts of
# 1024 steps hold about 4 GB of states: meant for an accelerator.
CHEAP = ("gol", "lenia", "dnca")
FRAMES, SIZE = 8, 224


def reference():
    folder = SHARED / "reference" / "asal"
    if not folder.is_dir():
        sys.exit(
            f"error: no reference at {folder} (set PRIMORDIUM_SHARED to the folder holding reference/asal)"
        )
    sys.modules.setdefault(
        "evosax", types.ModuleType("evosax")
    )  # only its parameter flattener needs it
    sys.path.insert(0, str(folder))
    import rollout as ref_rollout
    import substrates as ref_substrates

    return ref_substrates, ref_rollout.rollout_simulation


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t)
    return best


def _same_start(ref, ours, key) -> str | None:
    """None when both draw the same params and the same first frame from ``key``; else why not."""
    p_ref, p_ours = ref.default_params(key), ours.default_params(key)
    a, b = ravel_pytree(p_ref)[0], ravel_pytree(p_ours)[0]
    if a.shape != b.shape or not np.allclose(a, b, atol=1e-6):
        return "default params differ from the reference's"
    img_ref = ref.render_state(ref.init_state(key, p_ref), params=p_ref, img_size=SIZE)
    img_ours = ours.render(ours.init_state(key, p_ours), p_ours, SIZE)
    if np.asarray(img_ref).shape != np.asarray(img_ours).shape or not np.allclose(
        img_ref, img_ours, atol=1e-4
    ):
        return "first frame differs from the reference's"
    return None


def bench(
    name: str,
    ref_substrates,
    ref_rollout,
    pops: list[int],
    repeat: int,
    steps: int | None,
    all_pops: bool = False,
) -> None:
    from primordium.asal.substrates import SUBSTRATES, get_substrate, rollout

    if name not in SUBSTRATES:
        print(f"{name:<11} skipped: not in primordium's registry yet", flush=True)
        return
    ref = ref_substrates.create_substrate(name)
    ours = get_substrate(name)
    n = steps or int(ref.rollout_steps)
    key = jax.random.PRNGKey(0)
    why = _same_start(ref, ours, key)
    if why:
        print(f"{name:<11} skipped: {why}", flush=True)
        return
    params = ref.default_params(key)
    # As the paper's scripts call it: jitted once, vmapped over params with one shared key.
    ref_fn = partial(
        ref_rollout,
        s0=None,
        substrate=ref,
        fm=None,
        rollout_steps=n,
        time_sampling=(FRAMES, True),
        img_size=SIZE,
    )
    ref_one, ref_many = jax.jit(ref_fn), jax.jit(jax.vmap(ref_fn, in_axes=(None, 0)))
    want = ref_one(key, params)["rgb"]
    got, ours = rollout(ours, key, params, n, FRAMES, SIZE)
    diff = float(np.max(np.abs(np.asarray(want) - np.asarray(got))))
    t_ref = _best(lambda: ref_one(key, params)["rgb"], repeat)
    t_ours = _best(lambda: rollout(ours, key, params, n, FRAMES, SIZE)[0], repeat)
    print(
        f"{name:<11} {n:>5} {t_ref:>9.3f} {t_ours:>9.3f} {t_ref / t_ours:>5.2f}x",
        end="",
        flush=True,
    )
    for p in pops:
        if p > 16 and name not in CHEAP and not all_pops:
            print(f" | {'-':>27}", end="", flush=True)
            continue
        pop = jax.vmap(ours.default_params)(jax.random.split(jax.random.PRNGKey(1), p))
        # The reference compiled ahead instead of warmed up by a run: a population
        # of the slow substrates takes many minutes a run on the CPU.
        ref_pop = ref_many.lower(key, pop).compile()
        rollout(ours, key, pop, n, FRAMES, SIZE, batched=True)
        r = _best(lambda pop=pop, f=ref_pop: f(key, pop)["rgb"], max(1, repeat - 1))
        o = _best(
            lambda pop=pop: rollout(ours, key, pop, n, FRAMES, SIZE, batched=True)[0],
            max(1, repeat - 1),
        )
        print(f" | {r:>9.2f} {o:>9.2f} {r / o:>5.2f}x", end="", flush=True)
    print(f"  (frames max |diff| {diff:.1e})", flush=True)


def bench_split(name: str, workers: int, pop: int = 16) -> tuple[float, float]:
    """(seconds for ``pop`` one-by-one rollouts, seconds for them split over worker
    processes), what ``asal search --workers N`` does."""
    from primordium.asal.config import DEFAULT_STEPS
    from primordium.asal.search.evaluate import frames_task
    from primordium.asal.substrates import get_substrate
    from primordium.exec.local import LocalExecutor

    sub = get_substrate(name)
    steps = int(getattr(sub, "rollout_steps", None) or DEFAULT_STEPS.get(name, 1000))
    key = np.asarray(jax.random.PRNGKey(0))[None]
    flat = np.stack(
        [
            np.asarray(ravel_pytree(sub.default_params(k))[0])
            for k in jax.random.split(jax.random.PRNGKey(2), pop)
        ]
    )
    ts = (FRAMES, True)
    one = [(sub, key, flat[i : i + 1], steps, ts, SIZE, None) for i in range(pop)]
    chunks = [(sub, key, c, steps, ts, SIZE, None) for c in np.array_split(flat, workers)]
    frames_task(one[0])
    t = time.perf_counter()
    for task in one:
        frames_task(task)
    loop = time.perf_counter() - t
    with LocalExecutor(workers) as ex:
        ex.map(frames_task, chunks)  # start the workers and compile there
        t = time.perf_counter()
        ex.map(frames_task, chunks)
        split = time.perf_counter() - t
    return loop, split


def bench_clip(n_images: int = 32) -> float:
    import torch
    from transformers import CLIPConfig, CLIPModel

    from primordium.asal.embed.clip import HFModel, default_image_processor

    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig())  # ViT-B/32 sizes, random weights
    fm = HFModel(model, default_image_processor(model), None)
    imgs = np.random.default_rng(0).random((n_images, 224, 224, 3), dtype=np.float32)
    fm.embed_images(imgs[:4])
    t = time.perf_counter()
    fm.embed_images(imgs)
    return n_images / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--substrates", default=",".join(PAPER), help="registry names, comma-separated")
    ap.add_argument(
        "--pop",
        default="16,256",
        help="population sizes, comma-separated (256 runs only for "
        f"{', '.join(CHEAP)} unless --all-pops)",
    )
    ap.add_argument(
        "--all-pops", action="store_true", help="every population size for every substrate"
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--steps",
        type=int,
        default=0,
        help="steps per rollout instead of each substrate's default (shorter runs on a busy CPU)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 32 steps, population 4, one repeat"
    )
    ap.add_argument(
        "--split",
        type=int,
        default=0,
        metavar="WORKERS",
        help="instead: 16 one-by-one rollouts against the population split over WORKERS processes",
    )
    ap.add_argument(
        "--clip",
        action="store_true",
        help="instead: CLIP ViT-B/32 (random weights) images per second",
    )
    args = ap.parse_args()
    names = [s.strip() for s in args.substrates.split(",") if s.strip()]
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}")
    if args.clip:
        print(f"CLIP ViT-B/32 (random weights) image embeddings: {bench_clip():.1f} images/s")
        return
    if args.split:
        print(
            f"{'substrate':<11} {'16 one-by-one (s)':>17} {f'16 on {args.split} workers (s)':>20} {'ratio':>6}"
        )
        for name in names:
            loop, split = bench_split(name, args.split)
            print(f"{name:<11} {loop:>17.2f} {split:>20.2f} {loop / split:>5.2f}x", flush=True)
        return
    pops = [int(p) for p in args.pop.split(",") if p.strip()]
    repeat, steps = args.repeat, args.steps or None
    if args.quick:
        pops, repeat, steps = [4], 1, 32
    ref_substrates, ref_rollout = reference()
    print(
        f"{FRAMES} frames at {SIZE} px; times in seconds, best of {repeat}; ratio = reference / primordium"
    )
    head = " | ".join(
        [f"{'one ref':>9} {'one ours':>9} {'ratio':>6}"]
        + [f"{f'{p} ref':>9} {f'{p} ours':>9} {'ratio':>6}" for p in pops]
    )
    print(f"{'substrate':<11} {'steps':>5} {head}")
    for name in names:
        bench(name, ref_substrates, ref_rollout, pops, repeat, steps, args.all_pops or args.quick)


if __name__ == "__main__":
    main()

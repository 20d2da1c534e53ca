"""ASAL substrate speed: one simulation per substrate against the issue's reference
figures, a vmapped population of 16 against 16 one-by-one rollouts (side by
side, same machine load), and CLIP embeddings per second.

The reference figures were measured on this 2-core machine with the public
JAX implementation of ASAL (one simulation, 8 frames sampled, 224-px renders,
no foundation model); they are quoted, not re-run here.

    python benchmarks/asal.py [--repeat 3] [--only gol,lenia] [--no-clip]
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from primordium.asal.substrates import get_substrate, rollout

# name -> (options, steps, reference seconds or None when the reference did not finish)
CASES = {
    "gol": ({"grid_size": 64}, 1024, 0.044),
    "lenia": ({"grid_size": 128}, 256, 0.82),
    "boids": ({"n": 128}, 1000, 2.33),
    "particle_lenia": ({"n": 200}, 1000, 0.85),
    "nca_d3": ({"grid_size": 128}, 1000, 0.83),
    "dnca": ({}, 1000, 2.2),
    "particle_life": ({"n": 5000}, 1000, None),  # reference: not done in 300 s
    "particle_life_pp": ({"n": 5000}, 1000, None),
}
POP = 16
FRAMES, SIZE = 8, 224


def _time(fn, repeat: int, cpu: list | None = None) -> float:
    """Best wall time; with ``cpu``, also records that run's CPU seconds (all threads),
    which shows how much of the machine the run actually got."""
    best = float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn())
        wall = time.perf_counter() - t
        if wall < best:
            best = wall
            if cpu is not None:
                cpu[:] = [time.process_time() - c]
    return best


# Population comparison: same settings, but Particle Life with 1000 particles
# so 2 x 16 rollouts fit in a few minutes.
POP_OPTS = {"particle_life": {"n": 1000}, "particle_life_pp": {"n": 1000}}


def bench_substrate(name: str, repeat: int) -> dict:
    opts, steps, ref = CASES[name]
    sub = get_substrate(name, **opts)
    key = jax.random.PRNGKey(0)
    params = sub.default_params(jax.random.PRNGKey(1))
    frames, sub = rollout(sub, key, params, steps, FRAMES, SIZE)  # compile (and size buffers)
    cpu: list = []
    one = _time(lambda: rollout(sub, key, params, steps, FRAMES, SIZE)[0], repeat, cpu)
    if name in POP_OPTS:
        sub = get_substrate(name, **POP_OPTS[name])
    pop = jax.vmap(sub.default_params)(jax.random.split(jax.random.PRNGKey(2), POP))
    members = [jax.tree_util.tree_map(lambda a, i=i: a[i], pop) for i in range(POP)]
    rollout(sub, key, pop, steps, FRAMES, SIZE, batched=True)
    for m in members[:1]:
        rollout(sub, key, m, steps, FRAMES, SIZE)
    # Alternate the two ways so both see the same machine load.
    t_vmap, t_loop = [], []
    for _ in range(max(1, repeat - 1)):
        t_vmap.append(_time(lambda: rollout(sub, key, pop, steps, FRAMES, SIZE, batched=True)[0], 1))
        t_loop.append(_time(lambda: [rollout(sub, key, m, steps, FRAMES, SIZE)[0] for m in members], 1))
    return {"name": name, "steps": steps, "opts": opts | POP_OPTS.get(name, {}), "one": one, "cpu": cpu[0], "ref": ref, "vmap": min(t_vmap),
            "loop": min(t_loop)}


def bench_split(name: str, workers: int) -> tuple[float, float]:
    """(seconds for 16 one-by-one rollouts, seconds for the 16 split over worker processes).

    The split is what ``asal search --workers N`` does: each worker process
    rolls out a chunk of the population (vmapped), results in order.
    """
    from jax.flatten_util import ravel_pytree

    from primordium.exec.local import LocalExecutor
    from primordium.asal.search.evaluate import _frames_task

    opts, steps, _ = CASES[name]
    sub = get_substrate(name, **(opts | POP_OPTS.get(name, {})))
    key = jax.random.PRNGKey(0)
    flat = np.stack([np.asarray(ravel_pytree(sub.default_params(k))[0])
                     for k in jax.random.split(jax.random.PRNGKey(2), POP)])
    one = [(sub, np.asarray(key), flat[i : i + 1], steps, FRAMES, SIZE) for i in range(POP)]
    chunks = [(sub, np.asarray(key), c, steps, FRAMES, SIZE) for c in np.array_split(flat, workers)]
    _frames_task(one[0])  # compile here
    t = time.perf_counter()
    for task in one:
        _frames_task(task)
    loop = time.perf_counter() - t
    with LocalExecutor(workers) as ex:
        ex.map(_frames_task, chunks)  # start the workers and compile there
        t = time.perf_counter()
        ex.map(_frames_task, chunks)
        split = time.perf_counter() - t
    return loop, split


def bench_clip(n_images: int = 32) -> float:
    import torch
    from transformers import CLIPConfig, CLIPModel

    from primordium.asal.embed.clip import HFModel, default_image_processor

    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig())  # ViT-B/32 sizes, random weights
    fm = HFModel(model, default_image_processor(model), None)
    imgs = np.random.default_rng(0).integers(0, 256, (n_images, 224, 224, 3), dtype=np.uint8)
    fm.embed_images(imgs[:4])
    t = time.perf_counter()
    fm.embed_images(imgs)
    return n_images / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--no-clip", action="store_true")
    ap.add_argument("--split", type=int, default=0, metavar="WORKERS",
                    help="only compare 16 one-by-one rollouts with the population split over WORKERS processes")
    args = ap.parse_args()
    if args.split:
        print(f"{'substrate':<17} {'16 one-by-one (s)':>17} {f'16 on {args.split} workers (s)':>20} {'ratio':>6}")
        for name in args.only.split(","):
            loop, split = bench_split(name.strip(), args.split)
            print(f"{name.strip():<17} {loop:>17.2f} {split:>20.2f} {loop / split:>5.2f}x", flush=True)
        return
    print(f"jax {jax.__version__}, devices {jax.devices()}, {FRAMES} frames at {SIZE} px, population {POP}")
    print(f"{'substrate':<17} {'steps':>5} {'one sim (s)':>11} {'cpu (s)':>7} {'reference (s)':>13} {'speed-up':>8}"
          f" {'16 vmapped (s)':>14} {'16 one-by-one (s)':>17} {'ratio':>6}")
    for name in args.only.split(","):
        r = bench_substrate(name.strip(), args.repeat)
        ref = f"{r['ref']:.3f}" if r["ref"] else "> 300"
        speed = f"{r['ref'] / r['one']:.1f}x" if r["ref"] else f">{300 / r['one']:.0f}x"
        print(f"{r['name']:<17} {r['steps']:>5} {r['one']:>11.3f} {r['cpu']:>7.2f} {ref:>13} {speed:>8} {r['vmap']:>14.2f}"
              f" {r['loop']:>17.2f} {r['loop'] / r['vmap']:>5.2f}x" + ("  (population: n=1000)" if r["name"] in POP_OPTS
                                                                     else ""), flush=True)
    if not args.no_clip:
        print(f"CLIP ViT-B/32 (random weights) image embeddings: {bench_clip():.1f} images/s "
              f"(issue's reference: ~11 images/s)")


if __name__ == "__main__":
    main()

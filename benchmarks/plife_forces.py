"""plife force backends side by side: the paper's all-pairs step (run from
../shared/reference/asal), ours with ``backend=allpairs`` (pure JAX, what an
accelerator uses) and ``backend=numba`` (host cell list, the CPU default),
for one simulation and a vmapped population, same params, state and key.

The state is first advanced so that clusters have formed (the cell list's
work grows with clustering). Prints seconds per step and ratios to the
reference.

    PRIMORDIUM_SHARED=../shared python benchmarks/plife_forces.py [--n 5000] [--pop 16] [--warm 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types
from pathlib import Path

import jax

from primordium.asal.substrates import get_substrate


def reference_plife(n: int):
    shared = Path(
        os.environ.get("PRIMORDIUM_SHARED", Path(__file__).resolve().parents[1].parent / "shared")
    )
    sys.modules.setdefault(
        "evosax", types.ModuleType("evosax")
    )  # only its FlattenSubstrateParameters needs it
    sys.path.insert(0, str(shared / "reference" / "asal"))
    import substrates as ref_substrates

    return ref_substrates.ParticleLife(
        n_particles=n, n_colors=6, search_space="beta+alpha", dt=2e-3, render_radius=1e-2
    )


def per_step(step, key, state, params, repeat: int) -> float:
    jax.block_until_ready(step(key, state, params))  # compile
    t = time.perf_counter()
    for _ in range(repeat):
        out = step(key, state, params)
    jax.block_until_ready(out)
    return (time.perf_counter() - t) / repeat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--pop", type=int, default=16, help="0: one simulation only")
    ap.add_argument("--warm", type=int, default=100, help="steps run first so clusters form")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    key = jax.random.PRNGKey(0)
    ref = reference_plife(args.n)
    params = ref.default_params(key)
    state = ref.init_state(key, params)
    ours = {b: get_substrate("plife", n_particles=args.n, backend=b) for b in ("allpairs", "numba")}
    state = jax.jit(
        lambda s: jax.lax.fori_loop(
            0, args.warm, lambda i, s: ours["numba"].step(key, s, params), s
        )
    )(state)

    pkeys = jax.random.split(jax.random.PRNGKey(1), max(args.pop, 1))
    pop_params = jax.vmap(ref.default_params)(pkeys)
    pop_state = jax.tree_util.tree_map(
        lambda a: jax.numpy.broadcast_to(a, (max(args.pop, 1),) + a.shape), state
    )

    def batched(step):
        return jax.jit(jax.vmap(step, in_axes=(None, 0, 0)))

    rows = []
    for label, fn in [("reference", ref.step_state)] + [(b, s.step) for b, s in ours.items()]:
        one = per_step(jax.jit(fn), key, state, params, args.repeat)
        many = (
            per_step(batched(fn), key, pop_state, pop_params, args.repeat)
            if args.pop
            else float("nan")
        )
        rows.append((label, one, many))
    print(f"plife n={args.n}, seconds per step (jax backend: {jax.default_backend()})")
    print(f"{'':10s} {'one':>9s} {'ratio':>7s} {'pop ' + str(args.pop):>9s} {'ratio':>7s}")
    for label, one, many in rows:
        print(
            f"{label:10s} {one:9.4f} {rows[0][1] / one:6.1f}x {many:9.4f} {rows[0][2] / many:6.1f}x"
        )


if __name__ == "__main__":
    main()

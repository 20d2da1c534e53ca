"""GPT training throughput (tokens/s): primordium.learn's GPT beside Hugging Face's GPT-2
of the same shape, one training step (forward, backward, AdamW) at a time; and NCA data
generation (learn/nca.py, numpy) beside the ASAL discrete NCA substrate's rollouts (JAX).

Both read LifeGPT batches of the same shapes (a W x W grid pair is 2W^2 + 1
tokens) and run with the same thread count; steps alternate between the two
so both see the same machine load, and the best of --repeat rounds is kept.

    python benchmarks/learn.py [--threads 2] [--repeat 5] [--steps 5] [--device cpu|gpu]
    python benchmarks/learn.py --nca [--repeat 3]

The NCA side: R rules of S symbols on an N x N torus, each run F frames. Ours
draws each rule's network (3x3 one-hot neighbourhood, 16 hidden units) and
steps all rules together in numpy, then tokenises 2x2 patches; ASAL's ``dnca``
(the same grid and symbol count, its own network) runs the same frames as
one jitted, vmapped ``lax.scan`` of its ``step`` over the R parameter sets,
compiled before timing. Both report cell updates per second; ours also
tokens per second (frames x (patches + 2) a rule).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from primordium.learn.device import torch_device
from primordium.learn.gpt import GPT, GPTConfig
from primordium.learn.lifegpt import LifeConfig, LifeStream

# (grid side, layers, heads, width, batch)
SHAPES = [(8, 2, 4, 64, 32), (16, 2, 4, 64, 16), (16, 4, 4, 128, 16)]


def _hf_gpt2(c: GPTConfig):
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(
        vocab_size=c.vocab,
        n_positions=c.context,
        n_embd=c.d_model,
        n_layer=c.n_layer,
        n_head=c.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=None,
        eos_token_id=None,
    )
    cfg._attn_implementation = "sdpa"
    model = GPT2LMHeadModel(cfg)
    return lambda idx: model(idx).logits, model


def _steps(forward, params, tokens, mask, steps: int, device) -> float:
    opt = torch.optim.AdamW(params, lr=1e-3)
    x, y, m = tokens[:, :-1], tokens[:, 1:], mask
    best = float("inf")
    for i in range(steps + 1):
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(forward(x)[m], y[m])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:  # the first step warms caches and allocators
            best = min(best, time.perf_counter() - t0)
    return best


# (symbols, torus side, rules, frames)
NCA_SHAPES = [(10, 12, 256, 16), (4, 8, 1024, 8)]


def _asal_dnca(states: int, side: int, rules: int, frames: int):
    import jax

    from primordium.asal.substrates.nca import DNCA

    sub = DNCA(grid_size=side, d_state=states, temperature=0.2, color_map="random")
    keys = jax.random.split(jax.random.PRNGKey(0), rules)
    params = jax.vmap(sub.default_params)(keys)
    states0 = jax.vmap(sub.init_state)(keys, params)

    def one(key, state, p):
        def step(s, k):
            s = sub.step(k, s, p)
            return s, s

        return jax.lax.scan(step, state, jax.random.split(key, frames - 1))[1]

    run = jax.jit(jax.vmap(one))
    run(keys, states0, params).block_until_ready()  # compile

    def timed() -> float:
        t0 = time.perf_counter()
        run(keys, states0, params).block_until_ready()
        return time.perf_counter() - t0

    return timed


def nca_main(repeat: int) -> None:
    from primordium.learn import nca

    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    print(
        f"{'shape':>22} {'ours cells/s':>13} {'ours tokens/s':>14} {'ASAL dnca cells/s':>18} "
        f"{'ratio':>6}"
    )
    for states, side, rules, frames in NCA_SHAPES:
        cfg = nca.NCAConfig(states=states, size=side, frames=frames)
        asal = _asal_dnca(states, side, rules, frames)
        mine = theirs = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            tokens = nca.tokenize(cfg, nca.trajectories(cfg, 0, range(rules)))
            mine = min(mine, time.perf_counter() - t0)
            theirs = min(theirs, asal())
        cells = rules * (frames - 1) * side * side
        print(
            f"{f'S{states} {side}x{side} R{rules} F{frames}':>22} {cells / mine:>13,.0f} "
            f"{tokens.size / mine:>14,.0f} {cells / theirs:>18,.0f} {theirs / mine:>5.2f}x"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--nca", action="store_true", help="NCA data generation instead")
    args = ap.parse_args()
    if args.nca:
        nca_main(args.repeat)
        return
    torch.set_num_threads(args.threads)
    device = torch_device(args.device)
    load = os.getloadavg()[0]
    print(f"device {device}, {args.threads} threads, load average {load:.1f} at the start")
    print(
        f"{'grid':>6} {'shape':>14} {'params':>9} {'primordium tok/s':>17} {'GPT-2 tok/s':>12} {'ratio':>6}"
    )
    for side, layers, heads, width, batch in SHAPES:
        life = LifeConfig(size=side)
        c = GPTConfig(4, life.context, layers, heads, width)
        tokens, mask = LifeStream(life, 0).batch(0, batch)
        t, m = torch.from_numpy(tokens).to(device), torch.from_numpy(mask).to(device)
        torch.manual_seed(0)
        ours = GPT(c).to(device)
        hf_forward, hf = _hf_gpt2(c)
        hf.to(device)
        mine, theirs = float("inf"), float("inf")
        for _ in range(args.repeat):
            mine = min(mine, _steps(ours, ours.parameters(), t, m, args.steps, device))
            theirs = min(theirs, _steps(hf_forward, hf.parameters(), t, m, args.steps, device))
        n = batch * (tokens.shape[1] - 1)
        print(
            f"{side:>4}^2 {f'L{layers} H{heads} D{width} B{batch}':>14} {ours.n_params():>9,} "
            f"{n / mine:>17,.0f} {n / theirs:>12,.0f} {theirs / mine:>5.2f}x"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()

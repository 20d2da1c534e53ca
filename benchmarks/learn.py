"""GPT training throughput (tokens/s): primordium.learn's GPT beside Hugging Face's GPT-2
of the same shape, one training step (forward, backward, AdamW) at a time.

Both read LifeGPT batches of the same shapes (a W x W grid pair is 2W^2 + 1
tokens) and run with the same thread count; steps alternate between the two
so both see the same machine load, and the best of --repeat rounds is kept.

    python benchmarks/learn.py [--threads 2] [--repeat 5] [--steps 5] [--device cpu|gpu]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
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

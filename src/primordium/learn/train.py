"""The training loop: any token stream into a GPT, deterministic from a seed, resumable.

A stream is anything with ``batch(step, size) -> (tokens, mask)``: int64
tokens [B, T + 1] and a bool mask [B, T] of the targets that count (LifeGPT
counts only the answer grid). Each batch is a pure function of the stream's
seed and the step, so the data order needs no state: a run killed at any
moment restarts from its last checkpoint (model, optimiser, RNG, step and the
metric interval's sums) and logs the same rows an uninterrupted run logs.
"""

from __future__ import annotations

import io
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from primordium.errors import ConfigError, StoreError
from primordium.learn.gpt import GPT
from primordium.store import Run

CHECKPOINT = "checkpoint.pt"


class Stream(Protocol):
    def batch(self, step: int, size: int) -> tuple[np.ndarray, np.ndarray]: ...


def _default_threads() -> int:
    return max(1, min(8, os.cpu_count() or 1))


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch: int = 32
    lr: float = 1e-3
    # Cosine decay from lr down to lr * min_lr_ratio at the last step, after a linear warm-up.
    min_lr_ratio: float = 0.1
    warmup: int = 100
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0
    # CPU threads; a run records them, since sums split over another count round differently.
    threads: int = field(default_factory=_default_threads)
    log_every: int = 50
    checkpoint_every: int = 500

    def __post_init__(self) -> None:
        for name in ("steps", "batch", "threads", "log_every", "checkpoint_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}", field=name)
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ConfigError(
                f"warmup must be 0 or more steps, got {self.warmup!r}", field="warmup"
            )
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}", field="lr")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError(
                f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}", field="min_lr_ratio"
            )
        if self.weight_decay < 0 or self.grad_clip < 0:
            raise ConfigError(
                "weight_decay and grad_clip must be 0 or more",
                field=("weight_decay", "grad_clip"),
            )

    def to_dict(self) -> dict:
        return asdict(self)

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        span = max(1, self.steps - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        floor = self.lr * self.min_lr_ratio
        return floor + (self.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


@contextmanager
def deterministic(threads: int) -> Iterator[None]:
    """Fixed thread count and deterministic kernels for the block; the caller's settings come back."""
    old_threads, old_det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    # warn_only: a CUDA kernel without a deterministic version warns instead of failing.
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)


def new_optimizer(model: GPT, config: TrainConfig) -> torch.optim.Optimizer:
    # Weight decay on matrices only: not on biases, norms or embeddings' rows of one token.
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "positions" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "positions" not in n)]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.95))


def masked_stats(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, int, int, int, int]:
    """(mean loss over the counted targets, right targets, counted targets, right sequences, sequences)."""
    loss = F.cross_entropy(logits[mask], targets[mask])
    right = (logits.argmax(-1) == targets) | ~mask
    return (
        loss,
        int((right & mask).sum()),
        int(mask.sum()),
        int(right.all(dim=1).sum()),
        int(targets.shape[0]),
    )


def _checkpoint_bytes(model, opt, step: int, sums: dict, seconds: float) -> bytes:
    buf = io.BytesIO()
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "rng": torch.get_rng_state(),
            "step": step,
            "sums": dict(sums),
            "seconds": seconds,
        },
        buf,
    )
    return buf.getvalue()


def read_checkpoint(run: Run, device) -> dict:
    path = run.dir / CHECKPOINT
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise StoreError("checkpoint not found", file=path) from None
    except Exception as e:  # torch raises many kinds for a damaged file
        raise StoreError(f"corrupt checkpoint ({type(e).__name__})", file=path) from None


def _zero_sums() -> dict:
    return {"loss": 0.0, "right": 0, "counted": 0, "seq_right": 0, "seqs": 0, "batches": 0}


Validate = Callable[[GPT], dict[str, float]]
Progress = Callable[[dict], None]


def fit(
    run: Run,
    model: GPT,
    stream: Stream,
    config: TrainConfig,
    device,
    *,
    resume: bool = False,
    validate: Validate | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train ``model`` on ``stream`` for ``config.steps`` steps into ``run``; return the last row.

    Rows (every ``log_every`` steps and at the end): ``loss``, ``accuracy``
    (counted targets right) and ``sequence_accuracy`` (sequences whose counted
    targets are all right), each averaged over the steps since the last row,
    the learning rate, and whatever ``validate(model)`` adds.
    """
    model.to(device)
    opt = new_optimizer(model, config)
    tokens_per_step = None
    if resume:
        ck = read_checkpoint(run, device)
        try:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            torch.set_rng_state(ck["rng"].cpu())
            done, sums, seconds = int(ck["step"]), dict(ck["sums"]), float(ck["seconds"])
        except (KeyError, RuntimeError, ValueError, TypeError) as e:
            raise StoreError(
                f"checkpoint does not fit the run's model ({type(e).__name__})",
                file=run.dir / CHECKPOINT,
            ) from None
        run.truncate_metrics(done)
    else:
        done, sums, seconds = 0, _zero_sums(), 0.0
        run.write_bytes(CHECKPOINT, _checkpoint_bytes(model, opt, 0, sums, 0.0))
    row: dict[str, Any] = {}
    # True only between whole steps: an interrupt then may keep a checkpoint of this very step.
    whole = True

    def save() -> None:
        run.write_bytes(CHECKPOINT, _checkpoint_bytes(model, opt, done, sums, seconds))

    with deterministic(config.threads), run.running():
        try:
            model.train()
            for s in range(done, config.steps):
                t0 = time.perf_counter()
                whole = False
                tokens, mask = stream.batch(s, config.batch)
                tokens_per_step = tokens.shape[0] * (tokens.shape[1] - 1)
                t = torch.from_numpy(tokens).to(device)
                m = torch.from_numpy(mask).to(device)
                for g in opt.param_groups:
                    g["lr"] = config.lr_at(s)
                logits = model(t[:, :-1])
                loss, right, counted, seq_right, seqs = masked_stats(logits, t[:, 1:], m)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                opt.step()
                seconds += time.perf_counter() - t0
                sums = {
                    "loss": sums["loss"] + loss.item(),
                    "right": sums["right"] + right,
                    "counted": sums["counted"] + counted,
                    "seq_right": sums["seq_right"] + seq_right,
                    "seqs": sums["seqs"] + seqs,
                    "batches": sums["batches"] + 1,
                }
                done = s + 1
                whole = True
                if done % config.log_every == 0 or done == config.steps:
                    whole = False  # a row logged but its sums not yet cleared is no step's state
                    row = {
                        "loss": sums["loss"] / sums["batches"],
                        "accuracy": sums["right"] / max(sums["counted"], 1),
                        "sequence_accuracy": sums["seq_right"] / max(sums["seqs"], 1),
                        "lr": config.lr_at(s),
                        "seen_tokens": done * tokens_per_step,
                        "elapsed": seconds,
                    }
                    if validate is not None:
                        model.eval()
                        with torch.no_grad():
                            row |= validate(model)
                        model.train()
                    run.log(done, **row)
                    sums = _zero_sums()
                    whole = True
                if done % config.checkpoint_every == 0 or done == config.steps:
                    save()
                    run.update_summary(step=done, loss=row.get("loss"))
                if progress is not None:
                    progress({"run": run.id, "step": done, "steps": config.steps, "row": row})
        except KeyboardInterrupt:
            if whole:
                save()
            raise
    return row

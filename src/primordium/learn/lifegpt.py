"""LifeGPT: a GPT that learns a Life-like rule from flattened pairs of torus states.

A training example is START, a grid's cells row by row, SEP, the cells one
update later; the loss counts only the answer's cells. The model is never
told the grid's size or that it wraps. Initial grids are drawn at a density
uniform over ``[density_low, density_high]`` minus a held-out band (the
LifeGPT paper's point: diverse densities decide whether it learns the rule),
so evaluation can ask about densities the model never saw.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from primordium.errors import ConfigError, StoreError
from primordium.learn import life
from primordium.store import Run, Store

ENGINE = "learn"
KIND = "lifegpt"
# Separate random streams, so held-out grids never share draws with training batches.
TRAIN_STREAM, VALID_STREAM, EVAL_STREAM, ROLLOUT_STREAM = 0, 1, 2, 3


@dataclass(frozen=True)
class LifeConfig:
    rule: str = "B3/S23"
    size: int = 16
    density_low: float = 0.0
    density_high: float = 1.0
    # Densities in [holdout_low, holdout_high) are never drawn for training.
    holdout_low: float = 0.4
    holdout_high: float = 0.5

    def __post_init__(self) -> None:
        life.rule_number(self.rule)
        if not isinstance(self.size, int) or self.size < 3:
            raise ConfigError(
                f"size must be an integer of at least 3, got {self.size!r}", field="size"
            )
        if not 0 <= self.density_low < self.density_high <= 1:
            raise ConfigError(
                f"densities must satisfy 0 <= density_low < density_high <= 1, got "
                f"{self.density_low} and {self.density_high}",
                field=("density_low", "density_high"),
            )
        if not self.holdout_low <= self.holdout_high:
            raise ConfigError(
                f"holdout_low {self.holdout_low} is above holdout_high {self.holdout_high}",
                field=("holdout_low", "holdout_high"),
            )
        if self._kept() <= 0:
            raise ConfigError(
                "the held-out band covers every training density",
                field=("holdout_low", "holdout_high"),
            )

    @property
    def rule_number(self) -> int:
        return life.rule_number(self.rule)

    @property
    def context(self) -> int:
        """Tokens the model reads for this size: the pair less its last cell."""
        return 2 * self.size * self.size + 1

    def _band(self) -> tuple[float, float]:
        lo = min(max(self.holdout_low, self.density_low), self.density_high)
        hi = min(max(self.holdout_high, self.density_low), self.density_high)
        return lo, hi

    def _kept(self) -> float:
        lo, hi = self._band()
        return (self.density_high - self.density_low) - (hi - lo)

    def train_densities(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Uniform over the training range with the held-out band cut out."""
        lo, hi = self._band()
        u = self.density_low + rng.random(count) * self._kept()
        return np.where(u >= lo, u + (hi - lo), u)

    def seen(self, density: float) -> bool:
        lo, hi = self._band()
        return self.density_low <= density <= self.density_high and not lo <= density < hi

    def to_dict(self) -> dict:
        return asdict(self)


class LifeStream:
    """Training batches: a pure function of (seed, step), so the data order needs no state."""

    def __init__(self, config: LifeConfig, seed: int):
        self.config, self.seed, self.rule = config, seed, config.rule_number
        n = config.size * config.size
        self._answer_from = n + 1  # target index of the answer's first cell

    def grids(self, step: int, size: int, stream: int = TRAIN_STREAM) -> np.ndarray:
        rng = np.random.default_rng([self.seed, stream, step])
        densities = self.config.train_densities(rng, size)
        return life.random_grids(rng, size, self.config.size, densities)

    def batch(self, step: int, size: int, stream: int = TRAIN_STREAM):
        before = self.grids(step, size, stream)
        tokens = life.encode_pairs(before, life.step(before, self.rule))
        mask = np.zeros((size, tokens.shape[1] - 1), bool)
        mask[:, self._answer_from :] = True
        return tokens, mask


def validator(config: LifeConfig, seed: int, samples: int = 64):
    """Teacher-forced accuracy on one fixed held-out batch (cheap: one forward pass)."""
    import torch

    from primordium.learn.train import masked_stats

    tokens, mask = LifeStream(config, seed).batch(0, samples, VALID_STREAM)

    def validate(model) -> dict[str, float]:
        device = next(model.parameters()).device
        t = torch.from_numpy(tokens).to(device)
        loss, right, counted, grids_right, grids = masked_stats(
            model(t[:, :-1]), t[:, 1:], torch.from_numpy(mask).to(device)
        )
        return {
            "val_loss": float(loss),
            "val_cell_accuracy": right / counted,
            "val_grid_accuracy": grids_right / grids,
        }

    return validate


def predict(model, grids: np.ndarray, chunk: int = 64) -> np.ndarray:
    """The model's next state of uint8 grids [B, H, W], decoded greedily cell by cell.

    Each cell is the likelier of DEAD and ALIVE given the grid and the cells
    the model has already written (its own, not the true ones).
    """
    import torch

    device = next(model.parameters()).device
    b, h, w = grids.shape
    if 2 * h * w + 1 > model.config.context:
        raise ConfigError(
            f"a {h}x{w} grid needs a context of {2 * h * w + 1} tokens; the model has "
            f"{model.config.context}",
            field="size",
        )
    out = np.empty((b, h * w), np.uint8)
    model.eval()
    with torch.no_grad():
        for i in range(0, b, chunk):
            caches = model.new_caches()
            logits = model(torch.from_numpy(life.prompt(grids[i : i + chunk])).to(device), caches)
            cells = []
            for _ in range(h * w):
                nxt = logits[:, -1, : life.ALIVE + 1].argmax(-1, keepdim=True)
                cells.append(nxt)
                if len(cells) < h * w:  # the last cell needs no next prediction
                    logits = model(nxt, caches)
            out[i : i + chunk] = torch.cat(cells, 1).cpu().numpy().astype(np.uint8)
    return out.reshape(b, h, w)


def _bins(edges: int = 10) -> list[tuple[float, float]]:
    return [(i / edges, (i + 1) / edges) for i in range(edges)]


def evaluate(
    model,
    config: LifeConfig,
    seed: int,
    *,
    size: int | None = None,
    samples_per_bin: int = 16,
    rollout_samples: int = 16,
    rollout_steps: int = 8,
) -> dict[str, Any]:
    """Accuracy of the model's next states on held-out grids of ``size``, by density bin,
    beside two baselines (copy the input; all dead), and of a rollout that feeds the
    model its own predictions, step by step, against the true automaton."""
    size = size or config.size
    rule = config.rule_number
    rng = np.random.default_rng([seed, EVAL_STREAM, size])
    rows, all_before, all_after, all_pred = [], [], [], []
    for lo, hi in _bins():
        densities = lo + rng.random(samples_per_bin) * (hi - lo)
        before = life.random_grids(rng, samples_per_bin, size, densities)
        after = life.step(before, rule)
        pred = predict(model, before)
        mid = (lo + hi) / 2
        rows.append(
            {
                "density": [lo, hi],
                "seen": config.seen(mid),
                **_scores(pred, after),
                "copy_cell_accuracy": float((before == after).mean()),
                "dead_cell_accuracy": float((after == 0).mean()),
            }
        )
        all_before.append(before)
        all_after.append(after)
        all_pred.append(pred)
    before, after, pred = (np.concatenate(a) for a in (all_before, all_after, all_pred))
    result = {
        "size": size,
        **_scores(pred, after),
        "copy_cell_accuracy": float((before == after).mean()),
        "dead_cell_accuracy": float((after == 0).mean()),
        "by_density": rows,
    }
    if rollout_steps > 0 and rollout_samples > 0:
        start = life.random_grids(
            rng, rollout_samples, size, config.train_densities(rng, rollout_samples)
        )
        _, true, model_frames = rollout(model, start, rule, rollout_steps)
        result["rollout_cell_accuracy"] = [
            float((model_frames[t] == true[t]).mean()) for t in range(1, rollout_steps + 1)
        ]
    return result


def _scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    same = pred == truth
    return {
        "cell_accuracy": float(same.mean()),
        "grid_accuracy": float(same.all(axis=(1, 2)).mean()),
    }


def rollout(model, start: np.ndarray, rule: int, steps: int):
    """(steps, true states, model states), each [steps + 1, B, H, W], from the same start;
    the model is fed its own previous prediction."""
    true, mine = [start], [start]
    for _ in range(steps):
        true.append(life.step(true[-1], rule))
        mine.append(predict(model, mine[-1]))
    return steps, np.stack(true), np.stack(mine)


# -- runs ----------------------------------------------------------------------


def config_of(run: Run):
    from primordium.learn.gpt import GPTConfig
    from primordium.learn.train import TrainConfig

    if run.engine != ENGINE or run.config.get("kind") != KIND:
        raise StoreError(f"run {run.id} is not a LifeGPT run")
    cfg = run.config
    try:
        return (
            LifeConfig(**cfg["life"]),
            GPTConfig(**cfg["model"]),
            TrainConfig(**cfg["train"]),
        )
    except (KeyError, TypeError) as e:
        raise StoreError(f"run {run.id} has a damaged config ({e})") from None


def load_model(run: Run, device):
    from primordium.learn.gpt import GPT
    from primordium.learn.train import read_checkpoint

    life_cfg, gpt_cfg, train_cfg = config_of(run)
    model = GPT(gpt_cfg).to(device)
    try:
        model.load_state_dict(read_checkpoint(run, device)["model"])
    except (KeyError, RuntimeError) as e:
        raise StoreError(f"run {run.id}: checkpoint does not fit its model ({e})") from None
    return model, life_cfg, train_cfg


def train_lifegpt(
    store: Store,
    life_config: LifeConfig | None = None,
    model_config=None,
    train_config=None,
    *,
    resume: str | None = None,
    device: str = "cpu",
    name: str | None = None,
    eval_samples: int = 16,
    progress=None,
) -> tuple[Run, dict]:
    """Train (or with ``resume``, continue) a LifeGPT run; at the end, evaluate it on held-out
    grids of its own size (accuracies into the summary and ``eval.json``) and draw a
    16-step rollout (``rollout.gif``)."""
    import torch

    from primordium.learn.device import torch_device
    from primordium.learn.gpt import GPT, GPTConfig
    from primordium.learn.train import TrainConfig, deterministic, fit

    dev = torch_device(device)
    if resume is not None:
        run = store.open(resume)
        life_config, model_config, train_config = config_of(run)
        if run.status == "running":
            raise StoreError(f"run {run.id} is still running in another process")
        run.require_folder()
    else:
        life_config = life_config or LifeConfig()
        train_config = train_config or TrainConfig()
        model_config = model_config or GPTConfig(life.VOCAB, life_config.context)
        if model_config.context < life_config.context:
            raise ConfigError(
                f"context {model_config.context} is shorter than a {life_config.size}x"
                f"{life_config.size} pair needs ({life_config.context})",
                field="context",
            )
    with deterministic(train_config.threads):
        torch.manual_seed(train_config.seed)
        model = GPT(model_config)
    if resume is None:
        record = {
            "kind": KIND,
            "life": life_config.to_dict(),
            "model": model_config.to_dict(),
            "train": train_config.to_dict(),
        }
        run = store.create(ENGINE, record, name=name)
        run.update_summary(rule=life_config.rule, size=life_config.size, params=model.n_params())
    stream = LifeStream(life_config, train_config.seed)
    last = fit(
        run,
        model,
        stream,
        train_config,
        dev,
        resume=resume is not None,
        validate=validator(life_config, train_config.seed),
        progress=progress,
    )
    with deterministic(train_config.threads):
        result = evaluate(
            model,
            life_config,
            train_config.seed,
            samples_per_bin=eval_samples,
            rollout_samples=eval_samples,
            rollout_steps=4,
        )
    run.write_json("eval.json", {"sizes": [result]})
    # The gallery's picture of the run: one held-out grid, model beside truth.
    rollout_run(run, steps=16, density=0.3, device=device)
    summary = {
        "cell_accuracy": result["cell_accuracy"],
        "grid_accuracy": result["grid_accuracy"],
        "loss": last.get("loss"),
        "copy_cell_accuracy": result["copy_cell_accuracy"],
        "dead_cell_accuracy": result["dead_cell_accuracy"],
        "seconds": last.get("elapsed"),
    }
    run.update_summary(**summary)
    return run, summary


def evaluate_run(
    run: Run,
    sizes: list[int] | None = None,
    *,
    samples: int = 16,
    rollout_steps: int = 8,
    device: str = "cpu",
) -> dict[str, Any]:
    """``evaluate`` a run's model at each grid side in ``sizes`` (its own by default);
    the results replace those of the same sides in the run's ``eval.json``."""
    from primordium.learn.device import torch_device
    from primordium.learn.train import deterministic

    for name, value in (("samples", samples), ("rollout_steps", rollout_steps)):
        if value < 0:
            raise ConfigError(f"{name} must be 0 or more, got {value}", field=name)
    model, life_cfg, train_cfg = load_model(run, torch_device(device))
    sizes = sizes or [life_cfg.size]
    for s in sizes:
        if s < 3:
            raise ConfigError(f"size must be at least 3, got {s}", field="sizes")
        if 2 * s * s + 1 > model.config.context:
            raise ConfigError(
                f"a {s}x{s} grid needs a context of {2 * s * s + 1} tokens; the model has "
                f"{model.config.context}",
                field="sizes",
            )
    with deterministic(train_cfg.threads):
        results = [
            evaluate(
                model,
                life_cfg,
                train_cfg.seed,
                size=s,
                samples_per_bin=samples,
                rollout_samples=samples,
                rollout_steps=rollout_steps,
            )
            for s in sizes
        ]
    try:
        import json

        old = json.loads((run.dir / "eval.json").read_text())["sizes"]
    except (OSError, ValueError, KeyError, TypeError):
        old = []
    kept = [r for r in old if isinstance(r, dict) and r.get("size") not in sizes]
    doc = {"sizes": sorted(kept + results, key=lambda r: r["size"])}
    run.write_json("eval.json", doc)
    return {"run": run.id, "sizes": results}


def rollout_run(
    run: Run,
    *,
    steps: int = 16,
    density: float = 0.3,
    size: int | None = None,
    seed: int = 0,
    out=None,
    fps: float = 4.0,
    device: str = "cpu",
) -> dict[str, Any]:
    """One grid run by the model on its own output beside the true automaton, as a GIF
    (model | truth | wrong cells in red) and the fraction of cells right at each step."""
    from primordium.learn.device import torch_device
    from primordium.learn.pictures import rollout_frames
    from primordium.learn.train import deterministic
    from primordium.viz.media import save_gif

    if steps < 1:
        raise ConfigError(f"steps must be at least 1, got {steps}", field="steps")
    if not 0 <= density <= 1:
        raise ConfigError(f"density must be in [0, 1], got {density}", field="density")
    if not fps > 0:
        raise ConfigError(f"fps must be positive, got {fps}", field="fps")
    model, life_cfg, train_cfg = load_model(run, torch_device(device))
    size = size or life_cfg.size
    if size < 3:
        raise ConfigError(f"size must be at least 3, got {size}", field="size")
    rng = np.random.default_rng([seed, ROLLOUT_STREAM])
    start = life.random_grids(rng, 1, size, np.array([density]))
    with deterministic(train_cfg.threads):
        _, true, mine = rollout(model, start, life_cfg.rule_number, steps)
    accuracy = [float((mine[t] == true[t]).mean()) for t in range(1, steps + 1)]
    path = out if out is not None else run.dir / "rollout.gif"
    save_gif(rollout_frames(mine[:, 0], true[:, 0]), path, fps=fps)
    return {"run": run.id, "gif": str(path), "size": size, "cell_accuracy": accuracy}


def quickstart_run(store: Store, seed: int = 0, progress=None) -> Run:
    """LifeGPT learning B3/S23 on a 4x4 torus (600 steps: about half a minute on 2 idle cores,
    estimated from the step rate; 20 min under the load of 5 other sessions, measured)."""
    from primordium.learn.gpt import GPTConfig
    from primordium.learn.train import TrainConfig

    cfg = LifeConfig(size=4)

    def report(p: dict) -> None:
        if progress is not None:
            row = p["row"]
            status = f"held-out cells right {row['val_cell_accuracy']:.3f}" if row else ""
            progress({"done": p["step"], "total": p["steps"], "status": status})

    run, _ = train_lifegpt(
        store,
        cfg,
        GPTConfig(life.VOCAB, cfg.context, n_layer=2, n_head=4, d_model=64),
        TrainConfig(steps=600, batch=32, lr=3e-3, warmup=50, seed=seed, log_every=20),
        name=f"quickstart LifeGPT (B3/S23, 4x4, seed {seed})",
        eval_samples=8,
        progress=report,
    )
    return run

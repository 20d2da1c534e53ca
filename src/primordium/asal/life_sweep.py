"""The Life-like rule sweep as a resumable run: score rules batch by batch, rank them."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jax
import numpy as np

from primordium.asal.context import CHECKPOINT, ENGINE, progress
from primordium.asal.runs import read_json
from primordium.errors import ConfigError, StoreError
from primordium.store import Run, Store, load_checkpoint, save_checkpoint


@dataclasses.dataclass
class SweepConfig:
    """Defaults are the paper's ``main_sweep_gol.py``: the paper's ``gol`` substrate
    (rule number as the parameter, each initial soup at its own density), 64 x 64
    torus, 4096 steps, 32 frames, 16 initial states per rule, CLIP ViT-B/32, all
    2^18 rules. ``SweepConfig.quick()`` is primordium's fast setting: ``life_like``
    soups (density 0.5, crisp upscaling), pixels, 512 steps, 8 frames, 1 state, 64 px."""

    substrate: str = "gol"  # "gol" (the paper's) or "life_like" (primordium's quick sweep)

    fm: str = "clip"
    fm_weights: str | None = None
    grid: int = 64
    steps: int = 4096
    frames: int = 32
    size: int | None = None
    seed: int = 0
    bs: int = (
        16  # initial states per rule, split(PRNGKey(seed), bs) as the paper's sweep draws them
    )
    batch: int | None = (
        None  # rules per compiled call; None: 256 (pixels/thumbnail) or 4 (CLIP, DINO)
    )
    sample: int | None = None  # score a random subset (always with B3/S23) instead of all 2^18

    QUICK = {
        "substrate": "life_like",
        "fm": "pixels",
        "steps": 512,
        "frames": 8,
        "bs": 1,
        "size": 64,
    }

    @classmethod
    def quick(cls, **overrides) -> SweepConfig:
        return cls(**(cls.QUICK | overrides))

    def resolved(self) -> SweepConfig:
        from primordium.asal.embed.base import MODELS

        c = dataclasses.replace(self)
        base_fm = c.fm.partition(":")[0].lower()
        if base_fm not in MODELS:
            raise ConfigError(
                f"unknown foundation model {c.fm!r} (choose from {', '.join(MODELS)})"
            )
        in_graph = base_fm in ("pixels", "thumbnail")
        if c.size is None:
            c.size = 224  # the paper renders at the CLIP side
        if c.batch is None:
            # Frames for CLIP leave the compiled rollout: keep a batch's frames in memory bounds.
            c.batch = 256 if in_graph else 4
        if c.substrate not in SWEEP_SUBSTRATES:
            raise ConfigError(
                f"field 'substrate' must be one of {', '.join(SWEEP_SUBSTRATES)}, not {c.substrate!r}"
            )
        for name in ("grid", "steps", "batch", "bs"):
            if getattr(c, name) < 1:
                raise ConfigError(f"field {name!r} must be at least 1")
        if c.frames < 2 or c.steps < c.frames:
            raise ConfigError("need 2 <= frames <= steps")
        if c.sample is not None and c.sample < 1:
            raise ConfigError("field 'sample' must be at least 1")
        return c

    def keys(self) -> jax.Array:
        return jax.random.split(jax.random.PRNGKey(self.seed), self.bs)

    def rules(self) -> np.ndarray:
        """Rule numbers in the order they are scored: B3/S23 first, then a
        seeded random permutation, so a partial sweep is an unbiased sample."""
        from primordium.asal.substrates.life import N_RULES, parse_rule

        conway = parse_rule("B3/S23")
        order = np.random.default_rng(self.seed).permutation(N_RULES)
        order = np.concatenate([[conway], order[order != conway]]).astype(np.int64)
        return order if self.sample is None else order[: self.sample]


SWEEP_SUBSTRATES = ("gol", "life_like")


def sweep_substrate(cfg: SweepConfig):
    """The substrate whose initial soups and steps the sweep runs."""
    from primordium.asal.substrates.life import GameOfLife, Life

    return GameOfLife(grid_size=cfg.grid) if cfg.substrate == "gol" else Life(grid=cfg.grid)


def poster_key(cfg: SweepConfig, keys: jax.Array) -> jax.Array:
    # The paper's sweep keeps the final frame of the middle initial state
    # (bs // 2); primordium's quick sweep always showed the first.
    return keys[cfg.bs // 2] if cfg.substrate == "gol" else keys[0]


def run_sweep(cfg: SweepConfig, store: Store, output=None, run: Run | None = None) -> Run:
    """Score Life-like rules by open-endedness; resumable batch by batch."""
    from primordium.asal.embed import get_model
    from primordium.asal.search.sweep import score_rules

    cfg = cfg.resolved()
    fm = get_model(cfg.fm, weights=cfg.fm_weights)
    if run is None:
        run = store.create(
            ENGINE, {"kind": "sweep-life"} | dataclasses.asdict(cfg), name=f"life sweep ({cfg.fm})"
        )
    with run.running():
        rules = cfg.rules()
        ckpt = run.dir / CHECKPOINT
        scores = np.full(len(rules), np.nan, np.float32)
        done = 0
        if ckpt.exists():
            arrays, state = load_checkpoint(ckpt)
            scores, done = arrays["scores"], state["done"]
        life = sweep_substrate(cfg)
        key = cfg.keys()
        last_save = time.monotonic()
        with progress(output, "Life-like rules", len(rules)) as bar:
            bar.update(done)
            while done < len(rules):
                chunk = rules[done : done + cfg.batch]
                # Pad the last batch so every batch reuses one compiled rollout.
                padded = np.concatenate([chunk, np.repeat(chunk[-1:], cfg.batch - len(chunk))])
                s = score_rules(padded, fm, key, life, cfg.steps, cfg.frames, cfg.size)
                scores[done : done + len(chunk)] = s[: len(chunk)]
                done += len(chunk)
                bar.advance(len(chunk))
                if time.monotonic() - last_save > 20 or done == len(rules):
                    save_checkpoint(ckpt, {"scores": scores}, {"done": done})
                    run.log(done, scored=done)
                    last_save = time.monotonic()
        _write_sweep_outputs(cfg, run, rules, scores, fm, life, key)
    return run


def sweep_ranking(rules: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
    from primordium.asal.substrates.life import rule_string

    order = np.argsort(scores, kind="stable")
    return [
        {"rank": r + 1, "rule": rule_string(int(rules[i])), "score": float(scores[i])}
        for r, i in enumerate(order)
    ]


def _write_sweep_outputs(cfg, run, rules, scores, fm, life, key) -> None:
    from primordium.asal import outputs
    from primordium.asal.search.sweep import rule_params
    from primordium.asal.substrates import rollout, to_uint8
    from primordium.asal.substrates.life import parse_rule

    ranking = sweep_ranking(rules[np.isfinite(scores)], scores[np.isfinite(scores)])
    run.write_json("ranking.json", ranking)
    run.write_text(
        "ranking.csv",
        "rank,rule,score\n"
        + "".join(f"{r['rank']},{r['rule']},{r['score']:.6f}\n" for r in ranking),
    )
    conway = next((r for r in ranking if r["rule"] == "B3/S23"), None)
    top = np.array([parse_rule(r["rule"]) for r in ranking[:24]])
    frames, _ = rollout(
        life, poster_key(cfg, key), rule_params(top, life), cfg.steps, cfg.frames, 96, batched=True
    )
    frames = to_uint8(frames)
    z = fm.embed_images(frames[:, -1])
    outputs.poster(frames[:, -1], z, run.artifact("top_rules.png"))
    run.update_summary(
        rules=len(ranking), best=ranking[0]["rule"], conway_rank=conway["rank"] if conway else None
    )


def sweep_result(run: Run, top: int | None = None) -> dict[str, Any]:
    ranking = read_json(run.dir / "ranking.json")
    out = ranking if top is None else ranking[:top]
    conway = next((r for r in ranking if r["rule"] == "B3/S23"), None)
    return {
        "run": run.id,
        "total": len(ranking),
        "conway": conway,
        "rules": [{"rule": r["rule"], "score": r["score"]} for r in out],
    }


def resume_sweep(store: Store, run_id: str, output=None) -> Run:
    run = store.open(run_id)
    config = dict(run.config)
    # Sweeps recorded before the field existed all ran life_like soups.
    config.setdefault("substrate", "life_like")
    if run.engine != ENGINE or config.pop("kind", None) != "sweep-life":
        raise StoreError(f"run {run.id} is not a Life sweep")
    if run.status == "finished":
        return run
    return run_sweep(SweepConfig(**config), store, output, run=run)

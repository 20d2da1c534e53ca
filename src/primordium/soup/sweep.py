"""Soup studies: the same soup under many seeds, one soup per executor task.

Each task runs a whole soup in memory and returns its curve and transition
epoch; the sweep run keeps one line per finished seed in ``results.jsonl``,
so a killed sweep resumes with the seeds it has not finished. Results depend
only on (config, seed), never on where a task ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from primordium.errors import ConfigError, StoreError
from primordium.soup.device import hold
from primordium.soup.gpu import resolve_device
from primordium.soup.metrics import TransitionDetector, entropy
from primordium.soup.soup import SoupConfig, initial_soup, reset_soup, resets_after
from primordium.store import Run, Store

ENGINE = "soup"
RESULTS = "results.jsonl"


def parse_seeds(text: str) -> list[int]:
    """'0..99', '3,5,8' or '0..9,20': inclusive ranges and single seeds."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if ".." in part:
                lo, hi = (int(x) for x in part.split("..", 1))
                if hi < lo:
                    raise ValueError
                seeds.extend(range(lo, hi + 1))
            elif part:
                seeds.append(int(part))
    except ValueError:
        raise ConfigError(
            f"seeds: {text!r} is not a list like 0..99 or 1,2,5", field="seeds"
        ) from None
    if not seeds or min(seeds) < 0:
        raise ConfigError(f"seeds: {text!r} names no non-negative seed", field="seeds")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds: {text!r} names a seed twice", field="seeds")
    return seeds


def soup_task(task: tuple) -> dict[str, Any]:
    """One soup from its seed to the end: curve of (epoch, high-order entropy, ops per tape).

    ``task`` is (config dict, epochs, log_every, stop_after[, device]); the
    device (cpu or gpu) defaults to cpu.
    """
    config_dict, epochs, log_every, stop_after, *rest = task
    config = SoupConfig.from_dict(config_dict)
    held = hold(initial_soup(config), config, rest[0] if rest else "cpu")
    detector = TransitionDetector()
    curve: list[list[float]] = []
    total_ops, row_ops, tapes, done, reset_index = 0, 0, 0, 0, 1
    for e in range(epochs):
        tapes += held.epoch(e)
        done = e + 1
        if done % log_every == 0 or done == epochs:
            # The ops are read at rows only (on a GPU, reading them waits for the device).
            total_ops = held.ops_through(e)
            hoe = entropy(held.host())["high_order_entropy"]
            per_tape = (total_ops - row_ops) / max(1, tapes)
            curve.append([done, round(hoe, 6), round(per_tape, 3)])
            detector.update(done, hoe, per_tape)
            row_ops, tapes = total_ops, 0
            if (
                stop_after is not None
                and detector.transition_epoch is not None
                and done >= detector.transition_epoch + stop_after
            ):
                break
        # After the row, as in `soup run` (and cubff): a row shows the soup before its reset.
        if resets_after(config, e):
            held.replace(reset_soup(config, reset_index, held.host))
            reset_index += 1
    return {
        "seed": config.seed,
        "epochs": done,
        "ops": total_ops,
        "transition_epoch": detector.transition_epoch,
        "high_order_entropy": curve[-1][1] if curve else 0.0,
        "curve": curve,
    }


def _done(run: Run) -> dict[int, dict]:
    path = run.dir / RESULTS
    out: dict[int, dict] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
            out[int(row["seed"])] = row
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue  # a line cut by a kill: that seed runs again
    return out


def run_sweep(
    store: Store,
    config: SoupConfig | None = None,
    seeds: list[int] | None = None,
    *,
    epochs: int = 1000,
    log_every: int = 64,
    stop_after_transition: int | None = None,
    resume: str | None = None,
    executor=None,
    name: str | None = None,
    on_result: Callable[[dict, int, int], None] | None = None,
    device: str = "cpu",
) -> tuple[Run, list[dict]]:
    """Run (or continue) a sweep; returns the run and one result per seed, in seed order.

    ``device`` (cpu, gpu or auto) is where every soup's epochs run; it is
    settled here, before the run exists, so a missing GPU leaves nothing behind.
    """
    device = resolve_device(device)
    if resume is not None:
        run = store.open(resume)
        sweep = run.config.get("sweep")
        if run.engine != ENGINE or not isinstance(sweep, dict):
            raise StoreError(f"run {run.id} is not a soup sweep")
        config = SoupConfig.from_dict(sweep["soup"])
        seeds, epochs, log_every = sweep["seeds"], sweep["epochs"], sweep["log_every"]
        stop_after_transition = sweep.get("stop_after_transition")
        # Keep only complete lines: a kill may have cut the last one.
        finished = _done(run)
        run.write_text(RESULTS, "".join(json.dumps(finished[s]) + "\n" for s in sorted(finished)))
    else:
        config = config or SoupConfig()
        if config.interactions is not None:
            raise ConfigError(
                "a sweep does not take an interaction pattern; run each soup with `soup run`"
            )
        seeds = seeds or [0]
        if epochs < 1 or log_every < 1:
            raise ConfigError(
                "epochs and log_every must be at least 1", field=("epochs", "log_every")
            )
        sweep = {
            "soup": config.to_dict(),
            "seeds": seeds,
            "epochs": epochs,
            "log_every": log_every,
            "stop_after_transition": stop_after_transition,
        }
        run = store.create(ENGINE, {"sweep": sweep}, name=name)
        finished = {}
    todo = [s for s in seeds if s not in finished]
    tasks = [
        (replace(config, seed=s).to_dict(), epochs, log_every, stop_after_transition, device)
        for s in todo
    ]

    def record(_: int, result: dict) -> None:
        finished[result["seed"]] = result
        with open(run.dir / RESULTS, "a") as f:
            f.write(json.dumps(result) + "\n")
        n_trans = sum(r["transition_epoch"] is not None for r in finished.values())
        run.log(len(finished), seeds_done=len(finished), transitioned=n_trans)
        if on_result is not None:
            on_result(result, len(finished), len(seeds))

    with run.running():
        if executor is None:
            for k, t in enumerate(tasks):
                record(k, soup_task(t))
        else:
            executor.map(soup_task, tasks, on_done=record)
        results = [finished[s] for s in seeds]
        summary = sweep_summary(results, epochs)
        run.write_json("sweep.json", summary)
        run.update_summary(**{k: v for k, v in summary.items() if k != "per_seed"})
        from primordium.viz import save

        save(sweep_figure(results), run.artifact("sweep.png"))
    return run, results


def sweep_summary(results: list[dict], epochs: int) -> dict[str, Any]:
    trans = [r["transition_epoch"] for r in results if r["transition_epoch"] is not None]
    return {
        "seeds": len(results),
        "transitioned": len(trans),
        "fraction_transitioned": len(trans) / max(1, len(results)),
        "median_transition_epoch": float(np.median(trans)) if trans else None,
        "epochs": epochs,
        "per_seed": [
            {
                "seed": r["seed"],
                "transition_epoch": r["transition_epoch"],
                "high_order_entropy": r["high_order_entropy"],
            }
            for r in results
        ],
    }


def sweep_figure(results: list[dict]) -> Any:
    """High-order entropy against epoch, one line per seed; seeds that made the transition in colour."""
    from primordium.viz import figure, style

    with style():
        fig, ax = figure("single")
        for r in sorted(results, key=lambda r: r["transition_epoch"] is not None):
            xs = [p[0] for p in r["curve"]]
            ys = [p[1] for p in r["curve"]]
            went = r["transition_epoch"] is not None
            ax.plot(xs, ys, color="#d9502f" if went else "#aab0c6", linewidth=1.0 if went else 0.8)
        # One legend entry per kind of seed, not per seed.
        n_went = sum(r["transition_epoch"] is not None for r in results)
        ax.plot([], [], color="#d9502f", label=f"transition ({n_went} seeds)")
        ax.plot([], [], color="#aab0c6", label=f"no transition ({len(results) - n_went} seeds)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("high-order entropy (bits per byte)")
        ax.set_title(f"{len(results)} seeds")
        ax.legend(loc="best")
    return fig

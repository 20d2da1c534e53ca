"""Learned simulators: LifeGPT, and NCA pre-pre-training of language models.

LifeGPT trains, evaluates and rolls out a GPT that learns a Life-like rule;
nca-compare runs the NCA pre-pre-training experiment.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from primordium.cli.output import Json, Output, Quiet
from primordium.errors import ConfigError

if TYPE_CHECKING:  # imported lazily at run time: `--help` must not load torch
    from primordium.learn.nca import NCAConfig
    from primordium.learn.train import TrainConfig

app = typer.Typer(no_args_is_help=True)
lifegpt_app = typer.Typer(no_args_is_help=True)
app.add_typer(
    lifegpt_app,
    name="lifegpt",
    help="A GPT that learns a Life-like rule from flattened torus states.",
)

_D = "Data"
_M = "Model"
_T = "Training"
Device = typer.Option(
    "cpu", "--device", help="Where the model runs: cpu, gpu (CUDA) or auto (the GPU when present)."
)


@lifegpt_app.command()
def train(
    rule: str = typer.Option(
        "B3/S23", "--rule", help="Life-like rule, e.g. B3/S23.", rich_help_panel=_D
    ),
    size: int = typer.Option(16, "--size", help="Square torus side.", rich_help_panel=_D),
    density_low: float = typer.Option(
        0.0, "--density-low", help="Lowest initial density.", rich_help_panel=_D
    ),
    density_high: float = typer.Option(
        1.0, "--density-high", help="Highest initial density.", rich_help_panel=_D
    ),
    holdout_low: float = typer.Option(
        0.4, "--holdout-low", help="Densities from here ...", rich_help_panel=_D
    ),
    holdout_high: float = typer.Option(
        0.5,
        "--holdout-high",
        help="... to here are never trained on (held out).",
        rich_help_panel=_D,
    ),
    layers: int = typer.Option(2, "--layers", help="Transformer blocks.", rich_help_panel=_M),
    heads: int = typer.Option(4, "--heads", help="Attention heads per block.", rich_help_panel=_M),
    d_model: int = typer.Option(
        64, "--d-model", help="Width of the residual stream.", rich_help_panel=_M
    ),
    steps: int = typer.Option(2000, "--steps", help="Optimiser steps.", rich_help_panel=_T),
    batch: int = typer.Option(32, "--batch", help="Pairs per step.", rich_help_panel=_T),
    lr: float = typer.Option(3e-3, "--lr", help="Peak learning rate (AdamW).", rich_help_panel=_T),
    warmup: int = typer.Option(100, "--warmup", help="Linear warm-up steps.", rich_help_panel=_T),
    weight_decay: float = typer.Option(0.01, "--weight-decay", rich_help_panel=_T),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the weights and the data.", rich_help_panel=_T
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        show_default="none: the CPUs, at most 8",
        help="CPU threads; recorded, reused on resume.",
        rich_help_panel=_T,
    ),
    log_every: int = typer.Option(
        50, "--log-every", help="Steps between metric rows.", rich_help_panel=_T
    ),
    checkpoint_every: int = typer.Option(
        250, "--checkpoint-every", help="Steps between checkpoints.", rich_help_panel=_T
    ),
    eval_samples: int = typer.Option(
        16, "--eval-samples", help="Held-out grids per density bin in the final evaluation."
    ),
    resume: str | None = typer.Option(
        None,
        "--resume",
        show_default="none: a new run",
        help="Continue this run from its checkpoint.",
    ),
    name: str | None = typer.Option(
        None, "--name", show_default="the run's id", help="A name for the run."
    ),
    device: str = Device,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Train LifeGPT; metrics and checkpoints go to the run store, then a held-out evaluation."""
    from primordium.learn.gpt import GPTConfig
    from primordium.learn.life import VOCAB
    from primordium.learn.lifegpt import LifeConfig, train_lifegpt
    from primordium.learn.train import TrainConfig
    from primordium.store import Store

    out = Output(json, quiet)
    life_cfg = model_cfg = train_cfg = None
    if resume is None:
        life_cfg = LifeConfig(
            rule=rule,
            size=size,
            density_low=density_low,
            density_high=density_high,
            holdout_low=holdout_low,
            holdout_high=holdout_high,
        )
        model_cfg = GPTConfig(VOCAB, life_cfg.context, layers, heads, d_model)
        extra = {} if threads is None else {"threads": threads}
        train_cfg = TrainConfig(
            steps=steps,
            batch=batch,
            lr=lr,
            warmup=warmup,
            weight_decay=weight_decay,
            seed=seed,
            log_every=log_every,
            checkpoint_every=checkpoint_every,
            **extra,
        )
    total = train_cfg.steps if train_cfg is not None else None
    announced: list[str] = []
    with out.progress("lifegpt", total=total) as task:

        def progress(p: dict) -> None:
            if not announced:
                announced.append(p["run"])
                out.info(
                    f"run {p['run']} (resume with: primordium learn lifegpt train --resume {p['run']})"
                )
            row = p["row"]
            line = f"step {p['step']}/{p['steps']}" + (
                f"  loss {row['loss']:.4f}  val cells {row['val_cell_accuracy']:.4f}" if row else ""
            )
            task.update(p["step"], status=line)
            if (
                not out.err.is_terminal
                and not quiet
                and not json
                and row
                and p["step"] % (10 * max(1, (train_cfg.log_every if train_cfg else 50))) == 0
            ):
                out.info(line)

        run_, summary = train_lifegpt(
            Store(),
            life_cfg,
            model_cfg,
            train_cfg,
            resume=resume,
            device=device,
            name=name,
            eval_samples=eval_samples,
            progress=progress,
        )
    if json:
        out.json({"run": run_.id, **summary})
    else:
        out.info(f"run {run_.id} in {run_.dir}")
        out.print(
            f"held-out cells right {summary['cell_accuracy']:.4f}, whole grids "
            f"{summary['grid_accuracy']:.4f} (baselines: copy {summary['copy_cell_accuracy']:.4f}, "
            f"all dead {summary['dead_cell_accuracy']:.4f}); final loss {summary['loss']:.4f}"
        )


def _sizes(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(
            f"--sizes {text!r}: expected comma-separated integers, e.g. 8,16"
        ) from None


@lifegpt_app.command("eval")
def eval_(
    run_id: str = typer.Argument(..., help="A LifeGPT run."),
    sizes: str | None = typer.Option(
        None, "--sizes", show_default="none: the run's", help="Grid sides to test, e.g. 8,16."
    ),
    samples: int = typer.Option(16, "--samples", help="Held-out grids per density bin."),
    rollout_steps: int = typer.Option(
        8, "--rollout-steps", help="Steps of the model fed its own output."
    ),
    device: str = Device,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Accuracy on held-out grids by density, against baselines, with rollouts; into eval.json."""
    from primordium.learn.lifegpt import evaluate_run
    from primordium.store import Store

    out = Output(json, quiet)
    result = evaluate_run(
        Store().open(run_id),
        _sizes(sizes),
        samples=samples,
        rollout_steps=rollout_steps,
        device=device,
    )
    if json:
        out.json(result)
        return
    for r in result["sizes"]:
        out.line(
            f"{r['size']}x{r['size']}: cells {r['cell_accuracy']:.4f}  grids {r['grid_accuracy']:.4f}"
            f"  (copy {r['copy_cell_accuracy']:.4f}, all dead {r['dead_cell_accuracy']:.4f})"
        )
        for b in r["by_density"]:
            lo, hi = b["density"]
            out.line(
                f"  density {lo:.1f}-{hi:.1f}{'' if b['seen'] else ' (unseen)':9s} cells "
                f"{b['cell_accuracy']:.4f}  grids {b['grid_accuracy']:.4f}"
            )
        if "rollout_cell_accuracy" in r:
            acc = "  ".join(f"{a:.3f}" for a in r["rollout_cell_accuracy"])
            out.line(f"  rollout cells right by step: {acc}")


@lifegpt_app.command()
def rollout(
    run_id: str = typer.Argument(..., help="A LifeGPT run."),
    steps: int = typer.Option(16, "--steps", help="Updates to run."),
    density: float = typer.Option(0.3, "--density", help="Initial density."),
    size: int | None = typer.Option(
        None, "--size", show_default="none: the run's", help="Grid side."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the initial grid."),
    out_path: Path | None = typer.Option(
        None,
        "--out",
        show_default="none: rollout.gif in the run folder",
        help="GIF to write.",
    ),
    fps: float = typer.Option(4.0, "--fps", help="Frames per second."),
    device: str = Device,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Run the model on its own output beside the true automaton; a GIF and accuracy per step."""
    from primordium.learn.lifegpt import rollout_run
    from primordium.store import Store

    out = Output(json, quiet)
    result = rollout_run(
        Store().open(run_id),
        steps=steps,
        density=density,
        size=size,
        seed=seed,
        out=out_path,
        fps=fps,
        device=device,
    )
    if json:
        out.json(result)
        return
    out.info(f"wrote {result['gif']}")
    out.line("cells right by step: " + "  ".join(f"{a:.3f}" for a in result["cell_accuracy"]))


# -- NCA pre-pre-training --------------------------------------------------------

_N = "NCA data"


def _nca_options(frames_default: int | None = None) -> dict[str, Any]:
    """The flags of an NCA config, shared by nca-data, prepretrain and nca-compare."""
    return {
        "states": typer.Option(10, "--states", help="Symbols per cell.", rich_help_panel=_N),
        "size": typer.Option(12, "--size", help="Square torus side.", rich_help_panel=_N),
        "patch": typer.Option(
            2, "--patch", help="Patch side: patch^2 cells are one token.", rich_help_panel=_N
        ),
        "hidden": typer.Option(16, "--hidden", help="Hidden units of a rule.", rich_help_panel=_N),
        "temperature": typer.Option(
            0.2, "--temperature", help="Softmax temperature of sampling.", rich_help_panel=_N
        ),
        "sampling": typer.Option(
            "sample", "--sampling", help="sample (stochastic) or argmax.", rich_help_panel=_N
        ),
        "frames": typer.Option(
            frames_default,
            "--frames",
            show_default="none: enough to fill the context",
            help="Frames per trajectory, the first grid included.",
            rich_help_panel=_N,
        ),
        "band_low": typer.Option(
            0.0, "--band-low", help="Keep rules of complexity from ...", rich_help_panel=_N
        ),
        "band_high": typer.Option(
            1.0,
            "--band-high",
            help="... to this (zlib-compressed / raw size of the trajectory).",
            rich_help_panel=_N,
        ),
    }


_O = _nca_options()


def _nca_config(context: int | None, **fields: Any) -> NCAConfig:
    from primordium.learn.nca import NCAConfig
    from primordium.learn.prepretrain import frames_for

    if fields["frames"] is None:
        probe = NCAConfig(**(fields | {"frames": 1}))
        fields["frames"] = frames_for(probe, context) if context else 8
    return NCAConfig(**fields)


def _train_config(**kw: Any) -> TrainConfig:
    from primordium.learn.train import TrainConfig

    threads = kw.pop("threads")
    return TrainConfig(**kw, **({} if threads is None else {"threads": threads}))


def _report(out: Output, label: str, every: int) -> Callable[[dict], None]:
    def progress(p: dict) -> None:
        row = p["row"]
        if row and p["step"] % every == 0:
            out.info(
                f"{label} {p['run']} step {p['step']}/{p['steps']}  loss {row['loss']:.4f}  "
                f"val {row.get('val_loss', float('nan')):.4f}"
            )

    return progress


Steps = typer.Option(1000, "--steps", help="Optimiser steps.", rich_help_panel=_T)
Batch = typer.Option(16, "--batch", help="Sequences per step.", rich_help_panel=_T)
Lr = typer.Option(1e-3, "--lr", help="Peak learning rate (AdamW).", rich_help_panel=_T)
Warmup = typer.Option(50, "--warmup", help="Linear warm-up steps.", rich_help_panel=_T)
Seed = typer.Option(0, "--seed", help="Seed of the weights and the data.", rich_help_panel=_T)
Threads = typer.Option(
    None, "--threads", show_default="none: the CPUs, at most 8", rich_help_panel=_T
)
LogEvery = typer.Option(
    50, "--log-every", help="Steps between metric rows (and validations).", rich_help_panel=_T
)
CheckpointEvery = typer.Option(
    250, "--checkpoint-every", help="Steps between checkpoints.", rich_help_panel=_T
)
Context = typer.Option(128, "--context", help="Tokens the model reads.", rich_help_panel=_M)
Layers = typer.Option(2, "--layers", help="Transformer blocks.", rich_help_panel=_M)
Heads = typer.Option(4, "--heads", help="Attention heads per block.", rich_help_panel=_M)
DModel = typer.Option(64, "--d-model", help="Width of the residual stream.", rich_help_panel=_M)
Rules = typer.Option(
    1024, "--rules", help="Rules kept (one training sequence each).", rich_help_panel=_N
)
Resume = typer.Option(
    None, "--resume", show_default="none: a new run", help="Continue this run from its checkpoint."
)
Name = typer.Option(None, "--name", show_default="the run's id", help="A name for the run.")


def _percentiles(values: Any) -> dict[str, float]:
    import numpy as np

    q = [0, 10, 25, 50, 75, 90, 100]
    return {str(k): float(v) for k, v in zip(q, np.percentile(values, q), strict=True)}


@app.command("nca-data")
def nca_data(
    rules: int = typer.Option(256, "--rules", help="Rules to keep.", rich_help_panel=_N),
    seed: int = typer.Option(0, "--seed", help="Seed of the rules."),
    states: int = _O["states"],
    size: int = _O["size"],
    patch: int = _O["patch"],
    hidden: int = _O["hidden"],
    temperature: float = _O["temperature"],
    sampling: str = _O["sampling"],
    frames: int = typer.Option(8, "--frames", help="Frames per trajectory.", rich_help_panel=_N),
    band_low: float = _O["band_low"],
    band_high: float = _O["band_high"],
    out_path: Path | None = typer.Option(
        None, "--out", show_default="none: statistics only", help="Write the tokens here (.npz)."
    ),
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Draw NCA rules, keep those in the complexity band; their statistics, and tokens."""
    import numpy as np

    from primordium.learn.nca import keep_rules
    from primordium.store.atomic import atomic_write_bytes

    out = Output(json, quiet)
    cfg = _nca_config(
        None,
        states=states,
        size=size,
        patch=patch,
        hidden=hidden,
        temperature=temperature,
        sampling=sampling,
        frames=frames,
        band_low=band_low,
        band_high=band_high,
    )
    kept = keep_rules(cfg, seed, rules)
    stats: dict[str, Any] = {
        "vocab": cfg.vocab,
        "tokens_per_rule": cfg.tokens_per_trajectory,
        "kept": int(kept.indices.size),
        "scanned": kept.scanned,
        "tokens": int(kept.tokens.size),
        "kept_complexity": _percentiles(kept.complexity),
        "all_complexity": _percentiles(kept.scanned_complexity),
    }
    if out_path is not None:
        import io

        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            tokens=kept.tokens.astype(np.uint32),
            rules=kept.indices,
            complexity=kept.complexity,
        )
        atomic_write_bytes(out_path, buf.getvalue())
        stats["out"] = str(out_path)
    if json:
        out.json({"config": cfg.to_dict(), "seed": seed, **stats})
        return
    out.line(
        f"kept {stats['kept']} of {stats['scanned']} rules; {stats['tokens']} tokens "
        f"({stats['tokens_per_rule']} a rule, vocabulary {stats['vocab']})"
    )
    for label, key in (("kept", "kept_complexity"), ("all tried", "all_complexity")):
        pct = "  ".join(f"p{k} {v:.3f}" for k, v in stats[key].items())
        out.line(f"complexity of {label}: {pct}")
    if out_path is not None:
        out.info(f"wrote {out_path}")


@app.command()
def prepretrain(
    rules: int = Rules,
    states: int = _O["states"],
    size: int = _O["size"],
    patch: int = _O["patch"],
    hidden: int = _O["hidden"],
    temperature: float = _O["temperature"],
    sampling: str = _O["sampling"],
    frames: int | None = _O["frames"],
    band_low: float = _O["band_low"],
    band_high: float = _O["band_high"],
    context: int = Context,
    layers: int = Layers,
    heads: int = Heads,
    d_model: int = DModel,
    steps: int = Steps,
    batch: int = Batch,
    lr: float = Lr,
    warmup: int = Warmup,
    seed: int = Seed,
    threads: int | None = Threads,
    log_every: int = LogEvery,
    checkpoint_every: int = CheckpointEvery,
    resume: str | None = Resume,
    name: str | None = Name,
    device: str = Device,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Pre-pre-train a GPT on NCA trajectories (one rule a sequence); a resumable run."""
    from primordium.learn.gpt import GPTConfig
    from primordium.learn.prepretrain import prepretrain as run_prepretrain
    from primordium.store import Store

    out = Output(json, quiet)
    cfg = model = train_cfg = None
    if resume is None:
        cfg = _nca_config(
            context,
            states=states,
            size=size,
            patch=patch,
            hidden=hidden,
            temperature=temperature,
            sampling=sampling,
            frames=frames,
            band_low=band_low,
            band_high=band_high,
        )
        model = GPTConfig(cfg.vocab, context, layers, heads, d_model)
        train_cfg = _train_config(
            steps=steps,
            batch=batch,
            lr=lr,
            warmup=warmup,
            seed=seed,
            threads=threads,
            log_every=log_every,
            checkpoint_every=checkpoint_every,
        )
    run, summary = run_prepretrain(
        Store(),
        cfg,
        model,
        train_cfg,
        rules=rules,
        resume=resume,
        device=device,
        name=name,
        progress=None if quiet or json else _report(out, "prepretrain", 10 * log_every),
    )
    if json:
        out.json({"run": run.id, **summary})
    else:
        out.info(f"run {run.id} in {run.dir}")
        out.print(
            f"kept {summary['rules']} of {summary['scanned']} rules; final loss "
            f"{summary['loss']:.4f}, held-out rules {summary['val_loss']:.4f}"
        )


@app.command()
def finetune(
    source: str = typer.Option(
        ...,
        "--from",
        help="A prepretrain run whose blocks to start from, or 'scratch'.",
    ),
    context: int = Context,
    layers: int = Layers,
    heads: int = Heads,
    d_model: int = DModel,
    steps: int = Steps,
    batch: int = Batch,
    lr: float = Lr,
    warmup: int = Warmup,
    seed: int = Seed,
    threads: int | None = Threads,
    log_every: int = LogEvery,
    checkpoint_every: int = CheckpointEvery,
    valid_windows: int = typer.Option(
        32, "--valid-windows", help="Held-out windows the validation loss averages."
    ),
    transfer: str = typer.Option(
        "all",
        "--transfer",
        help="What --from RUN gives: all (every tensor but embedding and head) or attention.",
    ),
    resume: str | None = Resume,
    name: str | None = Name,
    device: str = Device,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Train on the Python standard library's source, from a prepretrain run or from scratch.

    The shape flags count only with --from scratch; validation loss at every metric row.
    """
    from primordium.learn.corpus import VOCAB
    from primordium.learn.gpt import GPTConfig
    from primordium.learn.prepretrain import finetune as run_finetune
    from primordium.store import Store

    out = Output(json, quiet)
    model = train_cfg = None
    if resume is None:
        model = GPTConfig(VOCAB, context, layers, heads, d_model)
        train_cfg = _train_config(
            steps=steps,
            batch=batch,
            lr=lr,
            warmup=warmup,
            seed=seed,
            threads=threads,
            log_every=log_every,
            checkpoint_every=checkpoint_every,
        )
    run, summary = run_finetune(
        Store(),
        None if source == "scratch" else source,
        model,
        train_cfg,
        valid_windows=valid_windows,
        parts=transfer,
        resume=resume,
        device=device,
        name=name,
        progress=None if quiet or json else _report(out, "finetune", 10 * log_every),
    )
    if json:
        out.json({"run": run.id, **summary})
    else:
        out.info(f"run {run.id} in {run.dir}")
        out.print(f"final loss {summary['loss']:.4f}, held-out files {summary['val_loss']:.4f}")


def _bands(text: str) -> list[tuple[float, float]]:
    try:
        bands = []
        for part in text.split(","):
            lo, hi = part.split(":")
            bands.append((float(lo), float(hi)))
        return bands
    except ValueError:
        raise ConfigError(
            f"--bands {text!r}: expected LOW:HIGH pairs separated by commas, e.g. 0:0.3,0.33:1"
        ) from None


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds {text!r}: expected comma-separated integers") from None


@app.command("nca-compare")
def nca_compare(
    seeds: str = typer.Option("0,1,2", "--seeds", help="Seeds, e.g. 0,1,2."),
    bands: str = typer.Option(
        "0:0.3,0.33:1", "--bands", help="Complexity bands LOW:HIGH, comma-separated."
    ),
    rules: int = Rules,
    states: int = _O["states"],
    size: int = _O["size"],
    patch: int = _O["patch"],
    hidden: int = _O["hidden"],
    temperature: float = _O["temperature"],
    sampling: str = _O["sampling"],
    frames: int | None = _O["frames"],
    context: int = Context,
    layers: int = Layers,
    heads: int = Heads,
    d_model: int = DModel,
    pre_steps: int = typer.Option(
        150, "--pre-steps", help="Steps on NCA tokens.", rich_help_panel=_T
    ),
    steps: int = typer.Option(300, "--steps", help="Steps on text.", rich_help_panel=_T),
    batch: int = Batch,
    lr: float = Lr,
    warmup: int = Warmup,
    threads: int | None = Threads,
    log_every: int = LogEvery,
    resume: str | None = Resume,
    device: str = Device,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """The experiment: NCA pre-pre-training then text, against text alone, per band and seed.

    Validation loss at fixed token budgets goes to compare.json in the run.
    """
    from primordium.learn.gpt import GPTConfig
    from primordium.learn.nca_compare import compare
    from primordium.store import Store

    out = Output(json, quiet)
    cfg = _nca_config(
        context,
        states=states,
        size=size,
        patch=patch,
        hidden=hidden,
        temperature=temperature,
        sampling=sampling,
        frames=frames,
        band_low=0.0,
        band_high=1.0,
    )
    common = dict(batch=batch, lr=lr, warmup=warmup, threads=threads, log_every=log_every, seed=0)
    pre = _train_config(steps=pre_steps, checkpoint_every=pre_steps, **common)
    fine = _train_config(steps=steps, checkpoint_every=steps, **common)

    def progress(what: str, p: dict) -> None:
        if not (quiet or json) and p["row"] and p["step"] % (5 * log_every) == 0:
            out.info(f"{what} step {p['step']}/{p['steps']} val {p['row']['val_loss']:.4f}")

    run, result = compare(
        Store(),
        _seeds(seeds),
        _bands(bands),
        cfg,
        GPTConfig(cfg.vocab, context, layers, heads, d_model),
        pre,
        fine,
        rules=rules,
        device=device,
        resume=resume,
        progress=progress,
    )
    if json:
        out.json({"run": run.id, **result})
        return
    out.info(f"run {run.id} in {run.dir}")
    for arm, rows in result["table"].items():
        for row in rows:
            extra = ""
            if "minus_scratch_mean" in row:
                extra = (
                    f"  minus scratch {row['minus_scratch_mean']:+.4f} "
                    f"± {row['minus_scratch_std']:.4f} ({row['seeds_better']} seeds better)"
                )
            out.line(
                f"{arm:>18} {row['tokens']:>9} tokens  val {row['mean']:.4f} ± {row['std']:.4f}"
                + extra
            )

"""Learned simulators: LifeGPT, a GPT that learns Life-like rules (train, eval, rollout)."""

from __future__ import annotations

from pathlib import Path

import typer

from primordium.cli.output import Json, Output, Quiet
from primordium.errors import ConfigError

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

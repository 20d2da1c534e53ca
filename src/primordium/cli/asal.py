"""ASAL: foundation-model search over artificial-life substrates (search, sweep-life, render)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from primordium.cli.execution import Address, ExecutorKind, Workers, executor_from_flags
from primordium.cli.output import Output
from primordium.errors import ConfigError

if TYPE_CHECKING:
    from primordium.store import Store

app = typer.Typer(no_args_is_help=True)


def _store() -> Store:
    from primordium.store import Store

    return Store()


@app.command()
def search(
    substrate: str | None = typer.Option(
        None,
        show_default="lenia",
        help="The paper's: gol, lenia, boids, plife, plife_plus, plenia, nca_d1, nca_d3, dnca; "
        "primordium's own: life_like, lenia_soup, nca_sobel, particle_life, particle_life_pp, "
        "particle_lenia, boids_meanfield",
    ),
    mode: str | None = typer.Option(
        None, show_default="target", help="target, open-endedness or illuminate"
    ),
    prompt: list[str] = typer.Option(
        [], help="Target prompt; repeat for prompts spread over time (needs --fm clip)"
    ),
    target_image: Path | None = typer.Option(
        None, show_default="none", help="Target image file (works with --fm pixels)"
    ),
    softmax: bool = typer.Option(
        False, "--softmax", help="Add the softmax term (coef_softmax 1 when it is 0)"
    ),
    coef_prompt: float | None = typer.Option(None, help="Weight of the prompt-similarity term [1]"),
    coef_softmax: float | None = typer.Option(
        None, help="Weight of the softmax (cross-entropy) term [0]"
    ),
    coef_oe: float | None = typer.Option(
        None, help="Weight of the open-endedness term [0; 1 in open-endedness]"
    ),
    tiling: str | None = typer.Option(
        None, show_default="tile", help="Prompts over frames: tile (the paper's) or blocks"
    ),
    bs: int | None = typer.Option(None, help="Initial states each simulation is averaged over [1]"),
    children: int | None = typer.Option(None, help="Illumination GA: children per generation [32]"),
    k_nbrs: int | None = typer.Option(
        None, help="Illumination GA: neighbours in the novelty estimate [2]"
    ),
    fm: str | None = typer.Option(
        None, show_default="clip", help="Foundation model: clip (or clip:<checkpoint>) or pixels"
    ),
    fm_weights: Path | None = typer.Option(
        None,
        show_default="none: the Hugging Face cache or hub",
        help="Local folder with CLIP/SigLIP weights",
    ),
    algo: str | None = typer.Option(None, help="cma-es, ga or map-elites (default: by mode)"),
    pop: int | None = typer.Option(None, help="Population size [16 cma-es, 256 ga]"),
    gens: int | None = typer.Option(None, help="Generations [1000]"),
    seed: int | None = typer.Option(None, help="Seed [0]"),
    steps: int | None = typer.Option(None, help="Simulation steps [per substrate]"),
    frames: int | None = typer.Option(None, help="Frames sampled per simulation [8]"),
    size: int | None = typer.Option(None, help="Render side in pixels [224 clip, 64 pixels]"),
    sigma: float | None = typer.Option(None, help="Initial step size / mutation scale [0.1]"),
    video: bool | None = typer.Option(
        None, "--video/--no-video", help="Write the best simulation as best.gif/best.mp4 [on]"
    ),
    picture_every: int | None = typer.Option(
        None,
        help="Write best_so_far.png after generation 1 and every N generations; 0: never [10]",
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="Substrate option KEY=VALUE, e.g. --set grid=32"
    ),
    config: Path | None = typer.Option(
        None, show_default="none: built-in defaults", help="TOML config (flags override it)"
    ),
    resume: str | None = typer.Option(
        None, show_default="none: a new run", help="Resume an interrupted run by id"
    ),
    executor: str = ExecutorKind,
    address: str | None = Address,
    workers: int | None = Workers,
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON"),
    quiet: bool = typer.Option(False, "--quiet", help="Print nothing but errors"),
) -> None:
    """Search a substrate's parameters for a target, open-endedness, or a diverse set."""
    from primordium.asal.config import AsalConfig, parse_options
    from primordium.asal.experiment import resume_search, run_search, search_result

    out = Output(json_mode=json_, quiet=quiet)
    store = _store()
    if resume:
        given = [
            n
            for n, v in (("--substrate", substrate), ("--mode", mode), ("--config", config))
            if v is not None
        ]
        if given or prompt or set_:
            raise ConfigError(
                f"--resume continues a run with its own config; drop {', '.join(given) or '--prompt/--set'}"
            )
        with executor_from_flags(executor, address, workers) as pool:
            run = resume_search(store, resume, out, executor=pool)
    else:
        cfg = AsalConfig.from_toml(config) if config else AsalConfig()
        overrides = {
            "substrate": substrate,
            "mode": mode,
            "fm": fm,
            "algo": algo,
            "pop": pop,
            "gens": gens,
            "seed": seed,
            "steps": steps,
            "frames": frames,
            "size": size,
            "sigma": sigma,
            "coef_prompt": coef_prompt,
            "coef_softmax": coef_softmax,
            "coef_oe": coef_oe,
            "tiling": tiling,
            "bs": bs,
            "children": children,
            "k_nbrs": k_nbrs,
            "video": video,
            "picture_every": picture_every,
        }
        for k, v in overrides.items():
            if v is not None:
                setattr(cfg, k, v)
        if prompt:
            cfg.prompts = list(prompt)
        if target_image is not None:
            cfg.target_image = str(target_image)
        if fm_weights is not None:
            cfg.fm_weights = str(fm_weights)
        if softmax:
            cfg.softmax = True
        if set_:
            cfg.substrate_options = cfg.substrate_options | parse_options(set_)
        with executor_from_flags(executor, address, workers) as pool:
            run = run_search(cfg, store, out, executor=pool)
    result = search_result(run)
    if json_:
        out.json(result)
        return
    out.print(
        f"run {run.id}: best score {result['best_score']:.4f}"
        + (f" ({result['rule']})" if "rule" in result else "")
    )
    out.print(f"outputs in {run.dir}")


@app.command("sweep-life")
def sweep_life(
    quick: bool = typer.Option(
        False,
        "--quick",
        help="primordium's fast settings: life_like soups, pixels, 512 steps, 8 "
        "frames, 1 initial state, 64 px (default: the paper's)",
    ),
    fm: str | None = typer.Option(None, help="Foundation model [clip; pixels with --quick]"),
    fm_weights: Path | None = typer.Option(
        None,
        show_default="none: the Hugging Face cache or hub",
        help="Local folder with CLIP/SigLIP weights",
    ),
    substrate: str | None = typer.Option(
        None,
        help="Initial soups and stepping: gol (the paper's) or life_like "
        "(density 0.5) [gol; life_like with --quick]",
    ),
    top: int = typer.Option(20, help="How many rules to show"),
    grid: int | None = typer.Option(None, help="Torus side [64]"),
    steps: int | None = typer.Option(None, help="Steps per simulation [4096; 512 with --quick]"),
    frames: int | None = typer.Option(
        None, help="Frames sampled per simulation [32; 8 with --quick]"
    ),
    bs: int | None = typer.Option(None, help="Initial states per rule [16; 1 with --quick]"),
    size: int | None = typer.Option(None, help="Render side [224; 64 with --quick]"),
    seed: int | None = typer.Option(None, help="Seed of the initial states [0]"),
    batch: int | None = typer.Option(None, help="Rules simulated at once [256 pixels, 4 clip]"),
    sample: int | None = typer.Option(
        None,
        show_default="none: every rule",
        help="Score a random sample of N rules (B3/S23 always included)",
    ),
    resume: str | None = typer.Option(
        None, show_default="none: a new run", help="Resume an interrupted sweep by run id"
    ),
    json_: bool = typer.Option(False, "--json", help="Print the ranking as JSON"),
    quiet: bool = typer.Option(False, "--quiet", help="Print nothing but errors"),
) -> None:
    """Rank every Life-like rule (2^18) by open-endedness, as the paper's sweep does."""
    from primordium.asal.experiment import SweepConfig, resume_sweep, run_sweep, sweep_result

    out = Output(json_mode=json_, quiet=quiet)
    store = _store()
    if top < 1:
        raise ConfigError("--top must be at least 1")
    if resume:
        run = resume_sweep(store, resume, out)
    else:
        given: dict[str, Any] = {
            "substrate": substrate,
            "fm": fm,
            "fm_weights": str(fm_weights) if fm_weights else None,
            "grid": grid,
            "steps": steps,
            "frames": frames,
            "bs": bs,
            "size": size,
            "seed": seed,
            "batch": batch,
            "sample": sample,
        }
        given = {k: v for k, v in given.items() if v is not None}
        cfg = SweepConfig.quick(**given) if quick else SweepConfig(**given)
        run = run_sweep(cfg, store, out)
    result = sweep_result(run, top)
    if json_:
        out.json(result)
        return
    from rich.table import Table

    table = Table(
        title=f"Life-like rules by open-endedness ({result['total']} scored, lower = more open-ended)"
    )
    table.add_column("rank", justify="right")
    table.add_column("rule")
    table.add_column("score", justify="right")
    for i, r in enumerate(result["rules"], 1):
        table.add_row(str(i), r["rule"], f"{r['score']:.4f}")
    out.print(table)
    if result["conway"]:
        c = result["conway"]
        out.print(
            f"B3/S23 (Conway's Life) ranks {c['rank']} of {result['total']} (score {c['score']:.4f})"
        )
    out.print(f"run {run.id}: outputs in {run.dir}")


@app.command()
def render(
    substrate: str = typer.Option(..., help="Substrate name"),
    params: Path | None = typer.Option(
        None, help="Params file (best_params.json of a run); default: random"
    ),
    rule: str | None = typer.Option(
        None,
        show_default="none: from --params",
        help="Life-like rule such as B3/S23 (substrates gol, life_like)",
    ),
    out_path: Path = typer.Option(
        ..., "--out", help="Output video: .mp4, .gif (or .png for the last frame)"
    ),
    steps: int | None = typer.Option(None, help="Simulation steps [per substrate]"),
    frames: int = typer.Option(96, help="Frames in the video"),
    size: int = typer.Option(256, help="Video side in pixels"),
    fps: float = typer.Option(15.0, help="Frames per second"),
    seed: int = typer.Option(0, help="Seed (same as the search's to see what it saw)"),
    set_: list[str] = typer.Option([], "--set", help="Substrate option KEY=VALUE"),
    json_: bool = typer.Option(False, "--json", help="Print the output path as JSON"),
    quiet: bool = typer.Option(False, "--quiet", help="Print nothing but errors"),
) -> None:
    """Render a simulation to a video."""
    import jax

    from primordium.asal.config import DEFAULT_STEPS, parse_options
    from primordium.asal.experiment import load_params_file, video_frames, write_video
    from primordium.asal.substrates import get_substrate

    out = Output(json_mode=json_, quiet=quiet)
    if out_path.suffix.lower() not in (".mp4", ".gif", ".png"):
        raise ConfigError(
            f"unsupported video format {out_path.suffix!r} (use .mp4, .gif or .png)", file=out_path
        )
    sub = get_substrate(substrate, **parse_options(set_))
    if rule is not None and params is not None:
        raise ConfigError("give --params or --rule, not both")
    p: Any
    if rule is not None:
        from primordium.asal.substrates.life import params_from_rule, parse_rule

        if sub.name == "gol":
            p = jax.numpy.asarray(parse_rule(rule), jax.numpy.int32)
        elif sub.name == "life_like":
            p = params_from_rule(rule)
        else:
            raise ConfigError("--rule applies to --substrate gol or life_like")
    elif params is not None:
        p = load_params_file(params, sub)
    else:
        p = sub.default_params(jax.random.PRNGKey(seed))
    n_steps = steps if steps is not None else DEFAULT_STEPS[sub.name]
    if n_steps < 1 or frames < 1 or size < 8:
        raise ConfigError("--steps and --frames must be at least 1 and --size at least 8")
    video = video_frames(sub, p, n_steps, seed, size, n_frames=min(frames, n_steps))
    write_video(video, out_path, fps=fps)
    if json_:
        out.json({"out": str(out_path), "frames": int(len(video))})
    else:
        out.print(f"wrote {out_path} ({len(video)} frames)")

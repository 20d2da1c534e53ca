"""Digital Red Queen: evolve Core War warriors by self-play, with any LLM or none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from primordium.cli.execution import Address, ExecutorKind, Workers, executor_from_flags
from primordium.cli.output import Json, Output, Quiet
from primordium.errors import ConfigError

if TYPE_CHECKING:
    from primordium.redqueen.loop import Experiment
    from primordium.store import Run, Store

app = typer.Typer(no_args_is_help=True)

_A = "DRQ algorithm"
_C = "Core War settings"
_L = "Language model (--operator llm)"


def _store() -> Store:
    from primordium.store import Store

    return Store()


def _open(run_id: str) -> Run:
    from primordium.errors import StoreError
    from primordium.redqueen.loop import ENGINE

    run = _store().open(run_id)
    if run.engine != ENGINE:
        raise StoreError(f"run {run.id} is a {run.engine} run, not a redqueen run")
    return run


def _champion_rows(run: Run) -> list[dict]:
    from primordium.redqueen.loop import archives

    rows = []
    for k, a in enumerate(archives(run)):
        b = a.best()
        rows.append(
            {
                "round": k + 1,
                "champion": str(run.dir / "champions" / f"round_{k + 1:03d}.red") if b else None,
                "name": b.name if b else None,
                "fitness": b.fitness if b else None,
                "cell": list(b.cell) if b else None,
                "descriptors": b.descriptors if b else None,
                "archive": len(a),
            }
        )
    return rows


def _print_champions(out: Output, run: Run, rows: list[dict]) -> None:
    from rich.table import Table

    from primordium.redqueen.loop import load_config

    d1, d2 = load_config(run).descriptors
    t = Table(title=f"{run.id}: champions")
    for col in ("round", "fitness", d1, d2, "cell", "archive", "name"):
        t.add_column(col, justify="left" if col == "name" else "right")
    for r in rows:
        if r["fitness"] is None:
            t.add_row(str(r["round"]), "-", "-", "-", "-", str(r["archive"]), "(no valid warrior)")
            continue
        t.add_row(
            str(r["round"]),
            f"{r['fitness']:.3f}",
            f"{r['descriptors'][d1]:.4g}",
            f"{r['descriptors'][d2]:.4g}",
            f"{r['cell'][0]},{r['cell'][1]}",
            str(r["archive"]),
            r["name"] or "",
        )
    out.print(t)


@app.command()
def run(
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        show_default="none: built-in defaults",
        help="A drq.toml (flags override it).",
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of every random choice [0].", rich_help_panel=_A
    ),
    rounds: int | None = typer.Option(
        None, "--rounds", "-T", help="Rounds T [20].", rich_help_panel=_A
    ),
    iterations: int | None = typer.Option(
        None, "--iterations", "-n", help="Iterations per round [250].", rich_help_panel=_A
    ),
    history: str | None = typer.Option(
        None,
        "--history",
        "-K",
        help="Opponents: champions of the last K rounds, or 'all' [20].",
        rich_help_panel=_A,
    ),
    p_new: float | None = typer.Option(
        None,
        "--p-new",
        help="Chance an iteration asks for a new warrior [0.1].",
        rich_help_panel=_A,
    ),
    n_init: int | None = typer.Option(
        None, "--n-init", help="New warriors at each round's start [8].", rich_help_panel=_A
    ),
    threshold: float | None = typer.Option(
        None, "--threshold", help="End a round early past this fitness [0.8].", rich_help_panel=_A
    ),
    battle_rounds: int | None = typer.Option(
        None,
        "--battle-rounds",
        "-R",
        help="Battle rounds per evaluation R [20].",
        rich_help_panel=_A,
    ),
    batch: int | None = typer.Option(
        None,
        "--batch",
        help="Iterations proposed from one archive state and evaluated together [1].",
        rich_help_panel=_A,
    ),
    responses: int | None = typer.Option(
        None,
        "--responses",
        help="Candidates per iteration from the same parent (one LLM request with n replies) [1].",
        rich_help_panel=_A,
    ),
    single_cell: bool | None = typer.Option(
        None,
        "--single-cell/--no-single-cell",
        help="Ablation: one MAP-Elites cell for all candidates.",
        rich_help_panel=_A,
    ),
    placement: str | None = typer.Option(
        None,
        "--placement",
        help="Where warriors load: drq (the DRQ code's slices, round r seeded with r) or pmars [drq].",
        rich_help_panel=_A,
    ),
    descriptors: str | None = typer.Option(
        None,
        "--descriptors",
        help="Two of spawned, coverage, opcodes, length [spawned,coverage].",
        rich_help_panel=_A,
    ),
    opponent: list[str] | None = typer.Option(
        None,
        "--opponent",
        help="Initial opponent: a built-in name or a .red file; repeat for several [drq-imp].",
        rich_help_panel=_A,
    ),
    warmup_opponents: bool | None = typer.Option(
        None,
        "--warmup-opponents/--no-warmup-opponents",
        help="Also try the initial opponents as round-start candidates [on].",
        rich_help_panel=_A,
    ),
    warmup_champions: bool | None = typer.Option(
        None,
        "--warmup-champions/--no-warmup-champions",
        help="Also try past champions as round-start candidates [on].",
        rich_help_panel=_A,
    ),
    operator: str | None = typer.Option(
        None,
        "--operator",
        help="llm, offline (no network: instruction edits) or strategy (no network: the classic families) [llm].",
        rich_help_panel=_A,
    ),
    core_size: int | None = typer.Option(None, "--core-size", help="[8000]", rich_help_panel=_C),
    cycles: int | None = typer.Option(None, "--cycles", help="[80000]", rich_help_panel=_C),
    processes: int | None = typer.Option(None, "--processes", help="[8000]", rich_help_panel=_C),
    length: int | None = typer.Option(None, "--length", help="[100]", rich_help_panel=_C),
    distance: int | None = typer.Option(None, "--distance", help="[100]", rich_help_panel=_C),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 [$OPENAI_BASE_URL].",
        rich_help_panel=_L,
    ),
    model: str | None = typer.Option(
        None, "--model", help="Model name [gpt-4.1-mini-2025-04-14].", rich_help_panel=_L
    ),
    temperature: float | None = typer.Option(
        None, "--temperature", help="[1.0]", rich_help_panel=_L
    ),
    llm_seed: str | None = typer.Option(
        None, "--llm-seed", help="Seed sent with every request, or 'none' [0].", rich_help_panel=_L
    ),
    max_tokens: str | None = typer.Option(
        None,
        "--max-tokens",
        help="Reply length limit, or 'none' for the server's own [none].",
        rich_help_panel=_L,
    ),
    parent_text: str | None = typer.Option(
        None,
        "--parent-text",
        help="What the mutate prompt shows of the parent: reply (its whole reply) or code [reply].",
        rich_help_panel=_L,
    ),
    extract: str | None = typer.Option(
        None,
        "--extract",
        help="blocks (every fenced block, else the whole reply) or strip-fences [blocks].",
        rich_help_panel=_L,
    ),
    system_prompt: Path | None = typer.Option(
        None, "--system-prompt", help="System prompt file [shipped].", rich_help_panel=_L
    ),
    new_prompt: Path | None = typer.Option(
        None,
        "--new-prompt",
        help="'Write a new warrior' prompt file [shipped].",
        rich_help_panel=_L,
    ),
    mutate_prompt: Path | None = typer.Option(
        None,
        "--mutate-prompt",
        help="'Improve this warrior' prompt file, with a {warrior} placeholder [shipped].",
        rich_help_panel=_L,
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", help="API key (never stored) [$OPENAI_API_KEY].", rich_help_panel=_L
    ),
    llm_timeout: float | None = typer.Option(
        None,
        "--llm-timeout",
        help="Seconds for a whole request: connect, send, wait, read [120].",
        rich_help_panel=_L,
    ),
    llm_max_reply_bytes: int | None = typer.Option(
        None,
        "--llm-max-reply-bytes",
        help="Largest reply read; a bigger one fails like a 500 [4194304].",
        rich_help_panel=_L,
    ),
    llm_retries: int | None = typer.Option(
        None, "--llm-retries", help="Retries of a failed request [4].", rich_help_panel=_L
    ),
    concurrency: int | None = typer.Option(
        None, "--concurrency", help="Requests in flight at once [8].", rich_help_panel=_L
    ),
    resume: str | None = typer.Option(
        None,
        "--resume",
        show_default="none: a new run",
        help="Continue this run from its last checkpoint.",
    ),
    name: str | None = typer.Option(
        None, "--name", show_default="the run's id", help="A name for the run."
    ),
    executor: str = ExecutorKind,
    address: str | None = Address,
    workers: int | None = Workers,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Run DRQ; everything (candidates, archives, champions, LLM calls, pictures) goes to the run store."""
    from primordium.redqueen.config import DRQConfig, load_toml, with_overrides
    from primordium.redqueen.loop import open_experiment

    out = Output(json, quiet)
    overrides = {
        "seed": seed,
        "rounds": rounds,
        "iterations": iterations,
        "history": history,
        "p_new": p_new,
        "n_init": n_init,
        "threshold": threshold,
        "battle_rounds": battle_rounds,
        "batch": batch,
        "responses": responses,
        "single_cell": single_cell,
        "placement": placement,
        "descriptors": descriptors,
        "initial_opponents": opponent or None,
        "warmup_opponents": warmup_opponents,
        "warmup_champions": warmup_champions,
        "operator": operator,
        "core.core_size": core_size,
        "core.cycles": cycles,
        "core.processes": processes,
        "core.length": length,
        "core.distance": distance,
        "llm.base_url": base_url,
        "llm.model": model,
        "llm.temperature": temperature,
        "llm.timeout": llm_timeout,
        "llm.retries": llm_retries,
        "llm.max_reply_bytes": llm_max_reply_bytes,
        "llm.concurrency": concurrency,
        "llm.seed": _int_or_word(llm_seed, "none"),
        "llm.max_tokens": _int_or_word(max_tokens, "none"),
        "llm.parent": parent_text,
        "llm.extract": extract,
        "llm.system_prompt": _path(system_prompt),
        "llm.new_prompt": _path(new_prompt),
        "llm.mutate_prompt": _path(mutate_prompt),
    }
    overrides["history"] = _int_or_word(history, "all")
    if resume is not None:
        given = [k for k, v in overrides.items() if v is not None] + (["config"] if config else [])
        if given:
            raise ConfigError(
                f"--resume continues a run with its own config; drop {', '.join(given)}"
            )
        cfg = None
    else:
        cfg = load_toml(config) if config is not None else DRQConfig()
        cfg = with_overrides(cfg, overrides)
    with executor_from_flags(executor, address, workers) as pool:
        exp = open_experiment(
            _store(), cfg, resume=resume, name=name, api_key=api_key, executor=pool
        )
        out.info(f"run {exp.run.id} ({'resumed' if resume else 'new'}) in {exp.run.dir}")
        r = _run_with_progress(out, exp)
    rows = _champion_rows(r)
    if json:
        out.json(
            {"run": r.id, "dir": str(r.dir), "status": r.status, "rounds": rows, "stats": r.summary}
        )
        return
    _print_champions(out, r, rows)
    s = r.summary
    out.print(
        f"{s.get('evaluated', 0)} evaluated, {s.get('invalid', 0)} invalid, {s.get('placed', 0)} placed"
        + (
            f"; LLM: {s.get('llm_calls', 0)} calls, {s.get('llm_failed', 0)} failed, "
            f"{s.get('prompt_tokens', 0)}+{s.get('completion_tokens', 0)} tokens"
            if s.get("llm_calls")
            else ""
        )
    )
    out.print(f"pictures and champions in {r.dir}")


def _int_or_word(value: str | None, word: str) -> int | str | None:
    """A flag that takes a number or one word (``all``, ``none``); anything else is left to the config's check."""
    if value is None or value == word:
        return value
    try:
        return int(value)
    except ValueError:
        return value  # the config names the field and what it expects


def _path(p: Path | None) -> str | None:
    return str(p) if p is not None else None


def _run_with_progress(out: Output, exp: Experiment) -> Run:
    with out.progress("DRQ", exp.total()) as bar:
        bar.update(exp.completed())

        def progress(d: dict) -> None:
            rnd = min(d["round"], exp.config.rounds)
            bar.update(d["completed"], status=f"round {rnd} best {d['best'] or 0:.3f}")

        exp.on_progress = progress
        return exp.run_all()


@app.command()
def show(
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (or a unique prefix)."),
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """A run's status, settings and champions."""
    from primordium.redqueen.loop import load_config

    out = Output(json, quiet)
    r = _open(run_id)
    cfg = load_config(r)
    rows = _champion_rows(r)
    if json:
        out.json(
            {
                "run": r.id,
                "dir": str(r.dir),
                "status": r.status,
                "config": cfg.to_dict(),
                "summary": r.summary,
                "rounds": rows,
            }
        )
        return
    s = r.summary
    out.print(
        f"[bold]{r.id}[/bold]  {r.status}  round {s.get('round', 0)}/{cfg.rounds}  operator {cfg.operator}"
        f"  seed {cfg.seed}"
    )
    k = "all" if cfg.history is None else cfg.history
    out.print(
        f"T={cfg.rounds} iterations={cfg.iterations} K={k} R={cfg.battle_rounds} p_new={cfg.p_new} "
        f"n_init={cfg.n_init} threshold={cfg.threshold} batch={cfg.batch} responses={cfg.responses} "
        f"descriptors={','.join(cfg.descriptors)}" + (" single_cell" if cfg.single_cell else "")
    )
    c = cfg.core
    out.print(
        f"core {c.core_size}, cycles {c.cycles}, processes {c.processes}, length {c.length}, distance {c.distance}"
    )
    if rows:
        _print_champions(out, r, rows)
    out.print(f"{s.get('evaluated', 0)} evaluated, {s.get('invalid', 0)} invalid; folder {r.dir}")


@app.command("eval")
def eval_(
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (or a unique prefix)."),
    against: Path = typer.Option(..., "--against", help="A folder of .red warriors (held out)."),
    rounds: int = typer.Option(20, "--rounds", "-r", help="Battle rounds per pair."),
    measure: str = typer.Option(
        "drq",
        "--measure",
        help="drq (the DRQ code's scores: higher mean score beats) or pmars (pMARS battles: more rounds won beats).",
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of pMARS's placements (--measure pmars) [0]."
    ),
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Generality per round: the fraction of DIR's warriors each champion beats or ties one-on-one."""
    from rich.table import Table

    from primordium.redqueen.evaluate import evaluate_run

    if seed is not None and measure == "drq":
        raise ConfigError(
            "--seed moves pMARS's placements; --measure drq seeds round r with r, as the DRQ code"
        )
    out = Output(json, quiet)
    r = _open(run_id)
    with out.progress("battles", None) as bar:
        result = evaluate_run(
            r, against, rounds=rounds, seed=seed or 0, measure=measure, on_progress=bar.advance
        )
    if json:
        out.json(result)
        return
    if result["skipped"]:
        out.info(
            f"skipped {len(result['skipped'])} warrior(s) that do not assemble for this run's core settings"
        )
    t = Table(
        title=f"{r.id}: champions against {result['opponents']} warriors in {result['against']}"
    )
    drq = result["measure"] == "drq"
    for col in (
        ("round", "generality", "wins", "ties", "losses")
        + (("mean score",) if drq else ())
        + ("name",)
    ):
        t.add_column(col, justify="left" if col == "name" else "right")
    for row in result["rounds"]:
        t.add_row(
            str(row["round"]),
            f"{row['generality']:.3f}",
            str(row["wins"]),
            str(row["ties"]),
            str(row["losses"]),
            *((f"{row['score']:.3f}",) if drq else ()),
            row["name"],
        )
    out.print(t)
    out.print(f"plot: {r.dir / 'generality.png'}")


@app.command()
def compare(
    run_ids: list[str] = typer.Argument(
        ..., metavar="RUN...", help="Two or more runs with different seeds."
    ),
    against: Path = typer.Option(
        ...,
        "--against",
        help="A folder of .red warriors: the fixed set phenotypes are measured on.",
    ),
    rounds: int = typer.Option(
        20, "--rounds", "-r", help="Battle rounds per champion and warrior."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the placements."),
    out_file: Path | None = typer.Option(
        None,
        "--out",
        show_default="none: no PNG",
        help="Also draw both curves as a PNG (with a PDF and an SVG beside it).",
    ),
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Convergence: per round, how alike the runs' champions behave and how far apart their code is."""
    from rich.table import Table

    from primordium.redqueen.convergence import compare_runs

    out = Output(json, quiet)
    if out_file is not None and out_file.suffix.lower() != ".png":
        raise ConfigError(f"--out {out_file}: use a .png file")
    runs = [_open(x) for x in run_ids]
    with out.progress("battles", None) as bar:
        result = compare_runs(runs, against, rounds=rounds, seed=seed, on_progress=bar.advance)
    if out_file is not None:
        from primordium.redqueen.plots import convergence_figure
        from primordium.viz import save

        save(convergence_figure(result), out_file)
    if json:
        out.json(result)
        return
    t = Table(
        title=f"champions of {len(runs)} runs against {result['opponents']} warriors in {result['against']}"
    )
    for col in (
        "round",
        "runs",
        "phenotype similarity",
        "phenotype variance",
        "genotype distance",
        "fitness",
    ):
        t.add_column(col, justify="right")
    for row in result["rounds"]:
        cells = [
            f"{row[k]:.3f}" if row[k] is not None else "-"
            for k in ("phenotype_similarity", "phenotype_variance", "genotype_distance", "fitness")
        ]
        t.add_row(str(row["round"]), str(row["runs"]), *cells)
    out.print(t)


@app.command()
def plot(
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (or a unique prefix)."),
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """(Re)draw a run's pictures: fitness curves, archive heat maps, generality."""
    from primordium.redqueen.plots import write_run_plots

    out = Output(json, quiet)
    files = write_run_plots(_open(run_id))
    if json:
        out.json({"files": [str(f) for f in files]})
    else:
        for f in files:
            out.print(str(f))


@app.command()
def fitness(
    warriors: list[Path] = typer.Argument(
        ...,
        metavar="CANDIDATE.red OPPONENT.red...",
        help="The candidate, then its opponents, all in one melee.",
    ),
    rounds: int = typer.Option(
        20, "--rounds", "-r", help="Battle rounds; round r is seeded with r."
    ),
    placement: str = typer.Option(
        "drq", "--placement", help="drq (the DRQ code's slices) or pmars."
    ),
    cycles: int = typer.Option(
        80000, "--cycles", help="Cycles per round (the other MARS settings are the paper's)."
    ),
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Fitness, spawned processes and coverage per warrior and round, as the DRQ code evaluates a melee."""
    import numpy as np
    from rich.table import Table

    from primordium.redqueen.config import CoreConfig
    from primordium.redqueen.fitness import melee_report

    out = Output(json, quiet)
    settings = CoreConfig(cycles=cycles).settings(warriors=max(2, len(warriors)))
    result = melee_report([str(w) for w in warriors], rounds, settings, placement=placement)
    if json:
        out.json({"rounds": result["rounds"], "warriors": result["warriors"]})
        return
    t = Table(title=f"melee of {len(warriors)} warriors, {rounds} rounds, placement {placement}")
    for col in ("warrior", "round", "fitness", "spawned", "coverage"):
        t.add_column(col, justify="left" if col == "warrior" else "right")
    for w in result["warriors"]:
        for r in range(rounds):
            t.add_row(
                Path(w["file"]).name if r == 0 else "",
                str(r),
                f"{w['fitness'][r]:.4f}",
                str(w["spawned"][r]),
                str(w["coverage"][r]),
            )
        t.add_row(
            "",
            "mean",
            f"{np.mean(w['fitness']):.4f}",
            f"{np.mean(w['spawned']):.1f}",
            f"{np.mean(w['coverage']):.1f}",
            end_section=True,
        )
    out.print(t)

"""Program soups (Computational Life): run, sweep, exec, trace, selfrep, inspect, render."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from primordium.cli.execution import Address, ExecutorKind, Workers, executor_from_flags
from primordium.cli.output import Json, Output, Quiet
from primordium.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

app = typer.Typer(no_args_is_help=True)

_S = "Soup settings"
Lang = typer.Option(
    "bff_noheads",
    "--lang",
    help="One of cubff's 13 languages: bff_noheads, bff, bff8, bff8_noheads, bff_noheads_4bit, bff_perm, bff_selfmove, forth, forthtrivial, forthtrivial_reset, forthcopy, subleq, rsubleq4.",
    rich_help_panel=_S,
)
Steps = typer.Option(
    8192, "--steps", min=1, help="Step budget per tape (2^13 in the paper).", rich_help_panel=_S
)
Length = typer.Option(
    64, "--length", min=4, help="Bytes per program (a tape is two programs).", rich_help_panel=_S
)
Draws = typer.Option(
    "cubff",
    "--draws",
    help="Where the soup's random numbers come from: cubff (cubff's own hashes: one seed gives cubff's soup byte for byte) or numpy (primordium's PCG64 streams, as before).",
    rich_help_panel=_S,
)
Device = typer.Option(
    "cpu",
    "--device",
    help="Where the epochs run: cpu, gpu (CUDA) or auto (the GPU when one is usable); same bytes on each.",
)
Tape = typer.Option(..., "--tape", help="The tape in hex (two programs: 2 x --length bytes).")


def _grid(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise ConfigError(f"--grid {text!r}: expected WIDTHxHEIGHT, e.g. 256x512")
    return int(m.group(1)), int(m.group(2))


def _tape(hex_text: str, length: int, what: str = "--tape") -> np.ndarray:
    """Hex in, bytes out; a tape is two programs (2 x length bytes)."""
    import numpy as np

    text = re.sub(r"\s+", "", hex_text)
    if text.lower().startswith("0x"):
        text = text[2:]
    if not re.fullmatch(r"[0-9a-fA-F]*", text) or len(text) % 2:
        raise ConfigError(f"{what} is not hex (expected an even number of hex digits)")
    tape = np.frombuffer(bytes.fromhex(text), dtype=np.uint8)
    if len(tape) != 2 * length:
        kind = "a tape is 2 x" if what == "--tape" else "a program is"
        size = f"{length} = {2 * length}" if what == "--tape" else f"{2 * length}"
        raise ConfigError(f"{what} has {len(tape)} bytes; {kind} {size} bytes")
    return tape


@app.command()
def run(
    lang: str = Lang,
    programs: int | None = typer.Option(
        None,
        "--programs",
        help="Programs in the soup [default: 131072, or WxH with --grid].",
        rich_help_panel=_S,
    ),
    epochs: int | None = typer.Option(
        None, "--epochs", min=0, help="Epochs to run [default: 16000]; with --resume, a new total."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice.", rich_help_panel=_S),
    mutation: float = typer.Option(
        1 / 4096,
        "--mutation",
        help="Probability per byte per epoch of a random byte [cubff's 1/4096].",
        rich_help_panel=_S,
    ),
    steps: int = Steps,
    length: int = Length,
    grid: str | None = typer.Option(
        None,
        "--grid",
        show_default="none: a well-mixed soup",
        help="2D soup: WIDTHxHEIGHT grid; programs pair with neighbours.",
        rich_help_panel=_S,
    ),
    radius: int = typer.Option(
        2, "--radius", help="2D soup: neighbours within this many cells.", rich_help_panel=_S
    ),
    interaction_pattern: Path | None = typer.Option(
        None,
        "--interaction-pattern",
        show_default="none: --pairing decides",
        help="Pair along this graph: lines 'a b' (program a may run with b), cubff's format.",
        rich_help_panel=_S,
    ),
    pairing: str = typer.Option(
        "shuffle",
        "--pairing",
        help="shuffle (random pairs each epoch), cyclic (no reshuffling) or fixed (cubff's fixed shuffle).",
        rich_help_panel=_S,
    ),
    initial_program: str | None = typer.Option(
        None,
        "--initial-program",
        show_default="none: random programs",
        help="Write this program over the soup's start (BFF: op characters; others: hex).",
        rich_help_panel=_S,
    ),
    zero_init: bool = typer.Option(
        False,
        "--zero-init",
        help="Start from (and reset to) all-zero programs.",
        rich_help_panel=_S,
    ),
    reset_interval: int | None = typer.Option(
        None,
        "--reset-interval",
        show_default="none: never",
        help="Replace the soup by a fresh one after epoch indices 0, N, 2N, ... (as cubff).",
        rich_help_panel=_S,
    ),
    eval_selfrep: bool = typer.Option(
        False,
        "--eval-selfrep",
        help="Count cubff's self-replicators at every logged row (the CSV's number_selfreps).",
    ),
    stop_bpb: float | None = typer.Option(
        None,
        "--stop-bpb",
        show_default="none: never",
        help="End the run at the first logged row whose brotli bits per byte is below this.",
    ),
    stop_selfreps: int | None = typer.Option(
        None,
        "--stop-selfreps",
        show_default="none: never",
        help="End the run at the first logged row counting this many self-replicators (implies --eval-selfrep).",
    ),
    save_every: int | None = typer.Option(
        None,
        "--save-every",
        show_default="none: only checkpoint.npz",
        help="Also keep a numbered cubff-format checkpoint every N epochs (checkpoints/*.dat).",
    ),
    load: Path | None = typer.Option(
        None,
        "--load",
        show_default="none: a random soup",
        help="Start a new run from a cubff-format checkpoint (cubff's or a numbered one), at its epoch.",
    ),
    log: Path | None = typer.Option(
        None,
        "--log",
        show_default="none: only the run's log.csv",
        help="Also write the CSV log (cubff's --log columns) here; the run folder always has log.csv.",
    ),
    log_every: int = typer.Option(
        64, "--log-every", help="Epochs between metric rows (entropies are costly)."
    ),
    log_offset: int = typer.Option(
        0,
        "--log-offset",
        help="Rows after epochs offset + k x --log-every; 1 logs where cubff does (1, 65, 129, ...).",
    ),
    checkpoint_every: int = typer.Option(
        512, "--checkpoint-every", help="Epochs between checkpoints."
    ),
    snapshot_every: int = typer.Option(
        512, "--snapshot-every", help="Epochs between saved soup samples (for pictures)."
    ),
    stop_after_transition: int | None = typer.Option(
        None,
        "--stop-after-transition",
        show_default="none: every epoch runs",
        min=0,
        help="End the run this many epochs after the transition is detected.",
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
    draws: str = Draws,
    device: str = Device,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Run a soup; metrics, checkpoints and pictures go to the run store."""
    from primordium.soup.experiment import Schedule, run_soup
    from primordium.soup.soup import SoupConfig
    from primordium.store import Store

    out = Output(json, quiet)
    if resume is not None and load is not None:
        raise ConfigError(
            "--resume continues a run, --load starts a new one from a checkpoint: use one"
        )
    store = Store()
    if resume is not None:
        config = schedule = None
    else:
        g = _grid(grid)
        n = programs if programs is not None else (g[0] * g[1] if g else 2**17)
        if load is not None and programs is None:
            from primordium.soup.cubff_files import read_dat

            n = read_dat(load, length)[0].shape[0]
        config = SoupConfig(
            lang=lang,
            programs=n,
            length=length,
            mutation=mutation,
            max_steps=steps,
            seed=seed,
            grid=g,
            radius=radius,
            pairing=pairing,
            zero_init=zero_init,
            interactions=str(interaction_pattern) if interaction_pattern is not None else None,
            initial_program=initial_program,
            reset_interval=reset_interval,
            draws=draws,
        )
        schedule = Schedule(
            epochs=16000 if epochs is None else epochs,
            log_every=log_every,
            checkpoint_every=checkpoint_every,
            snapshot_every=snapshot_every,
            save_every=save_every,
            eval_selfrep=eval_selfrep,
            stop_bpb=stop_bpb,
            stop_selfreps=stop_selfreps,
            log=str(log) if log is not None else None,
            log_offset=log_offset,
        )
    total = schedule.epochs if schedule is not None else epochs
    announced: list[str] = []
    with out.progress("soup", total=total) as task:

        def progress(p: dict) -> None:
            if not announced:
                announced.append(p["run"])
                out.info(f"run {p['run']} (resume with: primordium soup run --resume {p['run']})")
            line = (
                f"epoch {p['epoch']}/{p['target']}  {p['mops']:.1f} M ops/s  H0 {p['h0']:.3f}  "
                f"high-order {p['high_order_entropy']:.3f}"
            )
            task.update(p["epoch"], status=line)
            # Off a terminal (a log file, a background job) a line now and then stands in for the bar.
            if not out.err.is_terminal and not quiet and not json and p["epoch"] % 256 == 0:
                out.info(line)

        run_, result = run_soup(
            store,
            config,
            schedule,
            resume=resume,
            load=str(load) if load else None,
            epochs=epochs,
            name=name,
            stop_after_transition=stop_after_transition,
            progress=progress,
            device=device,
        )
    if json:
        out.json(result)
    else:
        out.info(f"run {run_.id} in {run_.dir}")
        t = result["transition_epoch"]
        out.print(
            f"{result['epochs']} epochs, {result['ops']:,} ops in {result['seconds']:.1f} s "
            f"({result['ops'] / max(result['seconds'], 1e-9) / 1e6:.1f} M ops/s); "
            f"high-order entropy {result['high_order_entropy']:.3f} bits/byte; "
            + (f"transition at epoch {t}" if t is not None else "no transition detected")
            + (f"; {result['selfreps']} self-replicators" if result["selfreps"] is not None else "")
            + (f"; stopped early ({result['stopped']})" if result["stopped"] else "")
        )


@app.command("exec")
def exec_(
    tape: str = Tape,
    lang: str = Lang,
    steps: int = Steps,
    length: int = Length,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Run one tape and print the final tape (hex) and the ops executed."""
    from primordium.soup.languages import execute, get_language

    out = Output(json, quiet)
    language = get_language(lang)
    final, ops = execute(language, _tape(tape, length), steps)
    if json:
        out.json({"tape": final.tobytes().hex(), "ops": ops})
    else:
        out.print(final.tobytes().hex())
        if language.text_form == "ops":
            out.print(language.render(final[:length]) + "  " + language.render(final[length:]))
        out.print(f"ops {ops}")


@app.command()
def trace(
    tape: str = Tape,
    lang: str = Lang,
    steps: int = Steps,
    length: int = Length,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Run one tape step by step, showing the machine before each step."""
    from primordium.soup.languages import get_language
    from primordium.soup.languages import trace as trace_tape

    out = Output(json, quiet)
    language = get_language(lang)
    records = []
    for st in trace_tape(language, _tape(tape, length), steps):
        tape_now = st.pop("tape")
        if json:
            st["tape"] = tape_now.tobytes().hex()
            records.append(st)
            continue
        if st.get("final"):
            out.print(f"end after {st['step']} steps, {st['ops']} ops")
            out.print(tape_now.tobytes().hex())
            if language.text_form == "ops":
                out.print(language.render(tape_now))
            continue
        extra = "  ".join(f"{k} {v}" for k, v in st.items() if k not in ("step", "ip", "op", "ops"))
        line = f"{st['step']:>5}  ip {st['ip']:>3}  {st['op']:<14} {extra}"
        if language.text_form == "ops":
            marks = [" "] * (2 * length)
            for key, ch in (("h1", "1"), ("h0", "0"), ("ip", "^")):
                if key in st:
                    marks[st[key]] = ch if marks[st[key]] == " " else "*"
            line += "\n       " + language.render(tape_now) + "\n       " + "".join(marks)
        out.print(line)
    if json:
        out.json(records)


@app.command()
def selfrep(
    program: str = typer.Option(..., "--program", help="One program in hex (--length bytes)."),
    lang: str = Lang,
    check: str = typer.Option(
        "cubff",
        "--check",
        help="cubff (cubff's eval_selfrep score, >= 5 replicates) or copy (whole copies, several generations).",
    ),
    partner: str = typer.Option(
        "random", "--partner", help="copy check: zero or random, the bytes beside it."
    ),
    generations: int = typer.Option(
        4, "--generations", min=1, help="copy check: rounds of copy-of-a-copy."
    ),
    steps: int = Steps,
    length: int = Length,
    seed: int = typer.Option(0, "--seed", help="Seed of the random partners (cubff: its --seed)."),
    epoch: int = typer.Option(
        0, "--epoch", min=0, help="cubff check: the epoch index whose noise it uses."
    ),
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Is a program a self-replicator? cubff's test by default, or primordium's copy check."""
    from primordium.soup.languages import get_language
    from primordium.soup.metrics import copy_check
    from primordium.soup.selfrep import SELFREP_THRESHOLD, selfrep_score

    out = Output(json, quiet)
    language = get_language(lang)
    if check not in ("cubff", "copy"):
        raise ConfigError(f"--check must be cubff or copy, not {check!r}")
    if partner not in ("zero", "random"):
        raise ConfigError(f"--partner must be zero or random, not {partner!r}")
    prog = _tape(program, length // 2, what="--program")
    if check == "cubff":
        score = selfrep_score(prog, language, seed=seed, epoch=epoch, max_steps=steps)
        res: dict[str, Any] = {
            "check": "cubff",
            "score": score,
            "threshold": SELFREP_THRESHOLD,
            "replicates": score >= SELFREP_THRESHOLD,
        }
        if json:
            out.json(res)
        else:
            out.print(f"cubff score {score} (replicator at {SELFREP_THRESHOLD} or more)")
            out.print("replicates" if res["replicates"] else "does not replicate")
        return
    res = copy_check(
        prog, language, partner=partner, generations=generations, max_steps=steps, seed=seed
    )
    if json:
        out.json(res)
        return
    for side in ("left", "right"):
        r = res[side]
        out.print(
            f"program on the {side}: copies {', '.join(f'{x:.2f}' for x in r['copy_fraction'])}; "
            f"reversed {', '.join(f'{x:.2f}' for x in r['reversed_copy_fraction'])}; "
            f"parent kept {', '.join(f'{x:.2f}' for x in r['parent_kept'])}"
            f" -> {'replicates' if r['replicates'] else 'does not replicate'}"
        )
    out.print("replicates" if res["replicates"] else "does not replicate")


@app.command()
def inspect(
    run_id: str = typer.Argument(..., metavar="RUN", help="A soup run id (or a unique prefix)."),
    epoch: int | None = typer.Option(
        None,
        "--epoch",
        help="Use the saved sample at or before this epoch [default: the last checkpoint, whole soup].",
    ),
    top: int = typer.Option(10, "--top", min=1, help="How many programs and substrings to list."),
    k: int = typer.Option(8, "--k", min=1, max=8, help="Substring length."),
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """The most frequent programs and substrings of a soup, rendered with their op characters."""
    from primordium.soup.experiment import config_of, load_soup, mark_replicators
    from primordium.soup.metrics import census, entropy
    from primordium.store import Store

    out = Output(json, quiet)
    run_ = Store().open(run_id)
    config, _ = config_of(run_)
    at, soup, whole = load_soup(run_, epoch)
    c = census(soup, config.lang, top=top, k=k)
    ent = entropy(soup)
    # Slots in a sample are the whole soup's first slots, so the scores are those of the whole soup.
    mark_replicators(c["programs"], config, total=config.programs, epoch_index=max(at - 1, 0))
    info = {
        "run": run_.id,
        "lang": config.lang,
        "epoch": at,
        "programs": int(soup.shape[0]),
        "whole_soup": whole,
        **ent,
        **c,
    }
    if json:
        out.json(info)
        return
    out.print(
        f"run {run_.id}  {config.lang}  epoch {at}  "
        f"{'whole soup' if whole else 'sample'} of {soup.shape[0]} programs, {c['distinct_programs']} distinct"
    )
    out.print(
        f"H0 {ent['h0']:.3f}  brotli {ent['brotli_bpb']:.3f}  high-order entropy {ent['high_order_entropy']:.3f} bits/byte"
    )
    out.print(
        "top programs (count, cubff's self-replication score, whole copies beside a random partner?):"
    )
    for p in c["programs"]:
        out.print(
            f"{p['count']:>8}  {p['selfrep_score']:>3}  {'yes' if p['copies'] else 'no ':<3}  {p['text']}"
        )
    out.print(f"top {k}-byte substrings:")
    for s in c["substrings"]:
        out.print(f"{s['count']:>8}  {s['text']}  ({s['hex']})")


@app.command()
def render(
    run_id: str = typer.Argument(..., metavar="RUN", help="A soup run id (or a unique prefix)."),
    out_path: Path = typer.Option(
        ...,
        "--out",
        help=".png: the soup at --epoch (or curves with --curves, with a PDF and an SVG beside them); .gif: its history.",
    ),
    epoch: int | None = typer.Option(
        None, "--epoch", help="The saved sample at or before this epoch [default: last]."
    ),
    curves: bool = typer.Option(
        False, "--curves", help="Draw entropy and ops curves instead of the soup."
    ),
    quiet: bool = Quiet,
) -> None:
    """Draw a soup run: the soup as an image, a GIF of its history, or its curves."""
    from primordium.soup.experiment import config_of, load_soup, snapshots
    from primordium.soup.metrics import detect_transition
    from primordium.soup.pictures import curves_figure, history_frames, soup_image
    from primordium.store import Store
    from primordium.viz import save, save_gif, save_png

    out = Output(False, quiet)
    suffix = out_path.suffix.lower()
    if suffix not in (".png", ".gif"):
        raise ConfigError(f"--out {out_path}: use a .png or .gif file")
    run_ = Store().open(run_id)
    config, _ = config_of(run_)
    if curves:
        if suffix != ".png":
            raise ConfigError("--curves draws a .png")
        rows = run_.metrics()
        save(curves_figure(rows, detect_transition(rows)), out_path)
    elif suffix == ".gif":
        snaps = [(e, s) for e, s in snapshots(run_) if epoch is None or e <= epoch]
        if not snaps:
            raise ConfigError(f"run {run_.id} has no saved soup samples to animate")
        save_gif(history_frames(snaps, config.lang), out_path, fps=8)
    else:
        at, soup, _ = load_soup(run_, epoch if epoch is not None else 1 << 62)
        save_png(soup_image(soup, config.lang, epoch=at), out_path)
    out.info(f"wrote {out_path}")


@app.command()
def sweep(
    seeds: str | None = typer.Option(None, "--seeds", help="Seeds: 0..99, 1,2,5 or a mix [0..9]."),
    lang: str = Lang,
    programs: int = typer.Option(
        2**17, "--programs", help="Programs in each soup.", rich_help_panel=_S
    ),
    epochs: int = typer.Option(1000, "--epochs", min=1, help="Epochs per soup."),
    mutation: float = typer.Option(
        1 / 4096,
        "--mutation",
        help="Probability per byte per epoch of a random byte [cubff's 1/4096].",
        rich_help_panel=_S,
    ),
    steps: int = Steps,
    length: int = Length,
    log_every: int = typer.Option(
        64, "--log-every", min=1, help="Epochs between points of each soup's curve."
    ),
    stop_after_transition: int | None = typer.Option(
        None,
        "--stop-after-transition",
        show_default="none: every epoch runs",
        min=0,
        help="End a soup this many epochs after its transition.",
    ),
    resume: str | None = typer.Option(
        None,
        "--resume",
        show_default="none: a new run",
        help="Continue this sweep with the seeds it has not finished.",
    ),
    name: str | None = typer.Option(
        None, "--name", show_default="the run's id", help="A name for the run."
    ),
    executor: str = ExecutorKind,
    address: str | None = Address,
    workers: int | None = Workers,
    draws: str = Draws,
    device: str = Device,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """The same soup under many seeds, one soup per task (local processes or a Ray cluster)."""
    from primordium.soup.soup import SoupConfig
    from primordium.soup.sweep import parse_seeds, run_sweep
    from primordium.store import Store

    out = Output(json, quiet)
    if resume is not None and seeds is not None:
        raise ConfigError("--resume continues a sweep with its own seeds; drop --seeds")
    seed_list = parse_seeds(seeds or "0..9") if resume is None else None
    config = (
        None
        if resume is not None
        else SoupConfig(
            lang=lang,
            programs=programs,
            length=length,
            mutation=mutation,
            max_steps=steps,
            draws=draws,
        )
    )
    store = Store()
    with (
        executor_from_flags(executor, address, workers) as pool,
        out.progress("seeds", total=len(seed_list) if seed_list else None) as bar,
    ):

        def on_result(r: dict, done: int, total: int) -> None:
            t = r["transition_epoch"]
            bar.update(
                done,
                status=f"seed {r['seed']}: "
                + (f"transition at {t}" if t is not None else "no transition"),
            )

        run_, results = run_sweep(
            store,
            config,
            seed_list,
            epochs=epochs,
            log_every=log_every,
            stop_after_transition=stop_after_transition,
            resume=resume,
            executor=pool,
            name=name,
            on_result=on_result,
            device=device,
        )
    summary = run_.summary
    if json:
        out.json(
            {
                "run": run_.id,
                "seeds": [r["seed"] for r in results],
                "transition_epochs": [r["transition_epoch"] for r in results],
                "fraction_transitioned": summary.get("fraction_transitioned"),
            }
        )
        return
    out.print(
        f"{summary.get('transitioned')} of {summary.get('seeds')} soups made the transition within "
        f"{summary.get('epochs')} epochs; run {run_.id} in {run_.dir}"
    )

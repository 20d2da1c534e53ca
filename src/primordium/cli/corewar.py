"""Core War commands: assemble, battle, tournament."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from primordium.cli.execution import Address, ExecutorKind, Workers, executor_from_flags
from primordium.cli.output import Json, Output, Quiet

if TYPE_CHECKING:
    from primordium.corewar.isa import Settings, Warrior

app = typer.Typer(no_args_is_help=True)

_D = "Core War settings"


def _settings(
    core_size: int,
    cycles: int,
    processes: int,
    length: int,
    distance: int,
    rounds: int = 1,
    warriors: int = 2,
) -> Settings:
    from primordium.corewar.isa import Settings

    return Settings(
        core_size=core_size,
        cycles=cycles,
        processes=processes,
        length=length,
        distance=distance,
        rounds=rounds,
        warriors=warriors,
    ).validate()


# Shared option declarations, so every command spells the settings the same way.
# The one-letter names are pMARS's, so a pMARS command line works unchanged.
CoreSize = typer.Option(8000, "--core-size", "-s", help="Cells in the core.", rich_help_panel=_D)
Cycles = typer.Option(
    80000, "--cycles", "-c", help="Turns per warrior before a tie.", rich_help_panel=_D
)
Processes = typer.Option(
    8000, "--processes", "-p", help="Maximum processes per warrior.", rich_help_panel=_D
)
Length = typer.Option(100, "--length", "-l", help="Maximum warrior length.", rich_help_panel=_D)
Distance = typer.Option(
    100, "--distance", "-d", help="Minimum distance between warriors.", rich_help_panel=_D
)
Seed = typer.Option(0, "--seed", help="Seed of the starting positions.")
Brief = typer.Option(
    False,
    "--brief",
    "-b",
    help="pMARS's brief mode; accepted so pMARS command lines run (primordium never lists sources).",
)


def _files(help_text: str) -> Any:
    return typer.Argument(..., metavar="FILE", help=help_text, show_default=False)


def _position(help_text: str) -> Any:
    return typer.Option(
        None, "--position", "-F", help=help_text, show_default="random, from --seed"
    )


@app.command()
def assemble(
    file: Path = typer.Argument(..., metavar="FILE", help="A Redcode file.", show_default=False),
    core_size: int = CoreSize,
    cycles: int = Cycles,
    processes: int = Processes,
    length: int = Length,
    distance: int = Distance,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Assemble a warrior and print it in pMARS's normalised form (as pmars -r 0 does)."""
    from primordium.corewar.redcode import assemble_file, listing

    out = Output(json, quiet)
    s = _settings(core_size, cycles, processes, length, distance)
    w = assemble_file(file, s)
    if json:
        out.json(
            {
                "name": w.name,
                "author": w.author,
                "strategy": w.strategy,
                "file": str(file),
                "start": w.start,
                "pin": w.pin,
                "length": w.length,
                "listing": listing(w),
            }
        )
    elif not quiet:
        print(listing(w), end="")


def _load_all(files: list[Path], s: Settings) -> list[Warrior]:
    from primordium.corewar.redcode import assemble_file

    return [assemble_file(f, s) for f in files]


@app.command()
def battle(
    files: list[Path] = _files("Two or more Redcode files (one is allowed: a solo run)."),
    rounds: int = typer.Option(100, "--rounds", "-r", help="Rounds to fight."),
    position: int | None = _position(
        "Fix warrior 2 at this offset from warrior 1 in round 1 (pMARS -F)."
    ),
    seed: int = Seed,
    core_size: int = CoreSize,
    cycles: int = Cycles,
    processes: int = Processes,
    length: int = Length,
    distance: int = Distance,
    brief: bool = Brief,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Fight warriors in one core; print scores and wins/losses/ties, like pMARS."""
    from primordium.corewar.battle import battle as run

    out = Output(json, quiet)
    s = _settings(core_size, cycles, processes, length, distance, rounds, len(files))
    warriors = _load_all(files, s)
    res = run(warriors, s, seed=seed, position=position, track=False)
    scores, wins, losses, ties = res.scores()[0], res.wins()[0], res.losses()[0], res.ties()[0]
    rows = [
        {
            "name": w.name,
            "file": str(f),
            "wins": int(wins[i]),
            "losses": int(losses[i]),
            "ties": int(ties[i]),
            "score": int(scores[i]),
        }
        for i, (w, f) in enumerate(zip(warriors, files, strict=False))
    ]
    if json:
        out.json({"rounds": rounds, "warriors": rows})
        return
    for w, row in zip(warriors, rows, strict=False):
        out.line(
            f"{w.name} by {w.author} scores {row['score']}  (W {row['wins']} / L {row['losses']} / T {row['ties']})"
        )
    if len(warriors) == 2:
        out.print(f"Results: {rows[0]['wins']} {rows[0]['losses']} {rows[0]['ties']}")


@app.command()
def tournament(
    files: list[Path] = _files("Redcode files; every pair fights."),
    rounds: int = typer.Option(100, "--rounds", "-r", help="Rounds per pair."),
    position: int | None = _position("Fix warrior 2's offset in round 1 (pMARS -F)."),
    seed: int = Seed,
    out_csv: Path | None = typer.Option(
        None,
        "--out",
        metavar="FILE",
        help="Write every pair's wins/losses/ties as CSV to FILE.",
        show_default="none",
    ),
    save: bool = typer.Option(
        False,
        "--save",
        help="Keep the tournament as a run in the store (results, heat map, replay).",
    ),
    core_size: int = CoreSize,
    cycles: int = Cycles,
    processes: int = Processes,
    length: int = Length,
    distance: int = Distance,
    executor: str = ExecutorKind,
    address: str | None = Address,
    workers: int | None = Workers,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Round robin: every pair of warriors fights; prints the ranking by score."""
    from primordium.corewar import experiment as ex

    out = Output(json, quiet)
    if len(files) < 2:
        from primordium.errors import ConfigError

        raise ConfigError("a tournament needs at least two warriors")
    if out_csv is not None:
        _check_writable(out_csv)
    s = _settings(core_size, cycles, processes, length, distance, rounds)
    n_pairs = len(files) * (len(files) - 1) // 2
    run = None
    with (
        executor_from_flags(executor, address, workers) as pool,
        out.progress("pairs", n_pairs) as bar,
    ):
        if save:
            from primordium.store import Store

            run, results = ex.run_tournament(
                Store(),
                files,
                rounds=rounds,
                seed=seed,
                settings=s,
                position=position,
                executor=pool,
                progress=(lambda done, _total: bar.update(done)) if bar.shown else None,
            )
        else:
            from primordium.corewar.battle import tournament as run_tournament

            warriors = _load_all(files, s)
            # Without a bar the pairs run as one batch: chunks only for progress
            # would leave a core idle at the end of each chunk.
            t = run_tournament(
                warriors,
                s,
                seed=seed,
                position=position,
                on_progress=bar.advance if bar.shown else None,
                executor=pool,
            )
            results = ex.results_dict(warriors, ex._unique_stems(files), t, rounds)
    # Outside the store, a warrior is known by the path the user gave.
    for w, f in zip(results["warriors"], files, strict=True):
        w["file"] = str(f)
    if out_csv is not None:
        _write_csv(out_csv, ex.results_csv(results))
    if json:
        n = len(files)
        pairs = [
            {
                "a": i,
                "b": j,
                "wins": int(results["wins"][i][j]),
                "losses": int(results["losses"][i][j]),
                "ties": int(results["ties"][i][j]),
            }
            for i in range(n)
            for j in range(i + 1, n)
        ]
        out.json(
            {
                "warriors": [w["name"] for w in results["warriors"]],
                "files": [str(f) for f in files],
                "rounds": rounds,
                "results": pairs,
                "scores": [w["score"] for w in results["warriors"]],
                "ranking": results["ranking"],
                **({"run": run.id} if run is not None else {}),
            }
        )
        return
    for line in ranking_lines(results):
        out.line(line)
    if out_csv is not None:
        out.line(f"pairs: {out_csv}")
    if run is not None:
        out.line(f"run {run.id}: outputs in {run.dir}")


def ranking_lines(results: dict, width: int = 80) -> list[str]:
    """The ranking as plain lines no wider than ``width`` (names cut with an ellipsis)."""
    from rich.cells import cell_len

    ws, order = results["warriors"], results["ranking"]
    n = len(order)
    rank_w = len(str(n))
    nums = [
        (str(ws[i]["score"]), str(ws[i]["wins"]), str(ws[i]["losses"]), str(ws[i]["ties"]))
        for i in order
    ]
    heads = ("score", "won", "lost", "tied")
    num_w = [max(len(h), *(len(r[k]) for r in nums)) for k, h in enumerate(heads)]
    fixed = rank_w + 2 + sum(w + 2 for w in num_w)
    room = max(width - fixed, 12)
    # Names take what they need, authors what is left, each at least a readable stub.
    name_w = min(max(cell_len(ws[i]["name"]) for i in order), max(room * 3 // 5, room - 24))
    name_w = max(name_w, len("warrior"))
    author_w = max(room - name_w - 2, 0)

    def row(rank: str, name: str, author: str, cells: Sequence[str]) -> str:
        left = f"{rank:>{rank_w}}  {_fit(name, name_w)}"
        if author_w >= 6:
            left += "  " + _fit(author, author_w)
        return left + "".join(f"  {c:>{w}}" for c, w in zip(cells, num_w, strict=True))

    rounds = results["rounds"]
    lines = [
        _fit(f"{n} warriors, {rounds} rounds per pair; won/lost/tied summed over opponents", width),
        row("#", "warrior", "author", heads),
    ]
    for r, (i, cells) in enumerate(zip(order, nums, strict=True), 1):
        lines.append(row(str(r), ws[i]["name"], ws[i].get("author") or "", cells))
    return [line.rstrip() for line in lines]


def _fit(text: str, width: int) -> str:
    """``text`` padded or cut to ``width`` terminal cells, cut text ending in an ellipsis."""
    from rich.cells import cell_len, set_cell_size

    text = " ".join(text.split())  # tabs or newlines in a name would break the columns
    if cell_len(text) > width:
        text = set_cell_size(text, max(width - 1, 0)) + "…"
    return set_cell_size(text, width)


def _check_writable(path: Path) -> None:
    """Refuse an output path that cannot be written before spending minutes on the battles."""
    import os

    from primordium.errors import ConfigError

    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError("is a directory, not a file to write", file=path)
    if not parent.is_dir():
        raise ConfigError("cannot write: no such directory", file=path)
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError("cannot write: permission denied", file=path)


def _write_csv(path: Path, text: str) -> None:
    from primordium.errors import ConfigError
    from primordium.store.atomic import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise ConfigError(f"cannot write: {e.strerror or e}", file=path) from None


@app.command()
def replay(
    files: list[Path] = _files("Two or more Redcode files."),
    out_file: Path = typer.Option(
        ..., "--out", help="battle.gif or battle.mp4 (MP4 needs the 'asal' extra)."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the starting positions (round 1 of battle --seed)."
    ),
    frames: int = typer.Option(200, "--frames", min=2, help="Pictures over the round."),
    fps: float = typer.Option(20.0, "--fps", min=1.0, help="Frames per second."),
    core_size: int = CoreSize,
    cycles: int = Cycles,
    processes: int = Processes,
    length: int = Length,
    distance: int = Distance,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Film one round: each core cell coloured by the warrior that last wrote it, processes bright."""
    from primordium.corewar.replay import write_replay

    out = Output(json, quiet)
    if len(files) < 2:
        from primordium.errors import ConfigError

        raise ConfigError("a replay needs at least two warriors")
    s = _settings(core_size, cycles, processes, length, distance, 1, len(files))
    info = write_replay(files, out_file, s, seed=seed, frames_n=frames, fps=fps)
    if json:
        out.json(info)
        return
    alive = [n for n, a in zip(info["names"], info["alive"], strict=False) if a]
    out.line(
        f"{out_file}: {info['frames']} frames up to cycle {info['last_cycle']}; survivors: {', '.join(alive) or 'none'}"
    )

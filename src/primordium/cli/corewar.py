"""Core War commands: assemble, battle, tournament."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
CoreSize = typer.Option(8000, "--core-size", help="Cells in the core.", rich_help_panel=_D)
Cycles = typer.Option(80000, "--cycles", help="Turns per warrior before a tie.", rich_help_panel=_D)
Processes = typer.Option(
    8000, "--processes", help="Maximum processes per warrior.", rich_help_panel=_D
)
Length = typer.Option(100, "--length", help="Maximum warrior length.", rich_help_panel=_D)
Distance = typer.Option(
    100, "--distance", help="Minimum distance between warriors.", rich_help_panel=_D
)


@app.command()
def assemble(
    file: Path = typer.Argument(..., help="A Redcode file."),
    core_size: int = CoreSize,
    cycles: int = Cycles,
    processes: int = Processes,
    length: int = Length,
    distance: int = Distance,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Assemble a warrior and print it in pMARS's normalised form (as `pmars -r 0`)."""
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
    files: list[Path] = typer.Argument(
        ..., help="Two or more Redcode files (one is allowed: a solo run)."
    ),
    rounds: int = typer.Option(100, "--rounds", "-r", help="Rounds to fight."),
    position: int | None = typer.Option(
        None,
        "--position",
        "-F",
        help="Fix warrior 2 at this offset from warrior 1 in round 1 (pMARS -F).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the starting positions."),
    core_size: int = CoreSize,
    cycles: int = Cycles,
    processes: int = Processes,
    length: int = Length,
    distance: int = Distance,
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
        out.print(
            f"{w.name} by {w.author} scores {row['score']}  (W {row['wins']} / L {row['losses']} / T {row['ties']})"
        )
    if len(warriors) == 2:
        out.print(f"Results: {rows[0]['wins']} {rows[0]['losses']} {rows[0]['ties']}")


@app.command()
def tournament(
    files: list[Path] = typer.Argument(..., help="Redcode files; every pair fights."),
    rounds: int = typer.Option(100, "--rounds", "-r", help="Rounds per pair."),
    position: int | None = typer.Option(
        None, "--position", "-F", help="Fix warrior 2's offset in round 1 (pMARS -F)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the starting positions."),
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
    """Round robin: every pair of warriors fights; prints a table of results."""
    from rich.table import Table

    from primordium.corewar.battle import tournament as run_tournament

    out = Output(json, quiet)
    if len(files) < 2:
        from primordium.errors import ConfigError

        raise ConfigError("a tournament needs at least two warriors")
    s = _settings(core_size, cycles, processes, length, distance, rounds)
    warriors = _load_all(files, s)
    n_pairs = len(files) * (len(files) - 1) // 2
    with (
        executor_from_flags(executor, address, workers) as pool,
        out.progress("pairs", n_pairs) as bar,
    ):
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
    names = [w.name for w in warriors]
    if json:
        results = [
            {
                "a": i,
                "b": j,
                "wins": int(t.wins[i, j]),
                "losses": int(t.losses[i, j]),
                "ties": int(t.ties[i, j]),
            }
            for i in range(len(files))
            for j in range(i + 1, len(files))
        ]
        out.json(
            {
                "warriors": names,
                "files": [str(f) for f in files],
                "rounds": rounds,
                "results": results,
                "scores": [int(x) for x in t.scores()],
            }
        )
        return
    table = Table(
        title=f"{len(files)} warriors, {rounds} rounds per pair (W/L/T of row against column)"
    )
    table.add_column("warrior")
    for k in range(len(files)):
        table.add_column(str(k + 1), justify="right")
    table.add_column("score", justify="right")
    order = sorted(range(len(files)), key=lambda i: -int(t.scores()[i]))
    for i in order:
        cells = [
            "-" if i == j else f"{t.wins[i, j]}/{t.losses[i, j]}/{t.ties[i, j]}"
            for j in range(len(files))
        ]
        table.add_row(f"{i + 1}. {names[i]}", *cells, str(int(t.scores()[i])))
    out.print(table)


@app.command()
def replay(
    files: list[Path] = typer.Argument(..., help="Two or more Redcode files."),
    out_file: Path = typer.Option(
        ..., "--out", help="battle.gif or battle.mp4 (MP4 needs the 'asal' extra)."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed of the starting positions (round 1 of `battle --seed`)."
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
    out.print(
        f"{out_file}: {info['frames']} frames up to cycle {info['last_cycle']}; survivors: {', '.join(alive) or 'none'}"
    )

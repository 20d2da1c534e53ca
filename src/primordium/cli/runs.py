"""The run store: list, show, remove and export runs; repair the index and leftovers."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from primordium.cli.output import Json, Output, Quiet
from primordium.errors import ConfigError

if TYPE_CHECKING:
    from primordium.store import Store

app = typer.Typer(no_args_is_help=True)

Home = typer.Option(
    None, "--home", help="The store's folder (default: $PRIMORDIUM_HOME, else the current folder)."
)


def _store(home: Path | None) -> Store:
    from primordium.store import Store

    # Never create a store by looking at one: a wrong folder is an error, not a new empty store.
    return Store(home, create=False)


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _value(v: object) -> str:
    if v is None:
        return "none"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _key_summary(engine: str, summary: dict) -> str:
    """The engine's key summary (the gallery's cards show the same), one key=value a line."""
    from primordium.store.keys import key_summary

    return "\n".join(f"{k}={_value(v)}" for k, v in key_summary(engine, summary))


_STYLE = {"running": "green", "finished": "", "failed": "red", "interrupted": "yellow"}


@app.command("list")
def list_(
    engine: str | None = typer.Option(
        None, "--engine", "-e", show_default="all", help="Only runs of this engine."
    ),
    status: str | None = typer.Option(
        None, "--status", "-s", show_default="all", help="Only runs with this status."
    ),
    home: Path | None = Home,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """List the runs, newest first."""
    from rich.table import Table
    from rich.text import Text

    from primordium.store.runs import STATUSES

    if status is not None and status not in STATUSES:
        raise ConfigError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    out = Output(json, quiet)
    store = _store(home)
    runs = [r for r in store.list(engine=engine) if status is None or r["status"] == status]
    if json:
        out.json(runs)
        return
    if not runs:
        out.info(f"no runs in {store.home}" + (" matching the filter" if engine or status else ""))
        return
    # The id (what other commands take) with the name under it, then what the run is
    # known by; an 80-column terminal fits it, a wide one also gets the start time.
    wide = out.out.width >= 120
    table = Table(box=None, pad_edge=False, header_style="bold")
    # Ids never fold (people copy them); names fold; a long summary value is cut with "…".
    id_width = max(len(r["id"]) for r in runs)
    table.add_column("run", overflow="fold", min_width=id_width)
    table.add_column("engine", no_wrap=True)
    table.add_column("status", no_wrap=True)
    if wide:
        table.add_column("created", no_wrap=True)
    used = id_width + len("redqueen") + len("interrupted") + 2 * 3
    used += len("2026-11-30 03:36") + 2 if wide else 0
    table.add_column(
        "summary", overflow="ellipsis", no_wrap=True, max_width=max(16, out.out.width - used)
    )
    for r in runs:
        style = _STYLE.get(r["status"], "")
        name = Text(r["id"])
        if r["name"] != r["id"]:
            name.append("\n" + r["name"], style="dim")
        row = [name, r["engine"], Text(r["status"], style=style)]
        if wide:
            row.append(_when(r["created"]))
        row.append(Text(_key_summary(r["engine"], r["summary"])))
        table.add_row(*row)
    out.print(table)


@app.command()
def show(
    run_id: str = typer.Argument(..., help="A run id (a unique prefix will do)."),
    metrics: bool = typer.Option(False, "--metrics", help="With --json, include every metric row."),
    home: Path | None = Home,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Show one run: status, config, summary, last metrics and files."""
    import json as _json

    out = Output(json, quiet)
    run = _store(home).open(run_id)
    info = run.info()
    rows = run.metrics()
    info["problems"] = run.problems()
    info["files"] = run.files()
    info["metric_rows"] = len(rows)
    info["last_metrics"] = rows[-1] if rows else None
    if metrics:
        info["metrics"] = rows
    if json:
        out.json(info)
        return
    took = info["updated"] - info["created"]
    from rich.markup import escape

    out.print(f"[bold]{escape(info['name'])}[/bold]  ({info['id']})")
    out.print(f"engine    {info['engine']}")
    out.print(
        f"status    {info['status']}  (started {_when(info['created'])}, last update after {took:.1f} s)"
    )
    out.print(f"folder    {info['dir']}")
    for problem in info["problems"]:
        out.print(f"[red]damaged[/red]   {problem}")
    if info["summary"]:
        out.print("summary   " + _json.dumps(info["summary"], sort_keys=True))
    out.print("config    " + _json.dumps(info["config"], sort_keys=True))
    if rows:
        out.print(f"metrics   {len(rows)} rows, last: " + _json.dumps(rows[-1], sort_keys=True))
    else:
        out.print("metrics   none")
    out.print(f"files     {len(info['files'])}")
    for f in info["files"]:
        out.print(f"  {f['path']}  ({f['size']:,} bytes)")


@app.command()
def rm(
    run_ids: list[str] = typer.Argument(..., help="Run ids (unique prefixes will do)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    force: bool = typer.Option(False, "--force", help="Remove runs even while they are running."),
    home: Path | None = Home,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Remove runs: their index rows, metrics and folders."""
    out = Output(json, quiet)
    store = _store(home)
    store.collect_garbage()  # first finish what a killed `rm` left behind
    runs = [store.open(r) for r in run_ids]  # every id is checked before anything is removed
    ids = list(dict.fromkeys(r.id for r in runs))
    running = [r.id for r in runs if r.status == "running"]
    if running and not force:
        raise ConfigError(f"run {running[0]} is running; stop it first or pass --force")
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"refusing to remove {len(ids)} run(s) without --yes (no terminal to ask)"
            )
        if not typer.confirm(f"Remove {len(ids)} run(s): {', '.join(ids)}?"):
            raise typer.Abort()
    for rid in ids:
        store.remove(rid)
    if json:
        out.json({"removed": ids})
    else:
        out.print(f"removed {', '.join(ids)}")


@app.command()
def export(
    run_id: str = typer.Argument(..., help="A run id (a unique prefix will do)."),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Archive to write (.tar.gz, .tgz or .zip) [default: RUN_ID.tar.gz].",
    ),
    home: Path | None = Home,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Write one run (index row, metrics, config and every artifact) to one archive file."""
    from primordium.store.export import export_run

    out = Output(json, quiet)
    run = _store(home).open(run_id)
    dest = export_run(run, output if output is not None else Path(f"{run.id}.tar.gz"))
    size = dest.stat().st_size
    if json:
        out.json({"id": run.id, "archive": str(dest), "bytes": size})
    else:
        out.print(f"wrote {dest} ({size:,} bytes)")


@app.command()
def path(
    run_id: str = typer.Argument(..., help="A run id (a unique prefix will do)."),
    home: Path | None = Home,
) -> None:
    """Print a run's folder (for scripts: cd "$(primordium runs path ID)")."""
    print(_store(home).open(run_id).dir)


@app.command()
def gc(
    home: Path | None = Home,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Finish what killed commands left: half-removed runs, and export temp files in this folder."""
    from primordium.store.export import sweep_export_temps

    out = Output(json, quiet)
    removed = _store(home).collect_garbage()
    temps = [str(p) for p in sweep_export_temps(Path.cwd())]
    if json:
        out.json({"removed_runs": removed, "removed_temp_files": temps})
        return
    out.print(
        f"finished removing {len(removed)} run(s)"
        + (f" ({', '.join(removed)})" if removed else "")
        + f"; deleted {len(temps)} stale export temp file(s)"
    )


@app.command()
def reindex(
    home: Path | None = Home,
    json: bool = Json,
    quiet: bool = Quiet,
) -> None:
    """Rebuild the index (primordium.db) from the run folders: after it was lost, emptied or damaged."""
    from primordium.store.reindex import reindex as rebuild
    from primordium.store.runs import default_home

    out = Output(json, quiet)
    done = rebuild(home if home is not None else default_home())
    if json:
        out.json(
            {
                "added": done.added,
                "kept": done.kept,
                "skipped": done.skipped,
                "set_aside": str(done.set_aside) if done.set_aside else None,
            }
        )
        return
    if done.set_aside:
        out.print(f"the damaged index was kept as {done.set_aside}")
    out.print(f"indexed {len(done.added)} run folder(s); {done.kept} run(s) were already indexed")
    for why in done.skipped:
        out.print(f"[yellow]skipped[/yellow]  {why}")

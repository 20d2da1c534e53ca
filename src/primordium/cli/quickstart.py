"""`primordium quickstart`: a short offline run of each engine, into the store, then the gallery.

An engine joins the quickstart by exposing ``quickstart_run(store, seed=0,
progress=None) -> Run`` (or ``on_progress=``, or ``output=`` to draw its own
bars on our ``Output``) in ``primordium.<engine>.experiment``,
``.loop`` or the package itself: a few minutes at most on two cores, offline
(pixels model, offline mutation). ``progress`` gets a dict; ``done``/``total``,
``epoch``/``target`` or ``completed`` drive the bar, other numbers show beside it. Core War's run lives here because its experiment module
predates the convention.
"""

from __future__ import annotations

import importlib
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from primordium.cli.output import Output
from primordium.errors import ConfigError, PrimordiumError

if TYPE_CHECKING:
    from primordium.store import Run, Store

# In the order they run: quick ones first so the gallery has something early.
ENGINES = ("corewar", "soup", "asal", "redqueen", "learn")
ABOUT = {
    "corewar": "Core War: round robin of the built-in warriors, heat map, battle replay",
    "soup": "program soup: BFF, 4096 programs, 2048 epochs, entropy curves and census",
    "asal": "ASAL: a short search over a substrate with the offline pixels model",
    "redqueen": "Digital Red Queen: a few rounds of warrior evolution with the offline mutation",
    "learn": "LifeGPT: a small GPT learns B3/S23 on a 4x4 torus, then runs on its own output",
}


def _corewar(store: Store, seed: int, progress: Callable[[dict], None]) -> Run:
    from primordium.corewar.experiment import run_tournament

    run, _ = run_tournament(
        store,
        rounds=100,
        seed=seed,
        name=f"quickstart corewar (seed {seed})",
        progress=lambda done, total: progress({"done": done, "total": total}),
    )
    return run


def _soup(store: Store, seed: int, progress: Callable[[dict], None]) -> Run:
    from primordium.soup.experiment import quickstart_run

    # The run writes its own census.json (which programs took over, and whether they replicate).
    return quickstart_run(
        store,
        seed=seed,
        progress=lambda p: progress(
            {
                "done": p["epoch"],
                "total": p["target"],
                "status": f"high-order entropy {p['high_order_entropy']:.3f}",
            }
        ),
    )


def _from_engine(engine: str) -> Callable[..., Run] | None:
    """The engine's own quickstart_run, or None while that engine does not offer one."""
    import inspect

    for where in (
        f"primordium.{engine}.experiment",
        f"primordium.{engine}.loop",
        f"primordium.{engine}",
    ):
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as e:
            if e.name is not None and (where == e.name or where.startswith(e.name + ".")):
                continue  # that module (or the engine) is not there; a missing dependency still raises
            raise
        fn = getattr(module, "quickstart_run", None)
        if fn is not None:
            break
    else:
        return None
    params = inspect.signature(fn).parameters
    if "output" in params:
        # The engine draws its own progress on our Output (rich allows one live bar at a time).
        def run_with_output(store: Store, seed: int, out: Output) -> Run:
            return fn(store, seed=seed, output=out)

        run_with_output.own_output = True  # type: ignore[attr-defined]
        return run_with_output
    hook = next((k for k in ("progress", "on_progress") if k in params), None)

    def run(store: Store, seed: int, progress: Callable[[dict], None]) -> Run:
        return fn(store, seed=seed, **({hook: progress} if hook else {}))

    return run


def available() -> dict[str, Callable]:
    """Engine -> its quickstart step, for the engines present in this install."""
    steps: dict[str, Callable] = {"corewar": _corewar, "soup": _soup}
    # ASAL and Digital Red Queen join as soon as they expose quickstart_run (see the module docstring).
    for engine in ("asal", "redqueen", "learn"):
        step = _from_engine(engine)
        if step is not None:
            steps[engine] = step
    return {e: steps[e] for e in ENGINES if e in steps}


def quickstart(
    home: Path | None = typer.Option(
        None,
        "--home",
        help="The store's folder (default: $PRIMORDIUM_HOME, else the current folder).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice."),
    only: str | None = typer.Option(
        None, "--only", help="Comma-separated engines to run (default: all there are)."
    ),
    json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Run a short demo of each engine (offline) into the run store, then show how to open the gallery."""
    from primordium.store import Store

    out = Output(json, quiet)
    steps = available()
    if only is not None:
        wanted = [e.strip() for e in only.split(",") if e.strip()]
        unknown = [e for e in wanted if e not in ENGINES]
        if unknown or not wanted:
            raise ConfigError(f"--only {only!r}: expected engines among {', '.join(ENGINES)}")
        missing = [e for e in wanted if e not in steps]
        if missing:
            raise ConfigError(f"--only: {', '.join(missing)} has no quickstart in this install yet")
        steps = {e: s for e, s in steps.items() if e in wanted}
    store = Store(home)
    skipped = [e for e in ENGINES if e not in available()]
    out.info(
        f"quickstart: {len(steps)} short runs into {store.home.resolve()}"
        + (f" (not yet available: {', '.join(skipped)})" if skipped and only is None else "")
    )
    results, failed = [], []
    t_all = time.perf_counter()
    for k, (engine, step) in enumerate(steps.items(), 1):
        out.info(f"[{k}/{len(steps)}] {ABOUT[engine]}")
        t0 = time.perf_counter()
        try:
            if getattr(step, "own_output", False):
                run = step(store, seed, out)
            else:
                with out.progress(engine, total=None) as bar:
                    run = step(store, seed, _reporter(out, engine, bar))
        except PrimordiumError as e:
            failed.append({"engine": engine, "error": str(e)})
            out.info(f"[red]  {engine} failed:[/red] {e}")
            continue
        except Exception as e:  # a bug in one engine should not hide the others' runs
            failed.append({"engine": engine, "error": f"{type(e).__name__}: {e}"})
            out.info(f"[red]  {engine} failed ({type(e).__name__}):[/red] {e}")
            continue
        seconds = time.perf_counter() - t0
        results.append(
            {
                "engine": engine,
                "id": run.id,
                "status": run.status,
                "seconds": round(seconds, 1),
                "summary": run.summary,
            }
        )
        out.info(f"  done in {seconds:.1f} s: run {run.id}")
    home_arg = "" if home is None else f" --home {shlex.quote(str(home))}"
    command = f"primordium serve{home_arg}"
    if json:
        out.json(
            {
                "home": str(store.home.resolve()),
                "runs": results,
                "failed": failed,
                "serve": command,
                "seconds": round(time.perf_counter() - t_all, 1),
            }
        )
    else:
        out.print(
            f"{len(results)} runs in {time.perf_counter() - t_all:.0f} s. Open the gallery with:"
        )
        out.print(f"\n    {command}\n")
        out.print(
            "then visit http://127.0.0.1:8765/ (or list the runs with `primordium runs list`)."
        )
    if failed:
        raise typer.Exit(1)


def _reporter(out: Output, engine: str, bar: Any) -> Callable[[dict], None]:
    """Turn an engine's progress dicts into the bar (on a terminal) or a line now and then (in a log)."""
    state = {"last_line": 0.0}

    def report(p: dict) -> None:
        done = next((p[k] for k in ("done", "epoch", "completed") if p.get(k) is not None), None)
        total = next((p[k] for k in ("total", "target") if p.get(k) is not None), None)
        status = p.get("status") or " ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
            for k, v in p.items()
            if k not in ("done", "epoch", "completed", "total", "target")
            and isinstance(v, (int, float))
        )
        if done is not None:
            bar.update(done, status=status, total=total)
        now = time.monotonic()
        if not out.err.is_terminal and now - state["last_line"] >= 5.0:
            state["last_line"] = now
            where = f"{done}/{total}" if total is not None else str(done)
            out.info(f"  {engine}: {where} {status}".rstrip())

    return report

"""The life of a search run in the store: create or resume, run the loop, write the outputs.

Every generation ends with an atomic checkpoint, so a run killed at any
moment resumes (``resume_search``) and finishes with the same result as an
uninterrupted one: all randomness comes from the seed and the generation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from primordium.asal.config import AsalConfig
from primordium.asal.context import ENGINE, Context, build
from primordium.asal.illumination import illuminate_loop
from primordium.asal.optimise import cma_loop
from primordium.asal.outputs import (
    VIDEO_SIZE,
    live_picture,
    params_document,
    video_frames,
    write_video,
)
from primordium.errors import StoreError
from primordium.store import Run, Store


def run_search(
    cfg: AsalConfig,
    store: Store,
    output=None,
    run: Run | None = None,
    executor=None,
    on_generation: Callable[[list[dict]], None] | None = None,
) -> Run:
    """Run (or, given ``run``, resume) a search; returns the finished run.

    ``on_generation(history)`` hears the history rows after each generation
    (and once before the first). ``output`` (a CLI ``Output``) may instead
    draw its own bar from them: the loops know nothing of either.
    """
    cfg = cfg.resolved()
    ctx = build(cfg, executor)
    if run is None:
        run = store.create(
            ENGINE,
            {"kind": "search"} | cfg.to_dict(),
            name=f"{cfg.substrate} {cfg.mode} ({cfg.fm})",
        )
    with run.running():
        loop = cma_loop if cfg.algo == "cma-es" else illuminate_loop
        label = f"{cfg.substrate} {cfg.mode if cfg.algo == 'cma-es' else cfg.algo}"
        watch = getattr(output, "generations", None)
        with watch(label, cfg.gens) if watch else contextlib.nullcontext() as bar:
            result = loop(ctx, run, _both(on_generation, bar, _pictures(ctx, run)))
        write_search_outputs(ctx, run, result)
    return run


def _pictures(ctx: Context, run: Run) -> Callable[[list[dict]], None] | None:
    """An ``on_generation`` that writes best_so_far.png after generation 1 and every
    ``picture_every`` generations (None when ``picture_every`` is 0)."""
    every = ctx.cfg.picture_every
    if not every:
        return None

    def each(history: list[dict]) -> None:
        gen = len(history)
        if gen == 1 or (gen > 0 and gen % every == 0):
            live_picture(ctx, run, gen)

    return each


def _both(*callbacks):
    """One ``on_generation`` that calls each given callback in turn (None when none is given)."""
    given = [c for c in callbacks if c is not None]
    if len(given) <= 1:
        return given[0] if given else None

    def each(history: list[dict]) -> None:
        for c in given:
            c(history)

    return each


def resume_search(store: Store, run_id: str, output=None, executor=None, on_generation=None) -> Run:
    run = store.open(run_id)
    config = dict(run.config)
    kind = config.pop("kind", None)
    if run.engine != ENGINE or kind != "search":
        raise StoreError(f"run {run.id} is not an ASAL search (use sweep-life --resume for sweeps)")
    if run.status == "finished":
        return run
    return run_search(
        AsalConfig.from_dict(config, source=str(run.dir / "config.json")),
        store,
        output,
        run=run,
        executor=executor,
        on_generation=on_generation,
    )


def write_search_outputs(ctx: Context, run: Run, result: dict[str, Any]) -> None:
    from primordium.asal import outputs

    cfg, ev = ctx.cfg, ctx.evaluator
    history = result["history"]
    run.write_json("history.json", history)
    outputs.score_plot(
        history,
        run.artifact("scores.png"),
        "illumination score" if cfg.mode == "illuminate" else f"{cfg.mode} score",
    )
    summary: dict[str, Any] = {"best_score": result["best_score"], "gens": len(history)}
    if cfg.mode == "illuminate":
        archive = result["archive"]
        run.write_json(
            "archive.json", [params_document(ev.substrate, f, ev.unravel) for f in archive]
        )
        from primordium.asal.substrates import rollout, to_uint8

        # Re-rendered larger than the search saw them, so the poster is legible.
        frames, _ = rollout(
            ev.substrate,
            jax.random.PRNGKey(cfg.seed),
            ev.unravel_batch(archive),
            cfg.steps,
            size=max(cfg.size, 128),
            batched=True,
            time_sampling="final",
        )
        outputs.poster(
            to_uint8(frames)[:, -1], result["archive_z"], run.artifact("poster.png"), thumb=128
        )
        summary["archive"] = len(archive)
    doc = params_document(ev.substrate, result["best_flat"], ev.unravel, result["best_score"])
    run.write_json("best_params.json", doc)
    run.write_bytes("result.npz", outputs.result_npz(result, history))
    if cfg.video:
        video = video_frames(
            ev.substrate,
            ev.unravel(jnp.asarray(result["best_flat"])),
            cfg.steps,
            cfg.seed,
            max(cfg.size, VIDEO_SIZE),
        )
        write_video(video, run.artifact("best.gif"), fps=15)
        with contextlib.suppress(Exception):  # MP4 needs ffmpeg; the GIF is always there
            write_video(video, run.artifact("best.mp4"), fps=15)
    if "rule" in doc:
        summary["rule"] = doc["rule"]
    run.update_summary(**summary)


class SearchResult(dict):
    """What a finished search reports (a dict, as ``--json`` prints it), plus its substrate's name.

    ``to_pandas()`` is the history: one row per generation.
    """

    def __init__(self, fields: dict[str, Any], *, substrate: str, mode: str):
        super().__init__(fields)
        self.substrate = substrate
        self.mode = mode

    def __repr__(self) -> str:
        score = self.get("best_score")
        best = f"best score {score:.4g}" if isinstance(score, int | float) else "no score"
        rule = f", rule {self['rule']}" if "rule" in self else ""
        gens = len(self.get("history") or [])
        return (
            f"SearchResult({self.substrate} {self.mode}, run {self.get('run')}: "
            f"{gens} generations, {best}{rule})"
        )

    def to_pandas(self):
        from primordium.tables import frame

        return frame(self.get("history") or [], columns=["gen"])


def search_result(run: Run) -> SearchResult:
    """The JSON a finished search reports: best score, best params, history."""
    doc = read_json(run.dir / "best_params.json")
    config = run.config
    return SearchResult(
        {
            "run": run.id,
            "best_score": run.summary.get("best_score"),
            "best_params": doc.get("params"),
            **({"rule": doc["rule"]} if "rule" in doc else {}),
            "history": read_json(run.dir / "history.json"),
        },
        substrate=str(config.get("substrate", "?")),
        mode=str(config.get("mode", "?")),
    )


def read_json(path: Path):
    """A run output; missing or damaged is one line naming the file (the store's one reader)."""
    from primordium.store.reading import read_json_file

    return read_json_file(path)

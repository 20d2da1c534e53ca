"""ASAL experiments, one import away: searches, the Life-like sweep, params files, the quickstart.

Data flow: CLI -> AsalConfig -> runs (lifecycle) -> optimise / illumination
(loops) -> context (evaluator, losses) -> substrates / embed / search. The
jobs live in their own modules; this one gathers the public names.
"""

from __future__ import annotations

from primordium.asal.config import AsalConfig
from primordium.asal.context import Context, build, losses, member_scores
from primordium.asal.life_sweep import (
    SweepConfig,
    resume_sweep,
    run_sweep,
    sweep_ranking,
    sweep_result,
)
from primordium.asal.outputs import params_document, video_frames, write_video
from primordium.asal.params_file import load_params_file
from primordium.asal.runs import resume_search, run_search, search_result
from primordium.store import Run, Store

__all__ = [
    "AsalConfig",
    "Context",
    "SweepConfig",
    "build",
    "load_params_file",
    "losses",
    "member_scores",
    "params_document",
    "quickstart_run",
    "resume_search",
    "resume_sweep",
    "run_search",
    "run_sweep",
    "search_result",
    "sweep_ranking",
    "sweep_result",
    "video_frames",
    "write_video",
]


def quickstart_run(store: Store, seed: int = 0, output=None, gens: int = 6) -> Run:
    """A short offline ASAL demo (< 2 min on 2 cores): open-endedness search over
    Life-like rules with the pixels model, 32x32 grid, into ``store``."""
    cfg = AsalConfig(
        substrate="life_like",
        substrate_options={"grid": 32},
        mode="open-endedness",
        fm="pixels",
        pop=8,
        gens=gens,
        seed=seed,
        steps=128,
        frames=8,
        size=64,
        sigma=0.5,
    )
    return run_search(cfg, store, output)

"""Population rollouts split over worker processes give the same search."""

from __future__ import annotations

from primordium.asal.config import AsalConfig
from primordium.asal.experiment import run_search, search_result
from primordium.exec.local import LocalExecutor
from primordium.store import Store


def _cfg(**kw) -> AsalConfig:
    base = dict(substrate="life_like", substrate_options={"grid": 16}, mode="open-endedness", fm="pixels", pop=6,
                gens=3, seed=3, steps=24, frames=4, size=16, sigma=0.5)
    return AsalConfig(**(base | kw))


def test_worker_processes_give_the_same_search(tmp_path):
    store = Store(tmp_path)
    ref = search_result(run_search(_cfg(), store))
    with LocalExecutor(2) as ex:
        got = search_result(run_search(_cfg(), store, executor=ex))
    assert got["history"] == ref["history"] and got["best_params"] == ref["best_params"]
    # Illumination too (a genetic algorithm over a population of simulations).
    ref = search_result(run_search(_cfg(mode="illuminate", algo="ga"), store))
    with LocalExecutor(2) as ex:
        got = search_result(run_search(_cfg(mode="illuminate", algo="ga"), store, executor=ex))
    assert got["history"] == ref["history"]

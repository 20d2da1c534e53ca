"""Population rollouts split over worker processes give the same search."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.asal.experiment import run_search, search_result
from primordium.exec.local import LocalExecutor
from primordium.store import Store

from .configs import quick_config


def test_worker_processes_give_the_same_search(tmp_path):
    store = Store(tmp_path)
    # One pool for both searches: starting worker processes (each imports JAX)
    # is most of this test's time, and a pool serves any number of searches.
    with LocalExecutor(2) as ex:
        ref = search_result(run_search(quick_config(), store))
        got = search_result(run_search(quick_config(), store, executor=ex))
        # Same frames; the pixels embedding runs inside each compiled rollout and
        # XLA compiles each batch size on its own, so scores may differ in the last bit.
        _same_history(got, ref)
        np.testing.assert_allclose(
            got["best_params"]["rule"], ref["best_params"]["rule"], rtol=1e-5, atol=1e-6
        )
        # Illumination too (a genetic algorithm over a population of simulations).
        ref = search_result(run_search(quick_config(mode="illuminate", algo="ga"), store))
        got = search_result(
            run_search(quick_config(mode="illuminate", algo="ga"), store, executor=ex)
        )
        _same_history(got, ref)


def _same_history(got, ref):
    assert len(got["history"]) == len(ref["history"])
    for a, b in zip(got["history"], ref["history"], strict=False):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-6)

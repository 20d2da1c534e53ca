"""Core War fixtures: running the same battles on both builds of the one MARS kernel."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.corewar.battle import BattleResults


def same_results(a: BattleResults, b: BattleResults) -> bool:
    return all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in BattleResults.__dataclass_fields__
    )


@pytest.fixture
def both_kernels(monkeypatch):
    """``run(fn, *args, **kw)``: fn's BattleResults on the JIT kernel and on the
    ahead-of-time one (``PRIMORDIUM_MARS``), checked equal; returns them."""

    def run(fn, *args, **kw) -> BattleResults:
        got = []
        for kernel in ("jit", "aot"):
            monkeypatch.setenv("PRIMORDIUM_MARS", kernel)
            got.append(fn(*args, **kw))
        monkeypatch.delenv("PRIMORDIUM_MARS")
        assert same_results(*got), "the JIT and ahead-of-time kernels disagree"
        return got[0]

    return run


@pytest.fixture(params=["jit", "aot"])
def kernel(request, monkeypatch) -> str:
    """Run the test once on each build of the MARS kernel."""
    monkeypatch.setenv("PRIMORDIUM_MARS", request.param)
    return request.param

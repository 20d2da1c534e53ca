from __future__ import annotations

import pytest

from primordium.redqueen.config import CoreConfig, DRQConfig

# Small enough that a whole run takes seconds; big enough for real battles.
SMALL_CORE = CoreConfig(core_size=800, cycles=1500, processes=200, length=20, distance=20)


def small_config(**kw) -> DRQConfig:
    # Offline, with the imp and no warm-up: the paper's defaults ask an LLM.
    base = dict(
        seed=0,
        rounds=3,
        iterations=12,
        history=2,
        n_init=4,
        battle_rounds=4,
        batch=2,
        threshold=10.0,
        operator="offline",
        initial_opponents=("imp",),
        warmup_opponents=False,
        warmup_champions=False,
        core=SMALL_CORE,
    )
    base.update(kw)
    return DRQConfig(**base).validate()


SMALL_FLAGS = [
    "--core-size",
    "800",
    "--cycles",
    "1500",
    "--processes",
    "200",
    "--length",
    "20",
    "--distance",
    "20",
    "--battle-rounds",
    "4",
    "--history",
    "2",
    "--n-init",
    "4",
    "--threshold",
    "10",
    "--operator",
    "offline",
    "--opponent",
    "imp",
    "--no-warmup-opponents",
    "--no-warmup-champions",
]


@pytest.fixture
def store(tmp_path):
    from primordium.store import Store

    s = Store(tmp_path / "home")
    yield s
    s.close()


def fingerprint(run):
    """Everything a run decided: candidates, archives, champions (ids and times of day excluded)."""
    from primordium.redqueen.loop import archives, candidates, champions

    cands = [{k: v for k, v in c.items()} for c in candidates(run)]
    arcs = [a.to_json() for a in archives(run)]
    champs = [(r, p.read_text()) for r, p in champions(run)]
    metrics = [{k: v for k, v in m.items()} for m in run.metrics()]
    return cands, arcs, champs, metrics


def one_line_error(code, out, err, *words):
    """Exit 2 with one `error: ` line holding each of ``words``."""
    assert code == 2, (out, err)
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for w in words:
        assert w in lines[0], lines[0]
    assert "Traceback" not in err

"""The state transition itself: a seeded small soup in which replicators take over (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.soup.experiment import Schedule, load_soup, run_soup
from primordium.soup.metrics import census, copy_check
from primordium.soup.soup import SoupConfig
from primordium.store import Store


@pytest.mark.slow
def test_small_bff_soup_reaches_the_transition(store_home):
    # 2^14 programs, seed 0: the transition comes at about epoch 3.5k (found by a seed scan at the
    # mutation rate of the time, 0.00024, kept here; the default is now cubff's 1/4096).
    # numpy's draws: the seed scan was made with them.
    config = SoupConfig(lang="bff_noheads", programs=2**14, seed=0, mutation=0.00024, draws="numpy")
    run, result = run_soup(
        Store(),
        config,
        Schedule(epochs=6000, log_every=64, checkpoint_every=512),
        stop_after_transition=256,
        pictures=False,
    )
    t = result["transition_epoch"]
    assert t is not None and 1000 < t < 6000, result
    rows = run.metrics()
    before = [r for r in rows if 0 < r["epoch"] < t - 512]
    after = [r for r in rows if r["epoch"] > t + 128]
    assert max(r["high_order_entropy"] for r in before) < 1.0
    assert min(r["high_order_entropy"] for r in after) > 1.0
    assert np.mean([r["ops_per_tape"] for r in after]) > 3 * np.median(
        [r["ops_per_tape"] for r in before]
    )
    # The most common program after the transition copies itself.
    _, soup, _ = load_soup(run)
    top = census(soup, config.lang, top=5)["programs"]
    assert any(
        copy_check(np.frombuffer(bytes.fromhex(p["hex"]), np.uint8), config.lang, partner="random")[
            "replicates"
        ]
        for p in top
    )

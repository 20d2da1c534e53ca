"""The epoch: determinism, conservation, mutation, the 2D grid, bad settings."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.errors import ConfigError
from primordium.soup.soup import SoupConfig, epoch, grid_pairs, initial_soup, mutate


def run_epochs(config, n):
    soup = initial_soup(config)
    total = 0
    for e in range(n):
        soup, ops, _ = epoch(soup, config, e)
        total += ops
    return soup, total


@pytest.mark.parametrize("lang", ["bff_noheads", "forth", "subleq"])
def test_same_seed_same_soup(lang):
    c = SoupConfig(lang=lang, programs=256, seed=11, mutation=0.01)
    a, oa = run_epochs(c, 20)
    b, ob = run_epochs(c, 20)
    assert np.array_equal(a, b) and oa == ob
    other, _ = run_epochs(SoupConfig(lang=lang, programs=256, seed=12, mutation=0.01), 20)
    assert not np.array_equal(a, other)


def test_epoch_is_pure():
    c = SoupConfig(programs=128, seed=1)
    soup = initial_soup(c)
    before = soup.copy()
    epoch(soup, c, 0)
    assert np.array_equal(soup, before)
    g = SoupConfig(programs=64, grid=(8, 8), seed=1)
    s2 = initial_soup(g)
    b2 = s2.copy()
    epoch(s2, g, 0)
    assert np.array_equal(s2, b2)


@pytest.mark.parametrize("draws", ["cubff", "numpy"])
def test_pairs_are_concatenated_and_split_back(draws):
    # With no mutation and programs made only of no-ops, an epoch only moves whole programs.
    c = SoupConfig(programs=64, mutation=0.0, seed=3, draws=draws)
    soup = np.repeat(
        np.arange(64, dtype=np.uint8)[:, None] + 128, 64, axis=1
    )  # 128..191: BFF no-ops
    out, ops, tapes = epoch(soup, c, 0)
    assert ops == 0 and tapes == 32
    if draws == "cubff":
        # As cubff, each program goes back to its own slot.
        assert np.array_equal(out, soup)
    else:
        # numpy's draws store the soup in the paired order.
        assert sorted(map(bytes, out)) == sorted(map(bytes, soup))
        assert not np.array_equal(out, soup)


def test_mutation_rate():
    rng = np.random.default_rng(0)
    flat = np.zeros(1_000_000, dtype=np.uint8)
    k = mutate(flat, 0.01, rng)
    assert 9_500 < k < 10_500
    # Each chosen byte becomes uniform: about 1/256 of them stay zero.
    assert abs(np.count_nonzero(flat) - k * 255 / 256) < 5 * np.sqrt(k)
    assert mutate(flat, 0.0, rng) == 0


def test_mutation_applies_before_the_run():
    # A tape of zeros runs nothing; with mutation 1 every byte is replaced, and the soup changes.
    c = SoupConfig(programs=8, mutation=1.0, seed=0)
    out, _, _ = epoch(np.zeros((8, 64), np.uint8), c, 0)
    assert np.count_nonzero(out) > 8 * 64 * 0.9


def test_grid_pairs_are_neighbours():
    rng = np.random.default_rng(4)
    w, h, r = 16, 12, 2
    a, b = grid_pairs(w, h, r, rng.permutation(w * h), rng.random(w * h))
    both = np.concatenate([a, b])
    assert len(np.unique(both)) == len(both)  # nobody twice
    assert len(a) > w * h // 4  # most programs find a partner
    assert np.all(np.abs(a % w - b % w) <= r) and np.all(np.abs(a // w - b // w) <= r)
    assert np.all(a != b)


def test_grid_soup_runs_and_is_deterministic():
    c = SoupConfig(programs=16 * 16, grid=(16, 16), radius=1, seed=2, mutation=0.001)
    a, oa = run_epochs(c, 10)
    b, ob = run_epochs(c, 10)
    assert np.array_equal(a, b) and oa == ob and oa > 0


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"programs": 7}, "even"),
        ({"programs": 0}, "even"),
        ({"lang": "cobol"}, "unknown language"),
        ({"programs": 100, "grid": (10, 11)}, "has 110 cells"),
        ({"programs": 16, "grid": (4, 4), "radius": 0}, "radius"),
        ({"mutation": 1.5}, "probability"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_settings(kw, msg):
    with pytest.raises(ConfigError, match=msg):
        SoupConfig(**kw)

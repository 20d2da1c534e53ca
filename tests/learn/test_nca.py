"""The NCA trajectory generator: the network it says it runs, from a seed, tokenised and
filtered by a complexity measured here independently."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from primordium.errors import ConfigError
from primordium.learn import nca
from primordium.learn.nca import NCAConfig


def _slow_step(config: NCAConfig, grid, w1, b1, w2, b2, noise):
    """One update, cell by cell, written from the module's description."""
    n, s = config.size, config.states
    out = np.empty_like(grid)
    for i in range(n):
        for j in range(n):
            x = np.zeros((3, 3, s), np.float32)
            for a, dy in enumerate((-1, 0, 1)):
                for b, dx in enumerate((-1, 0, 1)):
                    x[a, b, grid[(i + dy) % n, (j + dx) % n]] = 1.0
            hidden = np.maximum(x.reshape(-1) @ w1.reshape(9 * s, -1) + b1, 0.0)
            logits = hidden @ w2 + b2
            if noise is not None:
                logits = logits / config.temperature + noise[i, j]
            out[i, j] = int(np.argmax(logits))
    return out


@pytest.mark.parametrize("sampling", ["sample", "argmax"])
def test_trajectories_run_the_described_network_on_a_torus(sampling):
    config = NCAConfig(states=3, size=5, patch=1, hidden=4, frames=3, sampling=sampling)
    for index in (0, 7):
        w1, b1, w2, b2, grid, noise = nca._rule_draws(config, 11, nca.TRAIN_RULES, index)
        states = nca.trajectories(config, 11, [index])[0]
        assert np.array_equal(states[0], grid)
        for t in range(1, config.frames):
            step_noise = None if noise is None else noise[t - 1]
            expect = _slow_step(config, states[t - 1], w1, b1, w2, b2, step_noise)
            assert np.array_equal(states[t], expect), (index, t)


def test_same_seed_same_tokens_and_a_rule_does_not_depend_on_its_batch():
    config = NCAConfig(states=4, size=8, frames=4)
    a = nca.trajectories(config, 3, range(6))
    assert np.array_equal(a, nca.trajectories(config, 3, range(6)))
    assert np.array_equal(a[[4, 1]], nca.trajectories(config, 3, [4, 1]))
    assert not np.array_equal(a, nca.trajectories(config, 4, range(6)))
    assert not np.array_equal(a, nca.trajectories(config, 3, range(6), nca.VALID_RULES))
    k1 = nca.keep_rules(config, 3, 5)
    k2 = nca.keep_rules(config, 3, 5, chunk=2)
    assert np.array_equal(k1.tokens, k2.tokens) and np.array_equal(k1.indices, k2.indices)


def test_tokens_are_patches_in_base_states_and_round_trip():
    config = NCAConfig(states=3, size=4, patch=2, frames=2)
    states = np.zeros((1, 2, 4, 4), np.uint8)
    states[0, 0, 0:2, 2:4] = [[1, 2], [0, 1]]  # the first frame's second patch
    tokens = nca.tokenize(config, states)
    assert config.vocab == 3**4 + 2 and tokens.shape == (1, 2 * config.frame_tokens)
    frame = tokens[0, : config.frame_tokens]
    assert frame[0] == config.grid_start and frame[-1] == config.grid_end
    # Cells row by row within the patch, the first the lowest digit.
    assert frame[1:].tolist()[:2] == [0, 1 * 1 + 2 * 3 + 0 * 9 + 1 * 27]
    rng = np.random.default_rng(0)
    for config in (NCAConfig(states=10, size=12), NCAConfig(states=4, size=6, patch=3)):
        many = rng.integers(0, config.states, (3, 5, config.size, config.size), dtype=np.uint8)
        assert np.array_equal(nca.detokenize(config, nca.tokenize(config, many)), many)


def _ratio(states: np.ndarray) -> float:
    # Independently of the module: gzip's deflate stream, less its 18 bytes of header
    # and trailer, is the zlib stream less its 6.
    body = len(gzip.compress(states.tobytes(), compresslevel=9, mtime=0)) - 18
    return (body + 6) / states.size


def test_the_band_keeps_exactly_the_first_rules_inside_it():
    config = NCAConfig(states=4, size=8, frames=6, band_low=0.25, band_high=0.33)
    kept = nca.keep_rules(config, 0, 12)
    states = nca.trajectories(config, 0, range(kept.scanned))
    ratios = np.array([_ratio(s) for s in states])
    assert np.allclose(ratios, kept.scanned_complexity)
    inside = np.flatnonzero((ratios >= 0.25) & (ratios <= 0.33))
    assert kept.indices.tolist() == inside[:12].tolist()
    assert np.allclose(kept.complexity, ratios[kept.indices])
    assert np.array_equal(kept.tokens, nca.tokenize(config, states[kept.indices]))
    # The band bites: both sides of it hold rules it left out.
    assert (ratios < 0.25).any() and (ratios > 0.33).any()


def test_complexity_orders_simple_below_random():
    still = np.zeros((1, 8, 8, 8), np.uint8)
    noisy = np.random.default_rng(0).integers(0, 10, (1, 8, 8, 8), dtype=np.uint8)
    assert nca.complexity(still)[0] < 0.1 < 0.4 < nca.complexity(noisy)[0]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"band_low": 0.5, "band_high": 0.4}, "band_low"),
        ({"size": 7, "patch": 2}, "size"),
        ({"states": 1}, "states"),
        ({"sampling": "top-k"}, "sampling"),
        ({"temperature": 0.0}, "temperature"),
        ({"states": 40, "patch": 3}, "states"),
    ],
)
def test_bad_configs_name_their_field(fields, field):
    with pytest.raises(ConfigError) as e:
        NCAConfig(**fields)
    assert field in e.value.fields


def test_a_band_that_keeps_no_rule_or_too_few_is_an_error():
    with pytest.raises(ConfigError, match="keeps no rule"):
        nca.keep_rules(NCAConfig(states=4, size=8, frames=4, band_high=0.01), 0, 2, max_scan=64)
    config = NCAConfig(states=4, size=8, frames=4)
    ratios = nca.complexity(nca.trajectories(config, 0, range(64)))
    tenth = np.sort(ratios)[10]
    kept = int((ratios <= tenth).sum())
    with pytest.raises(ConfigError, match=f"keeps {kept} of 64 rules tried, fewer than the 60"):
        nca.keep_rules(NCAConfig(states=4, size=8, frames=4, band_high=tenth), 0, 60, max_scan=64)

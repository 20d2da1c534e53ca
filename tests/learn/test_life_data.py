"""LifeGPT's numpy Life against the ASAL substrate's JAX step, and the token layout."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.errors import ConfigError
from primordium.learn import life
from primordium.learn.lifegpt import LifeConfig, LifeStream


@pytest.mark.parametrize("rule", ["B3/S23", "B36/S23", "B2/S", "B1357/S02468", "B/S012345678"])
def test_numpy_step_equals_the_jax_life_step(rule):
    import jax.numpy as jnp

    from primordium.asal.substrates.life import life_step, parse_rule

    number = parse_rule(rule)
    rng = np.random.default_rng(7)
    # Square and oblong tori, sparse to dense, several updates in a row.
    for h, w in ((3, 3), (5, 8), (16, 16)):
        grids = (rng.random((6, h, w)) < rng.random((6, 1, 1))).astype(np.uint8)
        mine, theirs = grids, grids
        for _ in range(4):
            mine = life.step(mine, number)
            theirs = np.stack(
                [np.asarray(life_step(jnp.int32(number), jnp.asarray(g))) for g in theirs]
            )
            assert np.array_equal(mine, theirs.astype(np.uint8)), (rule, h, w)


def test_glider_moves_one_cell_diagonally_in_four_steps():
    g = np.zeros((1, 8, 8), np.uint8)
    g[0, 0, 1] = g[0, 1, 2] = g[0, 2, 0] = g[0, 2, 1] = g[0, 2, 2] = 1
    after = g
    for _ in range(4):
        after = life.step(after, life.rule_number("B3/S23"))
    assert np.array_equal(after, np.roll(g, (1, 1), axis=(1, 2)))


def test_tokens_are_start_cells_sep_cells_and_only_the_answer_counts():
    cfg = LifeConfig(size=4)
    tokens, mask = LifeStream(cfg, seed=3).batch(0, 5)
    assert tokens.shape == (5, 2 * 16 + 2) and mask.shape == (5, 2 * 16 + 1)
    assert (tokens[:, 0] == life.START).all() and (tokens[:, 17] == life.SEP).all()
    before, after = tokens[:, 1:17].reshape(5, 4, 4), tokens[:, 18:].reshape(5, 4, 4)
    assert np.array_equal(after, life.step(before, 6152))
    # Targets t+1 counted: exactly the 16 answer cells.
    assert not mask[:, :17].any() and mask[:, 17:].all()


def test_batches_depend_on_seed_and_step_only():
    s = LifeStream(LifeConfig(size=6), seed=1)
    a, b = s.batch(4, 8)[0], LifeStream(LifeConfig(size=6), seed=1).batch(4, 8)[0]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, s.batch(5, 8)[0])
    assert not np.array_equal(a, LifeStream(LifeConfig(size=6), seed=2).batch(4, 8)[0])


def test_training_densities_skip_the_held_out_band():
    cfg = LifeConfig(holdout_low=0.3, holdout_high=0.6)
    d = cfg.train_densities(np.random.default_rng(0), 20000)
    assert d.min() >= 0 and d.max() <= 1
    assert not ((d >= 0.3) & (d < 0.6)).any()
    assert ((d < 0.3).mean() - 3 / 7) ** 2 < 1e-3  # uniform over what is left
    assert cfg.seen(0.2) and not cfg.seen(0.45)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rule": "B9/S23"}, "rule"),
        ({"rule": "Conway"}, "rule"),
        ({"size": -4}, "size"),
        ({"density_low": 0.8, "density_high": 0.2}, "density_low"),
        ({"holdout_low": 0.0, "holdout_high": 1.0}, "holdout_low"),
    ],
)
def test_bad_settings_name_their_field(kwargs, field):
    with pytest.raises(ConfigError) as e:
        LifeConfig(**kwargs)
    assert field in e.value.fields

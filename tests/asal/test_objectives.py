"""ASAL objectives against hand computations."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from primordium.asal import objectives as obj


def unit(*v):
    a = np.asarray(v, np.float32)
    return a / np.linalg.norm(a)


E1, E2, E3 = unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)
D = unit(1, 1, 0)  # <D, E1> = <D, E2> = 1/sqrt(2)


def test_target_single_prompt_is_mean_similarity():
    frames = np.stack([E1, D, E2, E3])
    got = float(obj.target_score(jnp.asarray(frames), jnp.asarray(E1[None])))
    assert got == pytest.approx(-(1 + 2**-0.5 + 0 + 0) / 4)


def test_target_prompts_are_tiled_or_in_blocks():
    # The paper's code tiles the prompt list: frames 0,1,2,3 -> prompts 0,1,0,1.
    assert list(np.asarray(obj.prompt_index(4, 2))) == [0, 1, 0, 1]
    assert list(np.asarray(obj.prompt_index(4, 2, "blocks"))) == [0, 0, 1, 1]
    assert list(np.asarray(obj.prompt_index(3, 3))) == [0, 1, 2]
    with pytest.raises(ValueError, match="multiple"):
        obj.prompt_index(3, 2)
    frames = np.stack([E1, E2, E1, D])
    prompts = jnp.asarray(np.stack([E1, E2]))
    assert float(obj.target_score(jnp.asarray(frames), prompts)) == pytest.approx(
        -(1 + 1 + 1 + 2**-0.5) / 4
    )
    assert float(obj.target_score(jnp.asarray(frames), prompts, "blocks")) == pytest.approx(
        -(1 + 0 + 0 + 2**-0.5) / 4
    )
    batch = jnp.asarray(np.stack([frames, frames[::-1]]))
    assert obj.target_score(batch, prompts).shape == (2,)


def test_target_softmax_is_a_two_way_cross_entropy_over_frames():
    frames = np.stack([E1, E2])
    prompts = np.stack([E1, E2])
    t = 1 / 3.0
    # Kernel [[1, 0], [0, 1]] / t: each row and each column picks its diagonal
    # with probability 1 / (1 + e^-3).
    expected = np.log1p(np.exp(-3.0))
    got = float(obj.target_softmax_score(jnp.asarray(frames), jnp.asarray(prompts), temperature=t))
    assert got == pytest.approx(expected, rel=1e-4)
    bad = float(
        obj.target_softmax_score(jnp.asarray(frames[::-1]), jnp.asarray(prompts), temperature=t)
    )
    assert bad == pytest.approx(np.log1p(np.exp(3.0)), rel=1e-4)
    batch = jnp.asarray(np.stack([frames, frames[::-1]]))
    np.testing.assert_allclose(
        obj.target_softmax_score(batch, jnp.asarray(prompts), temperature=t), [got, bad], rtol=1e-5
    )


def test_open_endedness_by_hand():
    # Rows: t=0 -> 0 (nothing earlier); t=1: max(<E2,E1>=0, 0) = 0; t=2: 1; t=3: 1/sqrt 2.
    frames = np.stack([E1, E2, E1, D])
    got = float(obj.open_endedness_score(jnp.asarray(frames)))
    assert got == pytest.approx((0 + 0 + 1 + 2**-0.5) / 4)
    # A frozen world of T frames scores (T-1)/T; fresh directions score 0;
    # negative similarities count as 0 (the zeroed upper triangle joins the max).
    assert float(obj.open_endedness_score(jnp.asarray(np.stack([E1] * 5)))) == pytest.approx(0.8)
    assert float(obj.open_endedness_score(jnp.asarray(np.stack([E1, E2, E3])))) == pytest.approx(
        0.0
    )
    assert float(obj.open_endedness_score(jnp.asarray(np.stack([E1, -E1])))) == pytest.approx(0.0)


def test_combined_loss_weights_the_terms():
    frames = jnp.asarray(np.stack([E1, E2, E1, D]))
    prompts = jnp.asarray(np.stack([E1, E2]))
    d = obj.asal_loss(frames, prompts, coef_prompt=2.0, coef_softmax=0.5, coef_oe=3.0)
    want = 2.0 * d["loss_prompt"] + 0.5 * d["loss_softmax"] + 3.0 * d["loss_oe"]
    assert float(d["loss"]) == pytest.approx(float(want))
    assert float(d["loss_oe"]) == pytest.approx(float(obj.open_endedness_score(frames)))
    alone = obj.asal_loss(frames, None, coef_prompt=0.0, coef_oe=1.0)
    assert float(alone["loss"]) == pytest.approx(float(d["loss_oe"]))


def test_illumination_by_hand():
    z = np.stack([E1, D, E3])
    # nearest: E1 -> D (0.707), D -> E1 or (0.707), E3 -> 0.
    got = float(obj.illumination_score(jnp.asarray(z)))
    assert got == pytest.approx((2**-0.5 + 2**-0.5 + 0) / 3)
    assert float(obj.illumination_score(jnp.asarray(np.stack([E1, E1])))) == pytest.approx(1.0)

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


def test_target_prompts_are_spread_over_time():
    # 4 frames, 2 prompts: frames 0,1 -> prompt 0, frames 2,3 -> prompt 1.
    assert list(np.asarray(obj.prompt_index(4, 2))) == [0, 0, 1, 1]
    assert list(np.asarray(obj.prompt_index(3, 3))) == [0, 1, 2]
    frames = np.stack([E1, E1, E2, D])
    got = float(obj.target_score(jnp.asarray(frames), jnp.asarray(np.stack([E1, E2]))))
    assert got == pytest.approx(-(1 + 1 + 1 + 2**-0.5) / 4)
    batch = jnp.asarray(np.stack([frames, frames[::-1]]))
    assert obj.target_score(batch, jnp.asarray(np.stack([E1, E2]))).shape == (2,)


def test_target_softmax_is_cross_entropy_over_prompts():
    frames = np.stack([E1, E2])
    prompts = np.stack([E1, E2])
    s = 3.0
    # Frame 0 vs prompts: logits (3, 0) -> -log softmax[0] = log(1 + e^-3).
    expected = np.log1p(np.exp(-s))
    got = float(obj.target_softmax_score(jnp.asarray(frames), jnp.asarray(prompts), scale=s))
    assert got == pytest.approx(expected, rel=1e-4)
    # Swapped frames are recognised as the wrong prompts: large loss.
    bad = float(obj.target_softmax_score(jnp.asarray(frames[::-1]), jnp.asarray(prompts), scale=s))
    assert bad == pytest.approx(np.log1p(np.exp(s)), rel=1e-4)
    batch = jnp.asarray(np.stack([frames, frames[::-1]]))
    np.testing.assert_allclose(obj.target_softmax_score(batch, jnp.asarray(prompts), scale=s), [got, bad], rtol=1e-5)


def test_open_endedness_by_hand():
    # t=1: max<E2,{E1}> = 0; t=2: max<E1,{E1,E2}> = 1; t=3: max<D,{E1,E2,E1}> = 1/sqrt 2.
    frames = np.stack([E1, E2, E1, D])
    got = float(obj.open_endedness_score(jnp.asarray(frames)))
    assert got == pytest.approx((0 + 1 + 2**-0.5) / 3)
    # A frozen world scores 1 (nothing new ever), a world of fresh directions 0.
    assert float(obj.open_endedness_score(jnp.asarray(np.stack([E1] * 5)))) == pytest.approx(1.0)
    assert float(obj.open_endedness_score(jnp.asarray(np.stack([E1, E2, E3])))) == pytest.approx(0.0)


def test_illumination_by_hand():
    z = np.stack([E1, D, E3])
    # nearest: E1 -> D (0.707), D -> E1 or (0.707), E3 -> 0.
    got = float(obj.illumination_score(jnp.asarray(z)))
    assert got == pytest.approx((2**-0.5 + 2**-0.5 + 0) / 3)
    assert float(obj.illumination_score(jnp.asarray(np.stack([E1, E1])))) == pytest.approx(1.0)

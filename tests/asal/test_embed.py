"""Foundation models: pixels, and CLIP/SigLIP through transformers (tiny random weights)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from primordium.asal.embed import get_model
from primordium.errors import ConfigError

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (4, 48, 48, 3), dtype=np.uint8)


def test_pixels_unit_norm_and_meaningful():
    fm = get_model("thumbnail")
    z = fm.embed_images(IMAGES)
    assert z.shape == (4, 16 * 16 * 3 + 1) and z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)
    black = np.zeros((2, 64, 64, 3), np.uint8)
    zb = fm.embed_images(black)
    assert float(zb[0] @ zb[1]) == pytest.approx(1.0)
    white = np.full((1, 64, 64, 3), 255, np.uint8)
    assert float(zb[0] @ fm.embed_images(white)[0]) == pytest.approx(0.0, abs=1e-6)
    # Two frames of fine random static look alike (not brand new each time).
    static = RNG.integers(0, 2, (2, 64, 64, 1), dtype=np.uint8).repeat(3, -1) * 255
    zs = fm.embed_images(static)
    assert float(zs[0] @ zs[1]) > 0.9
    # Small images are upsampled rather than refused.
    assert fm.embed_images(np.zeros((1, 8, 8, 3), np.uint8)).shape == (1, 769)
    # A coarser thumbnail: pixels:<side>; a fine checkerboard averages to grey.
    coarse = get_model("thumbnail:4")
    checker = (np.indices((64, 64)).sum(0) % 2 * 200).astype(np.uint8)
    grey = np.full((64, 64, 3), 100, np.uint8)
    z = coarse.embed_images(np.stack([np.stack([checker] * 3, -1), grey]))
    assert z.shape == (2, 49) and float(z[0] @ z[1]) > 0.99
    with pytest.raises(ConfigError, match="thumbnail:"):
        get_model("thumbnail:big")


def test_pixels_cannot_embed_text():
    with pytest.raises(ConfigError, match="target_image"):
        get_model("thumbnail").embed_texts(["a caterpillar"])


def test_unknown_model_is_a_user_error():
    with pytest.raises(ConfigError, match="unknown foundation model"):
        get_model("nope")


def test_clip_real_code_path_with_random_weights(tiny_clip_dir):
    fm = get_model("clip", weights=str(tiny_clip_dir))
    z = fm.embed_images(IMAGES)
    assert z.shape == (4, 16)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(fm.embed_images(IMAGES), z)  # deterministic
    t = fm.embed_texts(["a caterpillar", "a cell dividing"])
    assert t.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(t[0], t[1])
    # Batching must not change results.
    fm.batch_size = 3
    np.testing.assert_allclose(fm.embed_images(IMAGES), z, atol=1e-5)


def test_clip_matches_the_model_run_by_hand(tiny_clip_dir):
    import torch
    from transformers import AutoModel

    fm = get_model("clip", weights=str(tiny_clip_dir))
    model = AutoModel.from_pretrained(str(tiny_clip_dir)).eval()
    pix = torch.from_numpy(fm.pixel_values(IMAGES.astype(np.float32) / 255.0))
    with torch.no_grad():
        out = model.get_image_features(pixel_values=pix)
    ref = (out if isinstance(out, torch.Tensor) else out.pooler_output).numpy()
    ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(fm.embed_images(IMAGES), ref, atol=1e-5)


def test_siglip_too(tmp_path):
    from .tiny_models import tiny_clip

    tiny_clip(tmp_path, siglip=True)
    fm = get_model("clip", weights=str(tmp_path))
    assert fm.is_siglip
    z = fm.embed_images(IMAGES[:2])
    t = fm.embed_texts(["a b", "c"])
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)
    assert t.shape == (2, z.shape[1])


def test_missing_weights_fail_fast_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    t = time.time()
    with pytest.raises(ConfigError) as e:
        get_model("clip:openai/clip-vit-base-patch32-not-cached")
    assert time.time() - t < 20
    msg = str(e.value)
    assert "\n" not in msg and "clip-vit-base-patch32-not-cached" in msg
    with pytest.raises(ConfigError, match="no such model folder"):
        get_model("clip", weights=str(tmp_path / "nowhere") + "/")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="config.json"):
        get_model("clip", weights=str(tmp_path / "empty"))

"""CLIP and DINOv2 preprocessing against the paper's code (../shared/reference/asal/foundation_models).

The paper's modules run transformers' Flax models, which transformers 5 no
longer ships. The reference modules are imported as they are, with the Flax
class names bound to a small adapter around the PyTorch model of the same
architecture (tiny, random weights, built offline). The reference's own
``embed_img`` / ``embed_txt`` then do their preprocessing (resize, mean/std,
layout, tokenising, normalising) and our models must give the same
embeddings. What this does not check: that the Flax and PyTorch
implementations of CLIP/DINOv2 compute the same features for the same
weights (transformers' own equivalence tests cover that).
"""

from __future__ import annotations

import importlib.util
import sys
import types

# The clip and asal extras: `make test` installs them, and a missing one fails.
import jax  # noqa: E402
import numpy as np
import pytest
import torch  # noqa: E402
import transformers  # noqa: E402

from .reference import REF  # noqa: E402

FM = REF / "foundation_models"
if not FM.is_dir():
    pytest.skip("../shared/reference/asal is absent", allow_module_level=True)

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


class _TorchAsFlax:
    """Calls the PyTorch model with the arrays the reference hands its Flax model."""

    def __init__(self, model):
        self.model = model.eval()

    @staticmethod
    def _t(a):
        return torch.from_numpy(np.array(a))

    def get_image_features(self, img):
        with torch.inference_mode():
            out = self.model.get_image_features(pixel_values=self._t(img).float())
        out = out if hasattr(out, "detach") else out.pooler_output
        return jax.numpy.asarray(out.numpy())

    def get_text_features(self, input_ids, attention_mask):
        with torch.inference_mode():
            out = self.model.get_text_features(
                input_ids=self._t(input_ids).long(), attention_mask=self._t(attention_mask).long()
            )
        out = out if hasattr(out, "detach") else out.pooler_output
        return jax.numpy.asarray(out.numpy())

    def __call__(self, pixel_values):
        with torch.inference_mode():
            o = self.model(pixel_values=self._t(pixel_values).float())
        return type(
            "Out",
            (),
            {
                "pooler_output": jax.numpy.asarray(o.pooler_output.numpy()),
                "last_hidden_state": jax.numpy.asarray(o.last_hidden_state.numpy()),
            },
        )


def _reference_module(name: str, flax_name: str):
    # For the duration of its import only, the module sees a ``transformers``
    # holding the real Auto* loaders and the adapter under the Flax name.
    shim = types.ModuleType("transformers")
    shim.AutoProcessor, shim.AutoImageProcessor = (
        transformers.AutoProcessor,
        transformers.AutoImageProcessor,
    )
    setattr(shim, flax_name, _TorchAsFlax)
    real = sys.modules["transformers"]
    sys.modules["transformers"] = shim
    try:
        spec = importlib.util.spec_from_file_location(f"ref_fm_{name}", FM / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.modules["transformers"] = real
    return mod


def _frames(n: int, side: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, side, side, 3), dtype=np.float32)


@pytest.fixture(scope="module")
def clip224_dir(tmp_path_factory):
    # The reference resizes to 224 whatever the model, so the tiny CLIP takes 224 (7 x 7 patches of 32).
    from .tiny_models import tiny_clip

    folder = tmp_path_factory.mktemp("tiny_clip224")
    tiny_clip(folder, image_size=224, patch=32)
    return folder


def test_clip_float_frames_match_the_reference_preprocessing(clip224_dir):
    from primordium.asal.embed import get_model

    tiny_clip_dir = clip224_dir
    ours = get_model("clip", weights=str(tiny_clip_dir))
    side = ours.model.config.vision_config.image_size
    mod = _reference_module("clip", "FlaxCLIPModel")
    ref = object.__new__(mod.CLIP)  # its __init__ downloads openai/...; set what it would set
    ref.processor = transformers.AutoProcessor.from_pretrained(str(tiny_clip_dir))
    ref.clip_model = _TorchAsFlax(ours.model)
    ref.img_mean = jax.numpy.array(ref.processor.image_processor.image_mean)
    ref.img_std = jax.numpy.array(ref.processor.image_processor.image_std)
    # The reference resizes anything that is not 224 to 224; with a 224-input
    # model, frames of 224 (no resize), 64 and 256 (bilinear up and down).
    assert side == 224
    for n_side in (224, 64, 256):
        frames = _frames(3, n_side, seed=n_side)
        want = np.stack([np.asarray(ref.embed_img(jax.numpy.asarray(f))) for f in frames])
        np.testing.assert_allclose(ours.embed_images(frames), want, rtol=1e-4, atol=1e-5)
    # The reference's text path asks the processor for JAX tensors, which
    # transformers 5 refuses; its steps (processor with padding=True, text
    # features, unit norm) are taken here with NumPy tensors instead.
    texts = ["a glider", "two gliders in a tiny world"]
    with pytest.raises(ValueError, match="jax"):
        ref.embed_txt(texts)
    tok = ref.processor(text=texts, return_tensors="np", padding=True)
    z = np.asarray(ref.clip_model.get_text_features(tok["input_ids"], tok["attention_mask"]))
    np.testing.assert_allclose(
        ours.embed_texts(texts), z / np.linalg.norm(z, axis=-1, keepdims=True), rtol=1e-4, atol=1e-5
    )


@pytest.fixture(scope="module")
def tiny_dino_dir(tmp_path_factory):
    from transformers import BitImageProcessorPil, Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_dino")
    model = Dinov2Model(
        Dinov2Config(
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
            patch_size=8,
            image_size=32,
        )
    ).eval()
    model.save_pretrained(folder)
    # facebook/dinov2-base ships a BitImageProcessor with ImageNet statistics.
    BitImageProcessorPil(image_mean=list(IMAGENET[0]), image_std=list(IMAGENET[1])).save_pretrained(
        folder
    )
    return folder


@pytest.mark.parametrize("features", ["pooler", "avg_pool"])
def test_dino_matches_transformers_and_the_reference(tiny_dino_dir, features):
    from primordium.asal.embed.dino import DinoModel

    ours = DinoModel.load(str(tiny_dino_dir), features=features)
    np.testing.assert_allclose(ours.mean, IMAGENET[0], rtol=1e-6)
    frames = _frames(4, 32, seed=1)
    got = ours.embed_images(frames)
    # transformers' own pooled output on the same preprocessed input.
    pix = torch.from_numpy(ours.pixel_values(frames))
    with torch.inference_mode():
        o = ours.model(pixel_values=pix)
    raw = (o.pooler_output if features == "pooler" else o.last_hidden_state.mean(dim=1)).numpy()
    np.testing.assert_allclose(
        got, raw / np.linalg.norm(raw, axis=-1, keepdims=True), rtol=1e-5, atol=1e-6
    )
    # The reference's embed_img: its own normalisation and layout in front of the same network.
    mod = _reference_module("dino", "FlaxDinov2Model")
    ref = object.__new__(mod.DINO)
    ref.processor = transformers.AutoImageProcessor.from_pretrained(str(tiny_dino_dir))
    ref.dino_model, ref.features = _TorchAsFlax(ours.model), features
    ref.img_mean, ref.img_std = (
        jax.numpy.array(ref.processor.image_mean),
        jax.numpy.array(ref.processor.image_std),
    )
    want = np.stack([np.asarray(ref.embed_img(jax.numpy.asarray(f))) for f in frames])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)

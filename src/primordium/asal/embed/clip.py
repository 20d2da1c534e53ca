"""CLIP and SigLIP through Hugging Face ``transformers`` on PyTorch (CPU).

Images are prepared as the paper's code prepares them (it ran the Flax CLIP,
which transformers 5 no longer has): a float frame in [0, 1] is resized with
``jax.image.resize`` (bilinear) to the model's input side when it differs,
normalised with the processor's mean and standard deviation, and fed to the
vision tower as is: no rescaling by 255, no shortest-edge resize, no centre
crop. Features are scaled to unit norm.

Any checkpoint that ``AutoModel`` loads as a CLIP-like dual encoder works
(it needs ``get_image_features`` and ``get_text_features``). Weights come
from a local folder (``--fm-weights PATH``), the Hugging Face cache, or the
hub on first use. Without network access, loading fails fast with one line
instead of hanging on retries.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from primordium.asal.embed.base import as_float_images, normalise
from primordium.errors import ConfigError

DEFAULT_CHECKPOINT = "openai/clip-vit-base-patch32"
# ImageNet statistics: the DINO processor default (and the paper's pixels model).
IMAGE_MEAN_STD_DEFAULT = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))

# Read by huggingface_hub at import: keep a dead network from stalling a run.
os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def torch_imports():
    try:
        import torch
        import transformers
    except ImportError:
        raise ConfigError(
            "the clip model needs the 'clip' extra (pip install 'primordium[clip]')"
        ) from None
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return torch, transformers


class HFModel:
    """A loaded dual encoder with its image processor and tokenizer."""

    name = "clip"

    def __init__(
        self,
        model,
        image_processor,
        tokenizer,
        checkpoint: str = "(in memory)",
        batch_size: int = 32,
    ):
        torch, _ = torch_imports()
        self.torch = torch
        self.model = model.eval()
        self.image_processor = image_processor
        self.tokenizer = tokenizer
        self.checkpoint = checkpoint
        self.batch_size = batch_size
        # SigLIP was trained on texts padded to a fixed length; CLIP on the longest.
        self.is_siglip = "siglip" in type(model).__name__.lower()

    @classmethod
    def load(cls, name_or_path: str | None = None, **kwargs) -> HFModel:
        torch, transformers = torch_imports()
        source = name_or_path or DEFAULT_CHECKPOINT
        local = Path(source).expanduser()
        if local.exists():
            if not local.is_dir() or not (local / "config.json").is_file():
                raise ConfigError("not a Hugging Face model folder (no config.json)", file=local)
            where, offline = str(local), True
        else:
            if source.startswith((".", "/", "~")):
                raise ConfigError("no such model folder", file=source)
            where, offline = source, False
        try:
            model = transformers.AutoModel.from_pretrained(where, local_files_only=True)
        except (OSError, ValueError) as first:
            if offline or os.environ.get("HF_HUB_OFFLINE") == "1":
                raise ConfigError(f"cannot load model {source!r} ({short_error(first)})") from None
            probe_hub(source)
            try:
                model = transformers.AutoModel.from_pretrained(where)
            except Exception as e:  # network errors come in many types
                raise ConfigError(
                    f"model weights {source!r} are not in the local cache and could not be downloaded "
                    f"({short_error(e)}); give a local copy in fm_weights or use fm pixels",
                    field=("fm_weights", "fm"),
                ) from None
        if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
            raise ConfigError(
                f"{source!r} is a {type(model).__name__}, not a CLIP-like image-text model"
            )
        processor = optional(
            lambda: transformers.AutoImageProcessor.from_pretrained(where, local_files_only=True)
        )
        if processor is None:
            processor = default_image_processor(model)
        tokenizer = optional(
            lambda: transformers.AutoTokenizer.from_pretrained(where, local_files_only=True)
        )
        return cls(model, processor, tokenizer, checkpoint=source, **kwargs)

    def embed_images(self, images: np.ndarray) -> np.ndarray:
        a = as_float_images(images)
        out = []
        with self.torch.inference_mode():
            for i in range(0, len(a), self.batch_size):
                pix = self.torch.from_numpy(self.pixel_values(a[i : i + self.batch_size]))
                out.append(_features(self.model.get_image_features(pixel_values=pix)))
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return normalise(np.concatenate(out))

    def pixel_values(self, images: np.ndarray) -> np.ndarray:
        """float[N, H, W, 3] in [0, 1] -> float32[N, 3, S, S], the paper's preprocessing."""
        return reference_pixel_values(
            images,
            int(self.model.config.vision_config.image_size),
            self.image_processor.image_mean,
            self.image_processor.image_std,
        )

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if self.tokenizer is None:
            raise ConfigError(
                f"model {self.checkpoint!r} has no tokenizer files, so it cannot embed text prompts"
            )
        padding = "max_length" if self.is_siglip else True
        tok = self.tokenizer(
            list(texts),
            padding=padding,
            truncation=True,
            return_tensors="pt",
            max_length=getattr(self.model.config.text_config, "max_position_embeddings", 77),
        )
        args = {"input_ids": tok["input_ids"]}
        if "attention_mask" in tok and not self.is_siglip:
            args["attention_mask"] = tok["attention_mask"]
        with self.torch.inference_mode():
            z = _features(self.model.get_text_features(**args))
        return normalise(z)

    @property
    def dim(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "projection_dim", None) or cfg.text_config.hidden_size)


def reference_pixel_values(images: np.ndarray, side: int, mean, std) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    a = jnp.asarray(images, jnp.float32)
    n, h, w, c = a.shape
    if (h, w) != (side, side):
        a = jax.vmap(lambda im: jax.image.resize(im, (side, side, c), method="bilinear"))(a)
    a = (a - jnp.asarray(mean, jnp.float32)) / jnp.asarray(std, jnp.float32)
    return np.array(
        jnp.moveaxis(a, -1, 1), np.float32
    )  # a writable copy, as torch.from_numpy wants


def default_image_processor(model):
    """Resize/crop/normalise matching the model when its folder has no processor config."""
    import transformers

    size = int(model.config.vision_config.image_size)
    # Without torchvision, transformers 5 uses the PIL processors; ask for them by name.
    if "siglip" in type(model).__name__.lower():
        cls = (
            getattr(transformers, "SiglipImageProcessorPil", None)
            or transformers.SiglipImageProcessor
        )
        return cls(size={"height": size, "width": size})
    cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    return cls(size={"shortest_edge": size}, crop_size={"height": size, "width": size})


def _features(out) -> np.ndarray:
    # transformers 5 returns a model output whose pooler_output is projected;
    # 4.x returns the tensor itself.
    t = out if hasattr(out, "detach") else out.pooler_output
    return t.detach().float().cpu().numpy()


def probe_hub(source: str, timeout: float = 3.0) -> None:
    """Fail in seconds, not after minutes of retries, when the hub is out of reach."""
    import socket
    from urllib.parse import urlparse

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    port = urlparse(endpoint).port or (443 if endpoint.startswith("https") else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        raise ConfigError(
            f"model weights {source!r} are not in the local cache and {host} is out of reach "
            f"({e.strerror or type(e).__name__}); give a local copy in fm_weights or use fm pixels",
            field=("fm_weights", "fm"),
        ) from None


def optional(fn):
    """``fn()``, or None when the checkpoint lacks that part (a processor, a tokenizer)."""
    try:
        return fn()
    except (OSError, ValueError, TypeError, KeyError):
        return None


def short_error(e: BaseException) -> str:
    """An exception as its type and first line, short enough for a one-line error."""
    text = str(e).strip().splitlines()
    return (type(e).__name__ + (": " + text[0] if text else ""))[:200]

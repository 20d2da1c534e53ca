"""DINOv2 through Hugging Face ``transformers`` on PyTorch, as the paper uses it.

A float frame in [0, 1] is normalised with the processor's mean and standard
deviation (ImageNet's by default) and fed to the model at its own size (the
paper's code does not resize; its rollouts render at 224). The embedding is
the pooled output (``features="pooler"``, the paper's default) or the mean of
the last hidden states (``"avg_pool"``), scaled to unit norm. Any Dinov2
checkpoint works: a local folder, the Hugging Face cache or the hub.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from primordium.asal.embed.base import as_float_images, normalise
from primordium.asal.embed.clip import (
    IMAGE_MEAN_STD_DEFAULT,
    optional,
    probe_hub,
    short_error,
    torch_imports,
)
from primordium.errors import ConfigError

DEFAULT_CHECKPOINT = "facebook/dinov2-base"
FEATURES = ("pooler", "avg_pool")


class DinoModel:
    name = "dino"

    def __init__(
        self,
        model,
        mean=IMAGE_MEAN_STD_DEFAULT[0],
        std=IMAGE_MEAN_STD_DEFAULT[1],
        features: str = "pooler",
        checkpoint: str = "(in memory)",
        batch_size: int = 16,
    ):
        if features not in FEATURES:
            raise ConfigError(
                f"unknown dino features {features!r} (choose from {', '.join(FEATURES)})"
            )
        torch, _ = torch_imports()
        self.torch, self.model = torch, model.eval()
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        self.features, self.checkpoint, self.batch_size = features, checkpoint, batch_size

    @classmethod
    def load(cls, name_or_path: str | None = None, **kwargs) -> DinoModel:
        import os

        _, transformers = torch_imports()
        source = name_or_path or DEFAULT_CHECKPOINT
        local = Path(source).expanduser()
        if local.exists() and not (local / "config.json").is_file():
            raise ConfigError("not a Hugging Face model folder (no config.json)", file=local)
        where = str(local) if local.exists() else source
        try:
            model = transformers.Dinov2Model.from_pretrained(where, local_files_only=True)
        except (OSError, ValueError) as first:
            if local.exists() or os.environ.get("HF_HUB_OFFLINE") == "1":
                raise ConfigError(f"cannot load model {source!r} ({short_error(first)})") from None
            probe_hub(source)
            try:
                model = transformers.Dinov2Model.from_pretrained(where)
            except Exception as e:  # network errors come in many types
                raise ConfigError(
                    f"model weights {source!r} could not be loaded ({short_error(e)})"
                ) from None
        proc = optional(
            lambda: transformers.AutoImageProcessor.from_pretrained(where, local_files_only=True)
        )
        if proc is not None:
            kwargs.setdefault("mean", proc.image_mean)
            kwargs.setdefault("std", proc.image_std)
        return cls(model, checkpoint=source, **kwargs)

    def pixel_values(self, images: np.ndarray) -> np.ndarray:
        a = (as_float_images(images) - self.mean) / self.std
        return np.ascontiguousarray(np.moveaxis(a, -1, 1), np.float32)

    def embed_images(self, images: np.ndarray) -> np.ndarray:
        a = as_float_images(images)
        out = []
        with self.torch.inference_mode():
            for i in range(0, len(a), self.batch_size):
                o = self.model(
                    pixel_values=self.torch.from_numpy(
                        self.pixel_values(a[i : i + self.batch_size])
                    )
                )
                z = (
                    o.pooler_output
                    if self.features == "pooler"
                    else o.last_hidden_state.mean(dim=1)
                )
                out.append(z.detach().float().cpu().numpy())
        return (
            normalise(np.concatenate(out))
            if out
            else np.zeros((0, self.model.config.hidden_size), np.float32)
        )

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise ConfigError(
            "the dino model cannot embed text prompts; use fm clip, or a target_image",
            field=("fm", "target_image"),
        )

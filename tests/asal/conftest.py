"""Fixtures for the ASAL tests: small sizes keep JAX compile times short."""

from __future__ import annotations

import os

import pytest

# Never reach for the Hugging Face hub from the test suite.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import jax  # noqa: E402, F401 (the asal extra: `make test` installs it; missing fails)


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory):
    """A random-weight CLIP saved with save_pretrained (model, processor, tokenizer)."""
    from .tiny_models import tiny_clip

    folder = tmp_path_factory.mktemp("tiny_clip")
    tiny_clip(folder)
    return folder

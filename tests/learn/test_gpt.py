"""The GPT: causal, and its key/value cache decodes what the full forward pass computes."""

from __future__ import annotations

import pytest
import torch  # the learn extra: missing fails, never skips

from primordium.errors import ConfigError
from primordium.learn.gpt import GPT, GPTConfig


def _model():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab=4, context=24, n_layer=2, n_head=2, d_model=16)).eval()


def test_a_later_token_never_changes_an_earlier_logit():
    m = _model()
    idx = torch.randint(0, 4, (3, 20))
    changed = idx.clone()
    changed[:, 12:] = (changed[:, 12:] + 1) % 4
    with torch.no_grad():
        a, b = m(idx), m(changed)
    assert torch.equal(a[:, :12], b[:, :12]) and not torch.allclose(a[:, 12:], b[:, 12:])


def test_cached_decoding_gives_the_full_pass_logits():
    m = _model()
    idx = torch.randint(0, 4, (3, 24))
    with torch.no_grad():
        full = m(idx)
        caches = m.new_caches()
        parts = [m(idx[:, :10], caches)] + [m(idx[:, t : t + 1], caches) for t in range(10, 24)]
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5)


def test_past_the_context_and_bad_shapes_are_config_errors():
    m = _model()
    with pytest.raises(ConfigError, match="context 24"):
        m(torch.zeros((1, 25), dtype=torch.long))
    with pytest.raises(ConfigError) as e:
        GPTConfig(vocab=4, context=8, n_head=3, d_model=16)
    assert e.value.fields == ("d_model", "n_head")

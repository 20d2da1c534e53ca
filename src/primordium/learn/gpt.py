"""A small decoder-only transformer (GPT): token and learned position embeddings,
pre-norm blocks of causal self-attention and an MLP, a final norm and a linear head.

Attention is ``scaled_dot_product_attention`` with ``is_causal=True``, which
PyTorch runs as flash attention on a GPU that has it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from primordium.errors import ConfigError


@dataclass(frozen=True)
class GPTConfig:
    vocab: int
    context: int
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128

    def __post_init__(self) -> None:
        for name in ("vocab", "context", "n_layer", "n_head", "d_model"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}", field=name)
        if self.d_model % self.n_head:
            raise ConfigError(
                f"d_model {self.d_model} is not a multiple of n_head {self.n_head}",
                field=("d_model", "n_head"),
            )

    def to_dict(self) -> dict:
        return asdict(self)


class _Attention(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.n_head = c.n_head
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.out = nn.Linear(c.d_model, c.d_model)

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        # [B, T, D] -> [B, heads, T, D / heads]
        q, k, v = (z.view(b, t, self.n_head, d // self.n_head).transpose(1, 2) for z in (q, k, v))
        causal = True
        if cache is not None:
            if "k" in cache:
                if t != 1:
                    raise ValueError("after the first call a cache takes one token at a time")
                # One new query sees every cached position and itself: no mask needed.
                k, v, causal = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2), False
            cache["k"], cache["v"] = k, v
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class _Block(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(c.d_model)
        self.attn = _Attention(c)
        self.norm2 = nn.LayerNorm(c.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(c.d_model, 4 * c.d_model), nn.GELU(), nn.Linear(4 * c.d_model, c.d_model)
        )

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), cache)
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tokens = nn.Embedding(config.vocab, config.d_model)
        self.positions = nn.Embedding(config.context, config.d_model)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layer))
        self.norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab, bias=False)
        self.apply(self._init)
        # Residual projections start smaller with depth (GPT-2's scaling), so
        # the residual stream's variance does not grow with the layer count.
        for name, p in self.named_parameters():
            if name.endswith(("attn.out.weight", "mlp.2.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, idx: torch.Tensor, caches: list[dict] | None = None) -> torch.Tensor:
        """Token ids [B, T] -> logits [B, T, vocab].

        With ``caches`` (one empty dict per block, from ``new_caches``), the
        first call reads a prompt and keeps each block's keys and values; each
        later call reads one more token and attends to all of them, so
        decoding costs one token's work per token instead of the whole prefix.
        """
        start = caches[0]["k"].shape[2] if caches and "k" in caches[0] else 0
        t = idx.shape[1]
        if start + t > self.config.context:
            raise ConfigError(
                f"a sequence of {start + t} tokens is longer than the model's context "
                f"{self.config.context}",
                field="context",
            )
        pos = torch.arange(start, start + t, device=idx.device)
        x = self.tokens(idx) + self.positions(pos)
        for i, block in enumerate(self.blocks):
            x = block(x, caches[i] if caches is not None else None)
        return self.head(self.norm(x))

    def new_caches(self) -> list[dict]:
        return [{} for _ in self.blocks]

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

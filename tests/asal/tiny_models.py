"""Tiny CLIP/SigLIP models with random weights, built offline from configs.

They run the real transformers code path (processor, tokenizer, encoders,
projection) without any download.
"""

from __future__ import annotations

import json
from pathlib import Path


def _byte_chars() -> list[str]:
    # GPT-2 style printable stand-ins for the 256 byte values.
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def write_clip_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    chars = _byte_chars()
    vocab: dict[str, int] = {}
    for ch in chars:
        vocab[ch] = len(vocab)
    for ch in chars:
        vocab[ch + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder / "vocab.json", folder / "merges.txt"


VOCAB = 514


def tiny_clip(
    folder: Path,
    image_size: int = 32,
    hidden: int = 32,
    layers: int = 1,
    patch: int = 8,
    projection: int = 16,
    siglip: bool = False,
):
    """(model, image_processor, tokenizer), all also saved to ``folder``."""
    import torch
    from transformers import CLIPTokenizer

    torch.manual_seed(0)
    vocab, merges = write_clip_tokenizer_files(folder / "tok")
    tokenizer = CLIPTokenizer(str(vocab), str(merges))
    text = dict(
        vocab_size=VOCAB,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        max_position_embeddings=32,
    )
    vision = dict(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch,
    )
    if siglip:
        from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

        model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision)).eval()
        processor = SiglipImageProcessor(size={"height": image_size, "width": image_size})
    else:
        from transformers import CLIPConfig, CLIPModel

        text.update(bos_token_id=VOCAB - 2, eos_token_id=VOCAB - 1, pad_token_id=VOCAB - 1)
        model = CLIPModel(
            CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection)
        ).eval()
        from primordium.asal.embed.clip import default_image_processor

        processor = default_image_processor(model)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model, processor, tokenizer

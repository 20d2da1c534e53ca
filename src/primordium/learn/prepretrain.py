"""NCA pre-pre-training: a GPT trained on NCA trajectories, then on text, against one
trained on the text alone.

Three kinds of run (engine ``learn``):

- ``nca-prepretrain``: the GPT on sequences of NCA tokens, one rule per
  sequence (the model has to infer the rule in context), from a pool of the
  first ``rules`` rules whose complexity is in the band;
- ``nca-finetune``: the GPT on the standard library's source
  (``learn/corpus.py``), starting from a prepretrain run's weights or from
  scratch, with validation loss on held-out files at every metric row (fixed
  token budgets: ``log_every`` steps of ``batch x context`` tokens);
- ``nca-compare``: the experiment (``learn/nca_compare.py``).

Transfer keeps everything but the vocabulary's ends: the blocks, the learned
positions and the final norm are copied; the token embedding and the head
(NCA patches there, bytes here) are drawn afresh, with the same draws a
scratch model of the same seed gets, so the two differ only in what the
copied tensors hold.
"""

from __future__ import annotations

import math

import numpy as np

from primordium.errors import ConfigError, StoreError
from primordium.learn import corpus as text
from primordium.learn import nca
from primordium.store import Run, Store

ENGINE = "learn"
PREPRETRAIN, FINETUNE = "nca-prepretrain", "nca-finetune"
# Tensors a new vocabulary replaces: everything else transfers.
VOCAB_TENSORS = ("tokens.weight", "head.weight")
TRANSFER = ("all", "attention")
VALID_SEQUENCES = 64


class NCAStream:
    """Rows of a pool of tokenised trajectories, drawn from (seed, step): the first
    ``context + 1`` tokens of one rule's trajectory per row."""

    def __init__(self, tokens: np.ndarray, context: int, seed: int):
        self.tokens, self.context, self.seed = tokens[:, : context + 1], context, seed

    def batch(self, step: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, step])
        rows = self.tokens[rng.integers(0, self.tokens.shape[0], size)]
        return rows.astype(np.int64), np.ones((size, self.context), bool)


def frames_for(config: nca.NCAConfig, context: int) -> int:
    """Frames whose tokens fill ``context + 1`` positions."""
    return math.ceil((context + 1) / config.frame_tokens)


def _loss_validator(tokens: np.ndarray):
    """Mean next-token loss over fixed held-out sequences, in chunks of 16."""
    import torch
    import torch.nn.functional as F

    def validate(model) -> dict[str, float]:
        device = next(model.parameters()).device
        total, count = 0.0, 0
        for i in range(0, tokens.shape[0], 16):
            t = torch.from_numpy(tokens[i : i + 16]).to(device)
            logits = model(t[:, :-1])
            total += float(
                F.cross_entropy(logits.flatten(0, 1), t[:, 1:].flatten(), reduction="sum")
            )
            count += t[:, 1:].numel()
        return {"val_loss": total / count}

    return validate


def open_run(store: Store, run_id: str, kind: str) -> Run:
    run = store.open(run_id)
    if run.engine != ENGINE or run.config.get("kind") != kind:
        raise StoreError(f"run {run.id} is not an {kind} run")
    return run


def _configs(run: Run):
    from primordium.learn.gpt import GPTConfig
    from primordium.learn.train import TrainConfig

    try:
        return GPTConfig(**run.config["model"]), TrainConfig(**run.config["train"])
    except (KeyError, TypeError) as e:
        raise StoreError(f"run {run.id} has a damaged config ({e})") from None


def _start_or_resume(store, kind, resume, record, name, started=None):
    if resume is not None:
        run = open_run(store, resume, kind)
        if run.status == "running":
            raise StoreError(f"run {run.id} is still running in another process")
        run.require_folder()
        return run
    run = store.create(ENGINE, record, name=name)
    if started is not None:
        started(run)
    return run


def prepretrain(
    store: Store,
    nca_config: nca.NCAConfig | None = None,
    model_config=None,
    train_config=None,
    *,
    rules: int = 1024,
    resume: str | None = None,
    device: str = "cpu",
    name: str | None = None,
    progress=None,
    started=None,
) -> tuple[Run, dict]:
    """Train a GPT on NCA tokens (or continue ``resume``); return the run and its summary.
    ``started(run)`` is called as soon as a new run exists."""
    import torch

    from primordium.learn.device import torch_device
    from primordium.learn.gpt import GPT, GPTConfig
    from primordium.learn.train import TrainConfig, deterministic, fit

    dev = torch_device(device)
    if resume is not None:
        run = open_run(store, resume, PREPRETRAIN)
        model_config, train_config = _configs(run)
        nca_config, rules = nca.NCAConfig(**run.config["nca"]), int(run.config["rules"])
    else:
        train_config = train_config or TrainConfig()
        nca_config = nca_config or nca.NCAConfig()
        model_config = model_config or GPTConfig(nca_config.vocab, 256, 2, 4, 64)
        if model_config.vocab != nca_config.vocab:
            raise ConfigError(
                f"vocab {model_config.vocab} is not the NCA tokens' {nca_config.vocab}",
                field="vocab",
            )
        if nca_config.tokens_per_trajectory < model_config.context + 1:
            raise ConfigError(
                f"frames {nca_config.frames} give {nca_config.tokens_per_trajectory} tokens, "
                f"fewer than context + 1 = {model_config.context + 1}",
                field="frames",
            )
    seed = train_config.seed
    kept = nca.keep_rules(nca_config, seed, rules)
    held = nca.keep_rules(nca_config, seed, VALID_SEQUENCES, stream=nca.VALID_RULES)
    context = model_config.context
    stats = {
        "rules": rules,
        "scanned": kept.scanned,
        "kept_share": rules / kept.scanned,
        "complexity_mean": float(kept.complexity.mean()),
        "tokens": rules * context,
    }
    run = _start_or_resume(
        store,
        PREPRETRAIN,
        resume,
        {
            "kind": PREPRETRAIN,
            "nca": nca_config.to_dict(),
            "rules": rules,
            "model": model_config.to_dict(),
            "train": train_config.to_dict(),
        },
        name,
        started,
    )
    if resume is None:
        run.update_summary(band=[nca_config.band_low, nca_config.band_high], **stats, init="random")
    with deterministic(train_config.threads):
        torch.manual_seed(seed)
        model = GPT(model_config)
    last = fit(
        run,
        model,
        NCAStream(kept.tokens, context, seed),
        train_config,
        dev,
        resume=resume is not None,
        validate=_loss_validator(held.tokens[:, : context + 1].astype(np.int64)),
        progress=progress,
    )
    summary = {"loss": last.get("loss"), "val_loss": last.get("val_loss")}
    run.update_summary(**summary, seconds=last.get("elapsed"))
    return run, summary | stats


def _kept(key: str, parts: str) -> bool:
    if key in VOCAB_TENSORS:
        return False
    if parts == "attention":  # each block's attention and the norm before it
        return ".attn." in key or ".norm1." in key
    return True


def transfer(source: dict, model, parts: str = "all") -> list[str]:
    """Copy ``source``'s tensors into ``model`` and return their names: all but the
    vocabulary's (``parts="all"``), or only the blocks' attention (``"attention"``)."""
    import torch

    if parts not in TRANSFER:
        raise ConfigError(
            f"transfer must be one of {', '.join(TRANSFER)}, not {parts!r}", field="transfer"
        )
    own = model.state_dict()
    copied = []
    for key, value in source.items():
        if not _kept(key, parts):
            continue
        if key not in own or own[key].shape != value.shape:
            raise ConfigError(f"the source model's {key} does not fit", field="from")
        copied.append(key)
    missing = {k for k in own if _kept(k, parts)} - set(copied)
    if missing:
        raise ConfigError(f"the source model lacks {sorted(missing)[0]}", field="from")
    with torch.no_grad():
        for key in copied:
            own[key].copy_(source[key])
    return copied


def finetune(
    store: Store,
    source: str | None = None,
    model_config=None,
    train_config=None,
    *,
    valid_share: float = 0.1,
    valid_windows: int = 32,
    parts: str = "all",
    resume: str | None = None,
    device: str = "cpu",
    name: str | None = None,
    progress=None,
    started=None,
) -> tuple[Run, dict]:
    """Train a GPT on the standard library's source from ``source``'s weights (a prepretrain
    run's id), or from scratch when ``source`` is None; or continue ``resume``."""
    import torch

    from primordium.learn.device import torch_device
    from primordium.learn.gpt import GPT, GPTConfig
    from primordium.learn.train import TrainConfig, deterministic, fit, read_checkpoint

    dev = torch_device(device)
    donor = None
    if resume is not None:
        run = open_run(store, resume, FINETUNE)
        model_config, train_config = _configs(run)
        valid_share = float(run.config["corpus"]["valid_share"])
        valid_windows = int(run.config["corpus"]["valid_windows"])
    else:
        train_config = train_config or TrainConfig()
        if source is not None:
            donor = open_run(store, source, PREPRETRAIN)
            if donor.status != "finished":
                raise StoreError(f"run {donor.id} has not finished (status {donor.status})")
            shape, _ = _configs(donor)
            model_config = GPTConfig(
                text.VOCAB, shape.context, shape.n_layer, shape.n_head, shape.d_model
            )
        else:
            model_config = model_config or GPTConfig(text.VOCAB, 256, 2, 4, 64)
        if model_config.vocab != text.VOCAB:
            raise ConfigError(
                f"vocab {model_config.vocab} is not the corpus's {text.VOCAB}", field="vocab"
            )
    if parts not in TRANSFER:
        raise ConfigError(
            f"transfer must be one of {', '.join(TRANSFER)}, not {parts!r}", field="transfer"
        )
    if not isinstance(valid_windows, int) or valid_windows < 1:
        raise ConfigError(
            f"valid_windows must be a positive integer, got {valid_windows!r}",
            field="valid_windows",
        )
    corpus = text.load(valid_share)
    context = model_config.context
    with deterministic(train_config.threads):
        torch.manual_seed(train_config.seed)
        model = GPT(model_config)
    copied: list[str] = []
    if donor is not None:
        copied = transfer(read_checkpoint(donor, torch.device("cpu"))["model"], model, parts)
    run = _start_or_resume(
        store,
        FINETUNE,
        resume,
        {
            "kind": FINETUNE,
            "from": donor.id if donor is not None else "scratch",
            "transfer": parts if donor is not None else None,
            "transferred": copied,
            "corpus": corpus.describe()
            | {"valid_share": valid_share, "valid_windows": valid_windows},
            "model": model_config.to_dict(),
            "train": train_config.to_dict(),
        },
        name,
        started,
    )
    if resume is None:
        run.update_summary(init=donor.id if donor is not None else "scratch")
    validate = _loss_validator(text.valid_windows(corpus, context, valid_windows))
    last = fit(
        run,
        model,
        text.CorpusStream(corpus, context, train_config.seed),
        train_config,
        dev,
        resume=resume is not None,
        validate=validate,
        progress=progress,
    )
    summary = {"loss": last.get("loss"), "val_loss": last.get("val_loss")}
    run.update_summary(**summary, seconds=last.get("elapsed"))
    return run, summary

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
- ``nca-compare``: the experiment, one prepretrain run per (band, seed) and
  one finetune from each of them, against a finetune from scratch per seed.

Transfer keeps everything but the vocabulary's ends: the blocks, the learned
positions and the final norm are copied; the token embedding and the head
(NCA patches there, bytes here) are drawn afresh, with the same draws a
scratch model of the same seed gets, so the two differ only in what the
copied tensors hold.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from primordium.errors import ConfigError, StoreError
from primordium.learn import corpus as text
from primordium.learn import nca
from primordium.store import Run, Store

ENGINE = "learn"
PREPRETRAIN, FINETUNE, COMPARE = "nca-prepretrain", "nca-finetune", "nca-compare"
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


def _open(store: Store, run_id: str, kind: str) -> Run:
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
        run = _open(store, resume, kind)
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
        run = _open(store, resume, PREPRETRAIN)
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
        run = _open(store, resume, FINETUNE)
        model_config, train_config = _configs(run)
        valid_share = float(run.config["corpus"]["valid_share"])
        valid_windows = int(run.config["corpus"]["valid_windows"])
    else:
        train_config = train_config or TrainConfig()
        if source is not None:
            donor = _open(store, source, PREPRETRAIN)
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


def val_curve(run: Run) -> list[tuple[int, float]]:
    """(tokens seen, validation loss) at each metric row of a run."""
    return [(int(r["seen_tokens"]), float(r["val_loss"])) for r in run.metrics()]


def compare(
    store: Store,
    seeds: list[int],
    bands: list[tuple[float, float]],
    nca_config: nca.NCAConfig,
    model_config,
    pre_train,
    fine_train,
    *,
    rules: int,
    device: str = "cpu",
    resume: str | None = None,
    progress=None,
) -> tuple[Run, dict[str, Any]]:
    """The experiment: per band and seed, prepretrain then finetune, beside a finetune from
    scratch per seed; the validation curves go into the compare run's ``compare.json``.

    The compare run records each child run as it finishes; resumed, it skips
    the finished ones and continues an unfinished one from its checkpoint.
    """
    from dataclasses import replace

    from primordium.learn.gpt import GPTConfig
    from primordium.learn.train import TrainConfig

    if not seeds:
        raise ConfigError("seeds must name at least one seed", field="seeds")
    if not bands:
        raise ConfigError("bands must name at least one band", field="bands")
    for lo, hi in bands:
        nca.NCAConfig(**(nca_config.to_dict() | {"band_low": lo, "band_high": hi}))
    if resume is not None:
        run = _open(store, resume, COMPARE)
        if run.status == "running":
            raise StoreError(f"run {run.id} is still running in another process")
        cfg = run.config
        seeds, bands, rules = cfg["seeds"], [tuple(b) for b in cfg["bands"]], cfg["rules"]
        nca_config = nca.NCAConfig(**cfg["nca"])
        model_config = GPTConfig(**cfg["model"])
        pre_train, fine_train = TrainConfig(**cfg["pre_train"]), TrainConfig(**cfg["fine_train"])
        run.require_folder()
    else:
        run = store.create(
            ENGINE,
            {
                "kind": COMPARE,
                "seeds": list(seeds),
                "bands": [list(b) for b in bands],
                "rules": rules,
                "nca": nca_config.to_dict(),
                "model": model_config.to_dict(),
                "pre_train": pre_train.to_dict(),
                "fine_train": fine_train.to_dict(),
            },
            name=f"NCA pre-pre-training vs scratch ({len(seeds)} seeds, {len(bands)} bands)",
        )
    children: dict[str, str] = dict(run.summary.get("children", {}))
    text_model = replace(model_config, vocab=text.VOCAB)
    nca_model = replace(model_config, vocab=nca_config.vocab)

    def child(key: str, make) -> Run:
        def record(c: Run) -> None:
            # At once, so an interrupted child is continued on resume, not started again.
            children[key] = c.id
            run.update_summary(children=children)

        if key in children:
            c = store.open(children[key])
            if c.status == "finished":
                return c
            c, _ = make(c.id, record)
        else:
            c, _ = make(None, record)
        return c

    def say(what: str):
        return None if progress is None else (lambda p: progress(what, p))

    with run.running():
        curves: dict[str, dict[str, list]] = {}
        for seed in seeds:
            key = f"scratch/{seed}"
            c = child(
                key,
                lambda r, started, seed=seed, key=key: finetune(
                    store,
                    None,
                    text_model,
                    replace(fine_train, seed=seed),
                    resume=r,
                    device=device,
                    name=f"NCA compare: text from scratch, seed {seed}",
                    progress=say(key),
                    started=started,
                ),
            )
            curves.setdefault("scratch", {})[str(seed)] = val_curve(c)
        for lo, hi in bands:
            cfg = replace(nca_config, band_low=lo, band_high=hi)
            label = f"nca[{lo},{hi}]"
            for seed in seeds:
                pkey = f"{label}/pre/{seed}"
                pre = child(
                    pkey,
                    lambda r, started, seed=seed, cfg=cfg, pkey=pkey: prepretrain(
                        store,
                        cfg,
                        nca_model,
                        replace(pre_train, seed=seed),
                        rules=rules,
                        resume=r,
                        device=device,
                        name=f"NCA compare: prepretrain band [{cfg.band_low}, "
                        f"{cfg.band_high}], seed {seed}",
                        progress=say(pkey),
                        started=started,
                    ),
                )
                fkey = f"{label}/{seed}"
                ft = child(
                    fkey,
                    lambda r, started, seed=seed, pre=pre, fkey=fkey, label=label: finetune(
                        store,
                        pre.id if r is None else None,
                        None,
                        replace(fine_train, seed=seed),
                        resume=r,
                        device=device,
                        name=f"NCA compare: text after {label}, seed {seed}",
                        progress=say(fkey),
                        started=started,
                    ),
                )
                curves.setdefault(label, {})[str(seed)] = val_curve(ft)
        result = summarise(curves)
        run.write_json("compare.json", result)
        run.update_summary(**result["final"])
    return run, result


def summarise(curves: dict[str, dict[str, list]]) -> dict[str, Any]:
    """Per arm and token budget: validation loss per seed, mean and spread (sample std);
    per NCA arm the mean of its per-seed differences from scratch (negative: NCA better)."""
    table: dict[str, list[dict]] = {}
    for arm, by_seed in curves.items():
        budgets = [t for t, _ in next(iter(by_seed.values()))]
        rows = []
        for i, tokens in enumerate(budgets):
            losses = {s: c[i][1] for s, c in by_seed.items()}
            v = np.array(list(losses.values()))
            row = {
                "tokens": tokens,
                "val_loss": losses,
                "mean": float(v.mean()),
                "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            }
            if arm != "scratch" and "scratch" in curves:
                d = np.array([losses[s] - curves["scratch"][s][i][1] for s in losses])
                row["minus_scratch_mean"] = float(d.mean())
                row["minus_scratch_std"] = float(d.std(ddof=1)) if d.size > 1 else 0.0
                row["seeds_better"] = int((d < 0).sum())
            rows.append(row)
        table[arm] = rows
    final = {f"val_loss {arm}": rows[-1]["mean"] for arm, rows in table.items()}
    return {"table": table, "final": final, "curves": curves}

"""The NCA pre-pre-training experiment: per complexity band and seed, a prepretrain run
and a finetune from it, against a finetune from scratch per seed (``learn/prepretrain.py``
makes the runs); validation loss at fixed token budgets into ``compare.json``."""

from __future__ import annotations

from typing import Any

import numpy as np

from primordium.errors import ConfigError, StoreError
from primordium.learn import corpus as text
from primordium.learn import nca
from primordium.learn.prepretrain import ENGINE, finetune, open_run, prepretrain
from primordium.store import Run, Store

COMPARE = "nca-compare"


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
        run = open_run(store, resume, COMPARE)
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

"""Convergence across independent runs: do champions' behaviours converge while their code stays apart?

The paper (Kumar et al. 2026) reports that, round by round, the champions of
independent DRQ runs behave more and more alike while their code does not.
The public code has no script for it, so this module follows the paper's
description in its own terms:

- phenotype: a champion's vector of DRQ scores (survival share, as fitness
  is measured) one-on-one against each warrior of a fixed set, every
  champion meeting each warrior on the same placements;
- phenotype similarity: mean pairwise cosine similarity of the runs'
  vectors in a round; phenotype variance: variance across runs, averaged
  over the set (the paper's measure of behavioural diversity);
- genotype distance: mean pairwise normalised edit distance between the
  champions' instruction listings (an instruction is one token; the paper
  embeds source text with a language model instead, which needs a network
  and a model: a distance on the code itself answers the same question).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np

from primordium.corewar.isa import Warrior
from primordium.corewar.redcode import assemble
from primordium.errors import ConfigError, read_text_file
from primordium.redqueen.fitness import evaluate, round_seeds


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance between two sequences (insert, delete, substitute cost 1)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def genotype_distance(a: Warrior, b: Warrior) -> float:
    """Edit distance between instruction listings over the longer length: 0 same code, 1 nothing shared."""
    ra = [tuple(int(v) for v in row) for row in np.asarray(a.code)]
    rb = [tuple(int(v) for v in row) for row in np.asarray(b.code)]
    return edit_distance(ra, rb) / max(len(ra), len(rb), 1)


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0.0 or nv == 0.0:
        return 1.0 if nu == nv else 0.0  # two all-zero behaviours are the same behaviour
    return float(u @ v / (nu * nv))


def phenotypes(
    champions: Sequence[Warrior],
    opponents: Sequence[Warrior],
    settings,
    *,
    rounds: int,
    seed: int,
    placement: str = "drq",
    on_progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """float[champions, opponents]: each champion's mean one-on-one DRQ score against each opponent.

    Opponent j's battles are seeded from (seed, j) alone, so every champion
    meets it on the same placements and differences are the champions' own.
    ``placement`` is the runs' own, so a phenotype is scored as their fitness was.
    """
    out = np.zeros((len(champions), len(opponents)))
    if not champions:
        return out
    for j, opp in enumerate(opponents):
        row = round_seeds(seed, 0, j, 0, rounds)
        seeds = np.tile(row, (len(champions), 1))
        for i, ev in enumerate(
            evaluate(list(champions), [opp], settings, seeds, placement=placement)
        ):
            out[i, j] = ev.fitness
        if on_progress is not None:
            on_progress(len(champions))
    return out


def compare_runs(
    runs: Sequence,
    against: str | Path,
    *,
    rounds: int = 20,
    seed: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> dict:
    """Per round, across ``runs``: phenotype similarity and variance, genotype distance, champion fitness."""
    from primordium.redqueen.evaluate import load_dir
    from primordium.redqueen.loop import archives, champions, load_config

    if len(runs) < 2:
        raise ConfigError(f"compare needs at least two runs, got {len(runs)}")
    if rounds < 1:
        raise ConfigError(f"rounds must be at least 1, got {rounds}")
    configs = [load_config(r) for r in runs]
    for r, c in zip(runs[1:], configs[1:], strict=False):
        if c.core != configs[0].core:
            raise ConfigError(
                f"run {r.id} has other core settings than {runs[0].id}; compare runs of one core"
            )
        if c.placement != configs[0].placement:
            raise ConfigError(
                f"run {r.id} has placement {c.placement!r}, {runs[0].id} has "
                f"{configs[0].placement!r}; compare runs of one placement"
            )
    settings = configs[0].settings()
    opponents, skipped = load_dir(against, settings)
    if not opponents:
        raise ConfigError(
            f"against: none of the warriors in {against} assemble for these runs' core settings",
            field="against",
        )

    # Every champion of every run, in one batch per opponent.
    index: list[tuple[int, int]] = []  # (run k, round t)
    warriors: list[Warrior] = []
    for k, run in enumerate(runs):
        for t, path in champions(run):
            index.append((k, t))
            warriors.append(assemble(read_text_file(path), settings, file=str(path)))
    ph = phenotypes(
        warriors,
        [w for _, w in opponents],
        settings,
        rounds=rounds,
        seed=seed,
        placement=configs[0].placement,
        on_progress=on_progress,
    )
    at = {key: i for i, key in enumerate(index)}

    fitness = {}
    for k, run in enumerate(runs):
        for t, a in enumerate(archives(run), 1):
            b = a.best()
            if b is not None:
                fitness[(k, t)] = b.fitness
    rows = []
    for t in sorted({t for _, t in index}):
        have = [i for k in range(len(runs)) if (i := at.get((k, t))) is not None]
        row: dict = {
            "round": t,
            "runs": len(have),
            "phenotype_similarity": None,
            "phenotype_variance": None,
            "genotype_distance": None,
            "fitness": float(np.mean([fitness[index[i]] for i in have if index[i] in fitness]))
            if have
            else None,
        }
        if len(have) >= 2:
            pairs = list(combinations(have, 2))
            row["phenotype_similarity"] = float(np.mean([cosine(ph[i], ph[j]) for i, j in pairs]))
            row["phenotype_variance"] = float(ph[have].var(axis=0).mean())
            row["genotype_distance"] = float(
                np.mean([genotype_distance(warriors[i], warriors[j]) for i, j in pairs])
            )
        rows.append(row)
    return {
        "runs": [r.id for r in runs],
        "against": str(Path(against).expanduser()),
        "opponents": len(opponents),
        "skipped": skipped,
        "battle_rounds": rounds,
        "seed": seed,
        "phenotypes": [
            {"run": runs[k].id, "round": t, "scores": [float(x) for x in ph[i]]}
            for i, (k, t) in enumerate(index)
        ],
        "rounds": rows,
    }

"""After a run: how general are its champions? (Convergence across runs: convergence.py.)

Generality (the paper's measure): each round's champion fights every warrior
of a held-out set one-on-one for R rounds; it beats an opponent when it wins
more rounds than it loses, ties when as many. Generality is the fraction of
the set it beats or ties.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numba
import numpy as np

from primordium.corewar.battle import pair_seed, run_battles
from primordium.corewar.isa import Settings, Warrior
from primordium.corewar.redcode import assemble, assemble_file
from primordium.errors import AssemblyError, ConfigError, PrimordiumError, read_text_file


def load_dir(directory: str | Path, settings: Settings) -> tuple[list[tuple[str, Warrior]], list[dict]]:
    """Every .red file of a folder, assembled; those that do not fit these settings are skipped (and listed)."""
    d = Path(directory).expanduser()
    if not d.is_dir():
        raise ConfigError(f"--against: {d} is not a folder")
    files = sorted(d.glob("*.red"))
    if not files:
        raise ConfigError(f"--against: no .red files in {d}")
    good, skipped = [], []
    for f in files:
        try:
            w = assemble_file(f, settings)
            if w.length > settings.length:
                raise AssemblyError(f"{w.length} instructions, more than {settings.length}")
            good.append((f.name, w))
        except PrimordiumError as e:
            skipped.append({"file": f.name, "error": str(e)})
    return good, skipped


def generality(
    champions: Sequence[tuple[int, Warrior]],
    opponents: Sequence[tuple[str, Warrior]],
    settings: Settings,
    *,
    rounds: int = 20,
    seed: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> list[dict]:
    """Per champion: wins/ties/losses against the set (by majority of rounds) and generality."""
    nc, no = len(champions), len(opponents)
    if nc == 0:
        return []
    pool = [w for _, w in champions] + [w for _, w in opponents]
    pairs = np.array([(i, nc + j) for i in range(nc) for j in range(no)], np.int64)
    seeds = np.array([pair_seed(seed, int(i), int(j)) for i, j in pairs], np.int64)
    s = settings.with_(rounds=rounds, warriors=2)
    wins = np.zeros((nc, no), np.int64)
    losses = np.zeros((nc, no), np.int64)
    chunk = max(16, 4 * numba.get_num_threads())
    for lo in range(0, len(pairs), chunk):
        part = pairs[lo : lo + chunk]
        res = run_battles(pool, part, s, seeds[lo : lo + chunk], track=False)
        w, l = res.wins(), res.losses()
        for k, (i, j) in enumerate(part):
            wins[i, j - nc] = w[k, 0]
            losses[i, j - nc] = l[k, 0]
        if on_progress is not None:
            on_progress(len(part))
    out = []
    for i, (rnd, _) in enumerate(champions):
        beat = int((wins[i] > losses[i]).sum())
        tie = int((wins[i] == losses[i]).sum())
        out.append({"round": rnd, "wins": beat, "ties": tie, "losses": no - beat - tie,
                    "generality": (beat + tie) / no})
    return out


def evaluate_run(run, against: str | Path, *, rounds: int = 20, seed: int = 0,
                 on_progress: Callable[[int], None] | None = None) -> dict:
    """Generality of every champion of ``run`` against the .red files in ``against``; saved as eval.json."""
    from primordium.redqueen.loop import champions, load_config

    if rounds < 1:
        raise ConfigError(f"--rounds must be at least 1, got {rounds}")
    config = load_config(run)
    settings = config.settings()
    champs = []
    for rnd, path in champions(run):
        champs.append((rnd, path, assemble(read_text_file(path), settings, file=str(path))))
    if not champs:
        raise PrimordiumError(f"run {run.id} has no champions yet")
    opponents, skipped = load_dir(against, settings)
    if not opponents:
        raise ConfigError(f"--against: none of the warriors in {against} assemble for this run's core settings")
    rows = generality([(r, w) for r, _, w in champs], opponents, settings, rounds=rounds, seed=seed,
                      on_progress=on_progress)
    for row, (_, path, w) in zip(rows, champs):
        row["champion"] = str(path)
        row["name"] = w.name
    result = {"against": str(Path(against).expanduser()), "opponents": len(opponents), "skipped": skipped,
              "battle_rounds": rounds, "seed": seed,
              "rounds": [{k: r[k] for k in ("round", "champion", "generality", "wins", "ties", "losses", "name")}
                         for r in rows]}
    run.write_json("eval.json", result)
    from primordium.redqueen.plots import generality_image
    from primordium.viz import save_png

    save_png(generality_image(result), run.artifact("generality.png"))
    return result

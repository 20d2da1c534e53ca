"""After a run: how general are its champions? (Convergence across runs: convergence.py.)

Generality: each round's champion fights every warrior of a held-out set
one-on-one for R rounds, and generality is the fraction of the set it beats
or ties. Two measures (``measure``):

* ``"drq"`` (the default), as the public DRQ code evaluates a pair
  (``eval_warriors.py`` through ``run_multiple_rounds``): DRQ placements with
  round r seeded with r, every round run to the cycle limit, and each
  warrior's score the survival share times 2 (``fitness.melee``). The
  champion beats an opponent when its mean score over the R rounds is higher
  than the opponent's, ties when equal. The public code stops at the score
  arrays; this comparison of the two means is our reading of "beats or ties".
* ``"pmars"``: pMARS battles (its placements, a battle ends at one
  survivor); the champion beats an opponent when it wins more rounds than it
  loses, ties when as many. Kept for comparison with pMARS tournaments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numba
import numpy as np

from primordium.corewar.battle import pair_seed, run_battles
from primordium.corewar.isa import Settings, Warrior
from primordium.corewar.redcode import assemble, assemble_file
from primordium.errors import AssemblyError, ConfigError, PrimordiumError, read_text_file

MEASURES = ("drq", "pmars")


def load_dir(
    directory: str | Path, settings: Settings
) -> tuple[list[tuple[str, Warrior]], list[dict]]:
    """Every .red file of a folder, assembled; those that do not fit these settings are skipped (and listed)."""
    d = Path(directory).expanduser()
    if not d.is_dir():
        raise ConfigError(f"against: {d} is not a folder", field="against")
    files = sorted(d.glob("*.red"))
    if not files:
        raise ConfigError(f"against: no .red files in {d}", field="against")
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
    measure: str = "drq",
    on_progress: Callable[[int], None] | None = None,
) -> list[dict]:
    """Per champion: opponents beaten, tied and lost one-on-one, and generality (see the module doc).

    ``seed`` moves pMARS's placements (measure "pmars"); the DRQ measure
    always seeds round r with r, as the public code does.
    """
    if measure not in MEASURES:
        raise ConfigError(f"measure: unknown value {measure!r} (known: {', '.join(MEASURES)})")
    nc, no = len(champions), len(opponents)
    if nc == 0:
        return []
    if measure == "drq":
        mine, theirs = _drq_scores(champions, opponents, settings, rounds, on_progress)
        beat, tie = mine > theirs, mine == theirs
    else:
        wins, losses = _pmars_wins(champions, opponents, settings, rounds, seed, on_progress)
        beat, tie = wins > losses, wins == losses
    out = []
    for i, (rnd, _) in enumerate(champions):
        b, t = int(beat[i].sum()), int(tie[i].sum())
        row = {"round": rnd, "wins": b, "ties": t, "losses": no - b - t, "generality": (b + t) / no}
        if measure == "drq":
            row["score"] = float(mine[i].mean())  # the champion's mean score over the whole set
            row["scores"] = [[float(mine[i, j]), float(theirs[i, j])] for j in range(no)]
        out.append(row)
    return out


def _drq_scores(
    champions, opponents, settings: Settings, rounds: int, on_progress: Callable[[int], None] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean scores [champion, opponent] of the champion and of the opponent over R one-on-one rounds.

    Every (pair, round) is one row of a single batch, one round per row so
    that the champion always moves first (a row of several rounds would
    rotate the first mover, as pMARS does), loaded where the public code
    loads round r (seeded with r): ``fitness.melee`` for many opponent sets.
    """
    from primordium.corewar.battle import drq_positions, run_battles_on
    from primordium.redqueen.fitness import lifetimes, melee_scores

    nc, no = len(champions), len(opponents)
    pool = [w for _, w in champions] + [w for _, w in opponents]
    rows = np.array(
        [(i, nc + j) for i in range(nc) for j in range(no) for _ in range(rounds)], np.int64
    )
    positions = np.array(
        [
            [
                drq_positions(
                    [pool[i].length, pool[j].length], settings.core_size, settings.distance, r
                )
            ]
            for i in range(nc)
            for j in range(nc, nc + no)
            for r in range(rounds)
        ],
        np.int64,
    )
    res = run_battles_on(
        None,
        pool,
        rows,
        settings.with_(rounds=1, warriors=2),
        np.zeros(len(rows), np.int64),
        track=False,
        until="all_dead",
        positions=positions,
        on_progress=None if on_progress is None else lambda k: on_progress(k / rounds),
    )
    life = lifetimes(res.executed[:, 0, :], res.alive[:, 0, :], settings.cycles)
    scores = melee_scores(life, settings.cycles).reshape(nc, no, rounds, 2).mean(axis=2)
    return scores[..., 0], scores[..., 1]


def _pmars_wins(
    champions,
    opponents,
    settings: Settings,
    rounds: int,
    seed: int,
    on_progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rounds won and lost [champion, opponent] in pMARS battles."""
    nc, no = len(champions), len(opponents)
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
        w, lost = res.wins(), res.losses()
        for k, (i, j) in enumerate(part):
            wins[i, j - nc] = w[k, 0]
            losses[i, j - nc] = lost[k, 0]
        if on_progress is not None:
            on_progress(len(part))
    return wins, losses


def evaluate_run(
    run,
    against: str | Path,
    *,
    rounds: int = 20,
    seed: int = 0,
    measure: str = "drq",
    on_progress: Callable[[int], None] | None = None,
) -> dict:
    """Generality of every champion of ``run`` against the .red files in ``against``; saved as eval.json."""
    from primordium.redqueen.loop import champions, load_config

    if rounds < 1:
        raise ConfigError(f"rounds: must be at least 1, got {rounds}")
    if measure not in MEASURES:
        raise ConfigError(f"measure: unknown value {measure!r} (known: {', '.join(MEASURES)})")
    config = load_config(run)
    settings = config.settings()
    champs = []
    for rnd, path in champions(run):
        champs.append((rnd, path, assemble(read_text_file(path), settings, file=str(path))))
    if not champs:
        raise PrimordiumError(f"run {run.id} has no champions yet")
    opponents, skipped = load_dir(against, settings)
    if not opponents:
        raise ConfigError(
            f"against: none of the warriors in {against} assemble for this run's core settings",
            field="against",
        )
    rows = generality(
        [(r, w) for r, _, w in champs],
        opponents,
        settings,
        rounds=rounds,
        seed=seed,
        measure=measure,
        on_progress=on_progress,
    )
    keys = ("round", "champion", "generality", "wins", "ties", "losses", "name") + (
        ("score", "scores") if measure == "drq" else ()
    )
    for row, (_, path, w) in zip(rows, champs, strict=False):
        row["champion"] = str(path)
        row["name"] = w.name
    result = {
        "against": str(Path(against).expanduser()),
        "opponents": len(opponents),
        "skipped": skipped,
        "measure": measure,
        "battle_rounds": rounds,
        "opponent_files": [name for name, _ in opponents],
        "rounds": [{k: r[k] for k in keys} for r in rows],
    }
    if measure == "pmars":
        result["seed"] = seed
    run.write_json("eval.json", result)
    # The newest champion's generality is the run's headline (cards, `runs list`).
    run.update_summary(champion_generality=result["rounds"][-1]["generality"])
    from primordium.redqueen.plots import generality_figure
    from primordium.viz import save

    save(generality_figure(result), run.artifact("generality.png"))
    return result

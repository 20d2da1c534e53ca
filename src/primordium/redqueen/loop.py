"""The DRQ experiment: rounds of MAP-Elites against the last K champions, into the run store.

Every random choice of iteration i of round t derives from (seed, t, i), and
the state is checkpointed after every batch of iterations, so a run killed at
any moment continues from its last batch and, with the offline operator,
ends exactly as an uninterrupted run with the same seed.

Run folder::

    config.json             the DRQConfig (never the API key)
    opponents/*.red         the initial opponents' sources, as they were at the start
    candidates.jsonl        every proposal: source, fitness, descriptors, cell, parents, operator, round
    llm_calls.jsonl         every LLM request: reply, tokens, attempts, latency, error
    rounds/round_NNN.json   each finished round's archive
    champions/round_NNN.red each round's champion
    checkpoint.npz          where to continue
    *.png                   pictures (see plots.py)

Append-only files are cut back to the length the checkpoint recorded before
a resumed run writes anything, so a kill mid-write loses nothing and
duplicates nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from primordium.corewar.isa import Warrior
from primordium.corewar.redcode import assemble
from primordium.corewar.warriors import builtin_warriors
from primordium.errors import AssemblyError, ConfigError, StoreError, read_text_file
from primordium.redqueen.archive import Archive, Elite
from primordium.redqueen.config import DRQConfig, from_dict
from primordium.redqueen.fitness import drq_round_seeds, evaluate, round_seeds
from primordium.redqueen.mutation import Job, Operator, Proposal, make_operator
from primordium.store import Run, Store, load_checkpoint, save_checkpoint
from primordium.store.reading import DamagedStore, read_json_file

ENGINE = "redqueen"
CHECKPOINT = "checkpoint.npz"
CANDIDATES = "candidates.jsonl"
LLM_CALLS = "llm_calls.jsonl"
Progress = Callable[[dict], None]


@dataclass
class State:
    """Everything needed to continue a run (JSON in the checkpoint)."""

    round: int = 1  # 1-based, as the paper counts
    iteration: int = -1  # next iteration of this round; -1: its initial warriors are still to come
    archive: dict[str, Any] | None = None  # the current round's archive (JSON)
    champions: list[dict[str, Any] | None] = field(default_factory=list)  # one per finished round
    next_id: int = 0
    last_step: int = -1  # last metrics step written
    files: dict[str, int] = field(default_factory=lambda: {CANDIDATES: 0, LLM_CALLS: 0})
    stats: dict[str, int] = field(
        default_factory=lambda: {
            "proposed": 0,
            "evaluated": 0,
            "invalid": 0,
            "placed": 0,
            "llm_calls": 0,
            "llm_failed": 0,
            "llm_no_code": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
        }
    )

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def step_of(config: DRQConfig, round_: int, iteration: int) -> int:
    """Metrics step: rounds laid end to end, each (initial warriors, iterations 0..n-1)."""
    return (round_ - 1) * (config.iterations + 1) + iteration + 1


DRQ_OPPONENTS = Path(__file__).resolve().parent / "opponents"


def resolve_opponent(spec: str) -> Path:
    """A built-in warrior's name (DRQ's own, such as drq-imp, or Core War's) or a .red file."""
    builtins = {p.stem: p for p in sorted(DRQ_OPPONENTS.glob("*.red"))} | builtin_warriors()
    if spec in builtins:
        return builtins[spec]
    p = Path(spec).expanduser()
    if not p.is_file():
        raise ConfigError(
            f"initial opponent {spec!r}: not a built-in warrior ({', '.join(builtins)}) nor a file"
        )
    return p


class Experiment:
    """One run of DRQ; ``run()`` goes on until all rounds are done."""

    def __init__(
        self,
        run: Run,
        config: DRQConfig,
        state: State,
        operator: Operator,
        on_progress: Progress | None = None,
        executor=None,
    ):
        self.run = run
        self.executor = executor  # where candidate battles run; never changes a result
        self.config = config
        self.state = state
        self.operator = operator
        self.on_progress = on_progress
        self.settings = config.settings()
        self.opponents = self._load_opponents()

    # -- setup -------------------------------------------------------------
    def _load_opponents(self) -> list[Warrior]:
        out = []
        for p in sorted((self.run.dir / "opponents").glob("*.red")):
            out.append(assemble(read_text_file(p), self.settings, file=str(p)))
        return out

    def _recent_champions(self) -> list[dict[str, Any]]:
        """The last K rounds' champions (every one when K is None); rounds without one are skipped."""
        k = self.config.history
        recent = self.state.champions if k is None else self.state.champions[-k:] if k > 0 else []
        return [c for c in recent if c is not None]

    def _champion_warriors(self) -> list[Warrior]:
        return [assemble(c["source"], self.settings) for c in self._recent_champions()]

    # -- one batch -----------------------------------------------------------
    def _jobs(self, archive: Archive) -> tuple[list[Job], int]:
        c, s = self.config, self.state
        if s.iteration < 0:
            jobs = [Job("new", s.round, -1, k, c.seed) for k in range(c.n_init)]
            return jobs, 0
        jobs = []
        n = min(c.batch, c.iterations - s.iteration)
        for it in range(s.iteration, s.iteration + n):
            rng = np.random.default_rng([c.seed, s.round, it + 1, 0, 3])
            # Several responses share the iteration's choice and parent, as in the public code.
            if rng.random() < c.p_new or len(archive) == 0:
                jobs += [Job("new", s.round, it, k, c.seed) for k in range(c.responses)]
            else:
                parent = archive.sample(rng)
                other = archive.sample(rng) if len(archive) > 1 else None
                jobs += [
                    Job("mutate", s.round, it, k, c.seed, parent=parent, other=other)
                    for k in range(c.responses)
                ]
        return jobs, s.iteration + n

    def _warmups(self) -> list[Proposal]:
        """Round-start candidates that need no operator: the opponents and past champions themselves."""
        c, s = self.config, self.state
        out = []
        slot = c.n_init
        if c.warmup_opponents:
            for w in self.opponents:
                out.append(
                    Proposal(Job("new", s.round, -1, slot, c.seed), w.source, "warmup-opponent")
                )
                slot += 1
        if c.warmup_champions:
            for ch in self._recent_champions():
                out.append(
                    Proposal(
                        Job("new", s.round, -1, slot, c.seed),
                        ch["source"],
                        "warmup-champion",
                        reply=ch.get("reply"),
                    )
                )
                slot += 1
        return out

    def step(self) -> bool:
        """Run one batch (or a round's initial warriors); False once every round is done."""
        c, s = self.config, self.state
        if s.round > c.rounds:
            return False
        archive = Archive.from_json(s.archive) if s.archive else Archive(c.descriptors)
        jobs, next_iteration = self._jobs(archive)
        proposals = self.operator.propose(jobs) if jobs else []
        if s.iteration < 0:
            proposals += self._warmups()

        # Assemble everything first; evaluate what assembled in one batch.
        warriors: list[Warrior | None] = []
        errors: list[str | None] = []
        for p in proposals:
            if p.source is None:
                warriors.append(None)
                errors.append(p.error)
                continue
            try:
                warriors.append(assemble(p.source, self.settings))
                errors.append(None)
            except AssemblyError as e:
                warriors.append(None)
                errors.append(f"does not assemble: {e}")
        valid = [i for i, w in enumerate(warriors) if w is not None]
        if c.placement == "drq":
            # The public code's placements: battle round r seeded with r for every candidate.
            seeds = drq_round_seeds(len(valid), c.battle_rounds)
        else:
            # pMARS placements drawn from where the candidate stands in the run, so a resumed
            # or re-batched run draws the same ones.
            seeds = np.array(
                [
                    round_seeds(
                        c.seed,
                        s.round,
                        proposals[i].job.iteration,
                        proposals[i].job.slot,
                        c.battle_rounds,
                    )
                    for i in valid
                ],
                np.int64,
            ).reshape(len(valid), c.battle_rounds)
        # Candidate first, then the initial opponents, then the recent champions, as the public code orders them.
        evals = dict(
            zip(
                valid,
                evaluate(
                    [warriors[i] for i in valid],
                    self.opponents + self._champion_warriors(),
                    self.settings,
                    seeds,
                    self.executor,
                    placement=c.placement,
                ),
                strict=False,
            )
        )

        records, calls, metrics = [], [], []
        for i, p in enumerate(proposals):
            cid = s.next_id
            s.next_id += 1
            s.stats["proposed"] += 1
            rec = {
                "id": cid,
                "round": s.round,
                "iteration": p.job.iteration,
                "slot": p.job.slot,
                "operator": p.operator,
                "parents": [e.id for e in (p.job.parent, p.job.other) if e is not None]
                if p.job.kind == "mutate"
                else [],
                "source": p.source,
                "valid": i in evals,
                "error": errors[i],
                "fitness": None,
                "descriptors": None,
                "cell": None,
                "placed": False,
            }
            if i in evals:
                ev = evals[i]
                # single_cell: the public code's ablation, one cell for all (selection by fitness alone).
                cell = (0, 0) if c.single_cell else archive.cell_of(ev.descriptors)
                elite = Elite(
                    cid,
                    ev.fitness,
                    cell,
                    ev.descriptors,
                    p.source,
                    warriors[i].name,
                    p.operator,
                    rec["parents"],
                    reply=p.reply,
                )
                rec.update(
                    fitness=ev.fitness,
                    descriptors=ev.descriptors,
                    cell=list(elite.cell),
                    name=warriors[i].name,
                    placed=archive.place(elite),
                )
                s.stats["evaluated"] += 1
                s.stats["placed"] += int(rec["placed"])
            else:
                s.stats["invalid"] += 1
            for call in p.calls:
                calls.append(call | {"candidate": cid})
                s.stats["llm_calls"] += 1
                s.stats["llm_failed"] += int(not call["ok"])
                s.stats["llm_no_code"] += int(call["ok"] and p.source is None)
                s.stats["prompt_tokens"] += call["prompt_tokens"]
                s.stats["completion_tokens"] += call["completion_tokens"]
            records.append(rec)
            if p.job.iteration >= 0:
                metrics.append(
                    (
                        step_of(c, s.round, p.job.iteration),
                        {
                            "kind": "iteration",
                            "round": s.round,
                            "iteration": p.job.iteration,
                            "fitness": rec["fitness"],
                            "placed": rec["placed"],
                            "operator": p.operator,
                            "best": _finite(archive.best_fitness()),
                            "archive": len(archive),
                        },
                    )
                )
        if s.iteration < 0:
            metrics.append(
                (
                    step_of(c, s.round, -1),
                    {
                        "kind": "init",
                        "round": s.round,
                        "best": _finite(archive.best_fitness()),
                        "archive": len(archive),
                    },
                )
            )

        self._append(CANDIDATES, records)
        self._append(LLM_CALLS, calls)
        for step, row in metrics:
            self.run.log(step, **row)
            s.last_step = max(s.last_step, step)
        initial = s.iteration < 0
        s.iteration = next_iteration
        s.archive = archive.to_json()
        # The public code tests the threshold before each iteration, so the
        # first iteration always runs, whatever the initial warriors scored.
        if s.iteration >= c.iterations or (not initial and archive.best_fitness() > c.threshold):
            self._finish_round(archive)
        self._checkpoint()
        if self.on_progress is not None:
            self.on_progress(
                {
                    "round": s.round,
                    "iteration": s.iteration,
                    "best": _finite(archive.best_fitness()),
                    "completed": self.completed(),
                }
            )
        return s.round <= c.rounds

    def completed(self) -> int:
        """Steps done, counting skipped iterations of rounds that ended early."""
        c, s = self.config, self.state
        return (s.round - 1) * (c.iterations + 1) + (s.iteration + 1 if s.round <= c.rounds else 0)

    def total(self) -> int:
        return self.config.rounds * (self.config.iterations + 1)

    def _finish_round(self, archive: Archive) -> None:
        s = self.state
        champ = archive.best()
        tag = f"round_{s.round:03d}"
        self.run.write_json(f"rounds/{tag}.json", archive.to_json() | {"round": s.round})
        if champ is not None:
            self.run.write_text(f"champions/{tag}.red", champ.source)
        step = step_of(self.config, s.round, min(s.iteration, self.config.iterations) - 1)
        row = {
            "kind": "round",
            "round": s.round,
            "iterations": max(s.iteration, 0),
            "archive": len(archive),
            "champion": champ.id if champ else None,
            "fitness": champ.fitness if champ else None,
        }
        if champ is not None:
            row["descriptors"] = champ.descriptors
        self.run.log(step, **row)
        s.last_step = max(s.last_step, step)
        s.champions.append(champ.to_json() if champ is not None else None)
        s.round += 1
        s.iteration = -1
        s.archive = None

    # -- storage ----------------------------------------------------------------
    def _append(self, name: str, rows: list[dict]) -> None:
        path = self.run.artifact(name)
        if rows:
            with open(path, "ab") as f:
                f.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode())
                f.flush()
                os.fsync(f.fileno())
        self.state.files[name] = path.stat().st_size if path.exists() else 0

    def _checkpoint(self) -> None:
        s = self.state
        save_checkpoint(self.run.dir / CHECKPOINT, {}, s.to_json())
        self.run.update_summary(
            round=min(s.round, self.config.rounds),
            rounds=self.config.rounds,
            champions=sum(ch is not None for ch in s.champions),
            # The latest round's champion: what the gallery's card and `runs list` show.
            champion=next((f"#{ch['id']}" for ch in reversed(s.champions) if ch), None),
            best=_finite(max((ch["fitness"] for ch in s.champions if ch), default=float("-inf"))),
            **s.stats,
        )

    def run_all(self) -> Run:
        with self.run.running():
            while self.step():
                pass
            from primordium.redqueen.plots import write_run_plots

            write_run_plots(self.run)
        return self.run


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _cut(path: Path, size: int) -> None:
    """Drop what was appended after the checkpoint (a half-written line, a batch to be redone)."""
    if path.exists():
        with open(path, "r+b") as f:
            f.truncate(size)
    elif size:
        raise StoreError(
            f"{path.name} is missing but the checkpoint expects {size} bytes", file=path
        )


def open_experiment(
    store: Store,
    config: DRQConfig | None = None,
    *,
    resume: str | None = None,
    name: str | None = None,
    api_key: str | None = None,
    on_progress: Progress | None = None,
    executor=None,
) -> Experiment:
    """Start a run (or continue ``resume``) and return it ready to ``run_all()``."""
    if resume is not None:
        run = store.open(resume)
        if run.engine != ENGINE:
            raise StoreError(f"run {run.id} is a {run.engine} run, not a redqueen run")
        run.require_folder()
        config = load_config(run)
        ck = run.dir / CHECKPOINT
        if ck.exists():
            _, raw = load_checkpoint(ck)
            try:
                state = State(**raw)
            except TypeError:
                raise StoreError("corrupt checkpoint (unexpected state)", file=ck) from None
        else:
            state = State()  # killed before its first checkpoint: start over
        for fname, size in state.files.items():
            _cut(run.dir / fname, size)
        run.truncate_metrics(state.last_step)
        operator = make_operator(config, api_key)
        return Experiment(run, config, state, operator, on_progress, executor)

    config = (config or DRQConfig()).validate()
    paths = [resolve_opponent(o) for o in config.initial_opponents]
    settings = config.settings()
    sources = []
    for p in paths:
        text = read_text_file(p)
        assemble(text, settings, file=str(p))  # refuse a bad opponent before the run exists
        sources.append((p.stem, text))
    # A bad LLM setting or unreachable server fails here, before the run exists.
    operator = make_operator(config, api_key)
    run = store.create(ENGINE, {"drq": config.to_dict()}, name=name)
    for k, (stem, text) in enumerate(sources):
        run.write_text(f"opponents/{k:02d}_{stem}.red", text)
    return Experiment(run, config, State(), operator, on_progress, executor)


def load_config(run: Run) -> DRQConfig:
    raw = run.config.get("drq")
    if not isinstance(raw, dict):
        raise StoreError(f"run {run.id} has no DRQ config", file=run.dir / "config.json")
    return from_dict(raw, where=str(run.dir / "config.json")).validate(str(run.dir / "config.json"))


def run_drq(store: Store, config: DRQConfig | None = None, **kw: Any) -> Run:
    return open_experiment(store, config, **kw).run_all()


# -- reading a run back ------------------------------------------------------


def candidates(run: Run) -> list[dict[str, Any]]:
    path = run.dir / CANDIDATES
    if not path.exists():
        return []
    out = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut by a kill; the next resume drops it
    return out


def archives(run: Run) -> list[Archive]:
    """The finished rounds' archives, in order."""
    out = []
    for p in sorted((run.dir / "rounds").glob("round_*.json")):
        raw = read_json_file(p, expect=dict, what="round archive")
        try:
            out.append(Archive.from_json(raw))
        except (KeyError, TypeError, ValueError) as e:
            # Valid JSON of the wrong shape (an edited or foreign file).
            raise DamagedStore(f"damaged round archive ({type(e).__name__}: {e})", file=p) from None
    return out


class Rounds(list):
    """The finished rounds of a DRQ run, one dict each (``rounds(run)``); ``to_pandas()`` tabulates them."""

    def __repr__(self) -> str:
        if not self:
            return "Rounds(none finished)"
        last = self[-1]
        champ = f"#{last['champion']} {last['name']!r}" if last["champion"] is not None else "none"
        return f"Rounds({len(self)} finished; round {last['round']} champion {champ})"

    def to_pandas(self):
        from primordium.tables import frame

        return frame(self, columns=["round", "champion", "name", "fitness", "archive"])


def rounds(run: Run) -> Rounds:
    """Per finished round: its number, archive size, champion (id, name, fitness, descriptors)."""
    out = Rounds()
    for p in sorted((run.dir / "rounds").glob("round_*.json")):
        doc = json.loads(p.read_text("utf-8"))
        best = Archive.from_json(doc).best()
        row: dict[str, Any] = {
            "round": int(doc.get("round", p.stem.split("_")[1])),
            "champion": best.id if best else None,
            "name": best.name if best else None,
            "fitness": best.fitness if best else None,
            "archive": len(doc["elites"]),
        }
        if best is not None:
            row |= best.descriptors
        out.append(row)
    return out


def champions(run: Run) -> list[tuple[int, Path]]:
    """(round, .red file) of every champion written so far."""
    return [
        (int(p.stem.split("_")[1]), p) for p in sorted((run.dir / "champions").glob("round_*.red"))
    ]


def quickstart_config(seed: int = 0) -> DRQConfig:
    """Small offline settings (short battles, few rounds): well under two minutes on two cores.

    The threshold is out of reach so every round runs all its iterations: a
    demo should show evolution, not the paper's early stop. The operator is
    the offline one (the paper's default asks an LLM), without warm-up.
    """
    from primordium.redqueen.config import CoreConfig

    return DRQConfig(
        seed=seed,
        rounds=5,
        iterations=48,
        history=5,
        n_init=8,
        battle_rounds=8,
        batch=4,
        threshold=100.0,
        operator="offline",
        initial_opponents=("imp",),
        warmup_opponents=False,
        warmup_champions=False,
        core=CoreConfig(core_size=8000, cycles=10000, processes=8000, length=40, distance=100),
    )


def quickstart_run(store: Store, seed: int = 0, on_progress: Progress | None = None) -> Run:
    """A short offline DRQ demo into ``store``; returns the finished run (pictures included)."""
    return run_drq(
        store, quickstart_config(seed), name=f"quickstart-drq-{seed}", on_progress=on_progress
    )

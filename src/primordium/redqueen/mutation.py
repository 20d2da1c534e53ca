"""Mutation operators: one interface, an LLM, offline instruction-level edits or the strategy grammar (strategy.py).

An operator turns a batch of jobs ("write a new warrior", "improve this one")
into proposals: Redcode source text or a reason there is none. The loop
assembles every proposal itself, so an operator's output, whoever wrote it,
is only ever data for the assembler and the MARS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from primordium.corewar.isa import MODE_SYMBOLS, Mod, Op, Settings
from primordium.corewar.redcode import assemble
from primordium.errors import AssemblyError
from primordium.redqueen.archive import Elite


@dataclass
class Job:
    kind: str  # "new" or "mutate"
    round: int
    iteration: int  # -1: the round's initial warriors
    slot: int  # which job of its iteration (initial warriors share iteration -1)
    seed: int
    parent: Elite | None = None
    other: Elite | None = None  # a second elite, for crossover

    def rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.round, self.iteration + 1, self.slot, 7])


@dataclass
class Proposal:
    job: Job
    source: str | None
    operator: str  # what made it: "random", "opcode", "crossover", "llm-new", ...
    error: str | None = None  # why there is no source
    calls: list[dict[str, Any]] = field(default_factory=list)  # LLM call records
    reply: str | None = (
        None  # the whole text the source came from (an LLM's reply), shown when it is mutated
    )


class Operator(Protocol):
    name: str

    def propose(self, jobs: Sequence[Job]) -> list[Proposal]: ...


# -- offline ---------------------------------------------------------------

# Weights lean toward the opcodes human warriors use most; P-space and CMP
# (an alias of SEQ) are left out as they add nothing in a single battle.
_OPS = [
    Op.DAT,
    Op.MOV,
    Op.ADD,
    Op.SUB,
    Op.MUL,
    Op.DIV,
    Op.MOD,
    Op.JMP,
    Op.JMZ,
    Op.JMN,
    Op.DJN,
    Op.SPL,
    Op.SLT,
    Op.SEQ,
    Op.SNE,
    Op.NOP,
]
_OP_W = np.array([8, 16, 8, 4, 2, 1, 2, 8, 4, 4, 6, 10, 2, 3, 3, 1], float)
_OP_W /= _OP_W.sum()
_MOD_W = np.array([1, 3, 3, 1, 2, 1, 4], float)  # A B AB BA F X I
_MOD_W /= _MOD_W.sum()
_MODE_W = np.array([3, 4, 2, 1, 2, 1, 1, 1], float)  # # $ @ < > * { }
_MODE_W /= _MODE_W.sum()
_MUTATIONS = (
    "opcode",
    "modifier",
    "a_mode",
    "b_mode",
    "a_number",
    "b_number",
    "insert",
    "delete",
    "duplicate",
)
_MAX_NEW = 12  # longest random new warrior


def to_source(rows: Sequence[Sequence[int]], start: int, core_size: int, name: str) -> str:
    """Redcode text for instruction rows ``[op, mod, amode, a, bmode, b]``."""

    def num(x: int) -> int:
        x %= core_size
        return x - core_size if x > core_size // 2 else x

    lines = [
        ";redcode-94",
        f";name {name}",
        ";author primordium offline operator",
        f"        ORG     {start}",
    ]
    for op, mod, am, a, bm, b in rows:
        lines.append(
            f"        {Op(op).name}.{Mod(mod).name:<2} {MODE_SYMBOLS[am]}{num(a)}, {MODE_SYMBOLS[bm]}{num(b)}"
        )
    lines.append("        END")
    return "\n".join(lines) + "\n"


class OfflineOperator:
    """Random warriors, point mutations, line edits and one-point crossover."""

    name = "offline"

    def __init__(self, settings: Settings, crossover: float = 0.1, extra: float = 0.3):
        self.settings = settings
        self.crossover = crossover  # chance a mutation job is a crossover (when there is a partner)
        self.extra = extra  # chance of each further point mutation

    def propose(self, jobs: Sequence[Job]) -> list[Proposal]:
        return [self._one(j) for j in jobs]

    # Numbers: mostly offsets within reach of the warrior, sometimes anywhere in the core.
    def _number(self, rng: np.random.Generator, length: int) -> int:
        if rng.random() < 0.2:
            return int(rng.integers(self.settings.core_size))
        reach = length + 8
        return int(rng.integers(-reach, reach + 1)) % self.settings.core_size

    def _row(self, rng: np.random.Generator, length: int) -> list[int]:
        return [
            int(rng.choice(_OPS, p=_OP_W)),
            int(rng.choice(7, p=_MOD_W)),
            int(rng.choice(8, p=_MODE_W)),
            self._number(rng, length),
            int(rng.choice(8, p=_MODE_W)),
            self._number(rng, length),
        ]

    def _name(self, job: Job, what: str) -> str:
        return f"{what} r{job.round}i{job.iteration}s{job.slot}"

    def _one(self, job: Job) -> Proposal:
        rng = job.rng()
        cs = self.settings.core_size
        limit = self.settings.length
        if job.kind == "new" or job.parent is None:
            n = int(rng.integers(1, min(_MAX_NEW, limit) + 1))
            rows = [self._row(rng, n) for _ in range(n)]
            start = int(rng.integers(n)) if rng.random() < 0.3 else 0
            return Proposal(job, to_source(rows, start, cs, self._name(job, "random")), "random")
        try:
            parent = assemble(job.parent.source, self.settings)
        except AssemblyError as e:  # an elite always assembled once; a different core may break it
            return Proposal(job, None, "mutate", error=f"parent does not assemble: {e}")
        rows = [list(map(int, r)) for r in np.asarray(parent.code)]
        start = parent.start
        if job.other is not None and rng.random() < self.crossover:
            try:
                other = assemble(job.other.source, self.settings)
            except AssemblyError as e:
                return Proposal(job, None, "crossover", error=f"partner does not assemble: {e}")
            o_rows = [list(map(int, r)) for r in np.asarray(other.code)]
            i = int(rng.integers(1, len(rows) + 1))
            j = int(rng.integers(0, len(o_rows) + 1))
            rows = (rows[:i] + o_rows[j:])[:limit]
            start = start if start < len(rows) else 0
            return Proposal(
                job, to_source(rows, start, cs, self._name(job, "crossover")), "crossover"
            )
        done = []
        while True:
            what = _MUTATIONS[int(rng.integers(len(_MUTATIONS)))]
            rows, start = self._mutate(rng, rows, start, what)
            done.append(what)
            if rng.random() >= self.extra:
                break
        return Proposal(job, to_source(rows, start, cs, self._name(job, "mutant")), "+".join(done))

    def _mutate(self, rng: np.random.Generator, rows: list[list[int]], start: int, what: str):
        n = len(rows)
        k = int(rng.integers(n))
        cs = self.settings.core_size
        if what == "opcode":
            rows[k][0] = int(rng.choice(_OPS, p=_OP_W))
        elif what == "modifier":
            rows[k][1] = int(rng.choice(7, p=_MOD_W))
        elif what in ("a_mode", "b_mode"):
            rows[k][2 if what == "a_mode" else 4] = int(rng.choice(8, p=_MODE_W))
        elif what in ("a_number", "b_number"):
            f = 3 if what == "a_number" else 5
            if rng.random() < 0.7:
                step = int(rng.integers(1, 6)) * (1 if rng.random() < 0.5 else -1)
                rows[k][f] = (rows[k][f] + step) % cs
            else:
                rows[k][f] = self._number(rng, n)
        elif what == "insert" and n < self.settings.length:
            rows.insert(int(rng.integers(n + 1)), self._row(rng, n))
        elif what == "duplicate" and n < self.settings.length:
            rows.insert(k + 1, list(rows[k]))
        elif what == "delete" and n > 1:
            del rows[k]
            if start > k or start >= len(rows):
                start = max(0, start - 1)
        return rows, start


def make_operator(config, api_key: str | None = None) -> Operator:
    """The operator a config asks for."""
    from primordium.errors import ConfigError

    settings = config.settings()
    if config.operator == "offline":
        return OfflineOperator(settings)
    if config.operator == "strategy":
        from primordium.redqueen.strategy import StrategyOperator

        return StrategyOperator(settings, corpus=config.corpus)
    if config.operator == "llm":
        from primordium.redqueen.llm import LLMOperator

        return LLMOperator(config.llm, settings, api_key=api_key)
    raise ConfigError(f"unknown operator {config.operator!r} (known: offline, strategy, llm)")

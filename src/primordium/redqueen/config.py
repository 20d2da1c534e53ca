"""One DRQ experiment's settings: a dataclass, read from TOML and overridden by flags.

Defaults are those of the full run in the public DRQ code's README (Kumar et
al. 2026): 20 rounds of 250 iterations, the last 20 champions, 20 battle
rounds, warm-up with the initial opponents and past champions, its imp, its
pinned model at temperature 1.0 and seed 0, no max_tokens. Every mistake
names its field: ``drq.toml: field 'p_new': must be between 0 and 1, got 1.5``.

TOML layout: DRQ fields at the top level, the MARS in ``[core]`` and the
language model in ``[llm]``::

    rounds = 20
    iterations = 250
    history = "all"
    operator = "offline"
    [core]
    core_size = 8000
    [llm]
    base_url = "http://localhost:8000/v1"
    model = "qwen2.5-coder"
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from primordium.corewar.isa import Settings
from primordium.errors import ConfigError

OPERATORS = ("offline", "strategy", "llm")
PARENT_TEXTS = ("reply", "code")  # what {warrior} holds in the mutate prompt
EXTRACTIONS = ("blocks", "strip-fences")  # how Redcode is taken from a reply (see llm.extract_code)


# The fields a config's [core] table sets. Rounds and warriors are chosen per
# battle (battle_rounds, the size of a melee), so they are not config fields.
CORE_FIELDS = ("core_size", "cycles", "processes", "length", "distance")


@dataclass(frozen=True)
class CoreConfig(Settings):
    """The MARS every battle runs in (paper: the ICWS'94 hill).

    It is ``isa.Settings`` itself, so the MARS's fields and defaults are
    defined once; a config file sets the ``CORE_FIELDS`` of it.
    """

    def settings(self, rounds: int = 1, warriors: int = 2) -> Settings:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(Settings)}
        return Settings(**fields).with_(rounds=rounds, warriors=warriors)


@dataclass(frozen=True)
class LLMConfig:
    """An OpenAI-compatible chat-completions endpoint. The key itself is never stored."""

    base_url: str | None = None  # None: the openai client's default (or OPENAI_BASE_URL)
    model: str = "gpt-4.1-mini-2025-04-14"  # pinned, as the public code pins it
    temperature: float = 1.0
    max_tokens: int | None = (
        None  # None: not sent, the server's own limit (the public code sends none)
    )
    seed: int | None = 0  # sent with every request, as the public code does; None: not sent
    parent: str = "reply"  # {warrior} in the mutate prompt: the parent's whole reply (the public code) or its code
    extract: str = (
        "blocks"  # every fenced block (else the whole reply), or "strip-fences" (the public code)
    )
    api_key_env: str = "OPENAI_API_KEY"  # the environment variable that holds the key
    # Seconds for a whole request: connect, send, wait and read (a server that trickles its
    # reply is cut off here, not after each quiet spell).
    timeout: float = 120.0
    max_reply_bytes: int = 4 * 2**20  # a bigger reply is cut off unread and fails like a 500
    retries: int = 4  # extra attempts after a timeout, 5xx, 429, dropped connection or junk reply
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    concurrency: int = 8  # requests in flight at once
    system_prompt: str | None = None  # a file; None: the prompt shipped with primordium
    new_prompt: str | None = None
    mutate_prompt: str | None = None


@dataclass(frozen=True)
class DRQConfig:
    seed: int = 0
    rounds: int = 20  # T
    iterations: int = 250  # per round
    history: int | None = (
        20  # K: champions of the last K rounds are opponents; None ("all"): every one
    )
    p_new: float = 0.1  # probability that an iteration asks for a new warrior
    n_init: int = 8  # new warriors at the start of each round
    threshold: float = 0.8  # a round ends early once its best fitness passes this
    battle_rounds: int = 20  # R: battle rounds per fitness evaluation
    batch: int = 1  # iterations proposed from one archive state and evaluated together
    responses: int = (
        1  # candidates per iteration, all from the same parent (the public code's n_mutate)
    )
    single_cell: bool = False  # ablation: every candidate competes for one cell (no diversity)
    # Where warriors load in a battle round: "drq" (the public code's slices, round r seeded with r,
    # the same R placements for every candidate) or "pmars" (pMARS's placements, drawn per candidate).
    placement: str = "drq"
    descriptors: tuple[str, str] = ("spawned", "coverage")
    initial_opponents: tuple[str, ...] = ("drq-imp",)  # built-in names or .red files
    warmup_opponents: bool = True  # evaluate the initial opponents as round-start candidates
    warmup_champions: bool = True  # likewise the past champions
    operator: str = "llm"
    corpus: str | None = (
        None  # strategy operator: a folder of .red files some new warriors are drawn from
    )
    core: CoreConfig = field(default_factory=CoreConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)

    def validate(self, where: str = "config") -> DRQConfig:
        from primordium.redqueen.descriptors import DESCRIPTORS
        from primordium.redqueen.fitness import PLACEMENTS

        def bad(name: str, msg: str) -> ConfigError:
            return ConfigError(f"{where}: field {name!r}: {msg}")

        for name, lo in (
            ("rounds", 1),
            ("iterations", 0),
            ("history", 0),
            ("n_init", 0),
            ("battle_rounds", 1),
            ("batch", 1),
            ("responses", 1),
        ):
            v = getattr(self, name)
            if v is not None and v < lo:
                raise bad(name, f"must be at least {lo}, got {v}")
        if not 0.0 <= self.p_new <= 1.0:
            raise bad("p_new", f"must be between 0 and 1, got {self.p_new}")
        if len(self.descriptors) != 2 or self.descriptors[0] == self.descriptors[1]:
            raise bad("descriptors", f"needs two different names, got {list(self.descriptors)}")
        for d in self.descriptors:
            if d not in DESCRIPTORS:
                raise bad(
                    "descriptors", f"unknown descriptor {d!r} (known: {', '.join(DESCRIPTORS)})"
                )
        if self.placement not in PLACEMENTS:
            raise bad(
                "placement",
                f"unknown placement {self.placement!r} (known: {', '.join(PLACEMENTS)})",
            )
        if self.operator not in OPERATORS:
            raise bad(
                "operator", f"unknown operator {self.operator!r} (known: {', '.join(OPERATORS)})"
            )
        c = self.core
        for name, lo in (
            ("core_size", 2),
            ("cycles", 1),
            ("processes", 1),
            ("length", 1),
            ("distance", 0),
        ):
            if getattr(c, name) < lo:
                raise bad(f"core.{name}", f"must be at least {lo}, got {getattr(c, name)}")
        if c.length > c.core_size:
            raise bad("core.length", f"{c.length} is longer than the core ({c.core_size})")
        k = self.rounds - 1 if self.history is None else self.history
        n = 1 + len(self.initial_opponents) + k
        if n * c.distance > c.core_size:
            raise bad(
                "core.distance",
                f"{n} warriors (1 + {len(self.initial_opponents)} opponents + {k} "
                f"champions) at distance {c.distance} do not fit in a core of {c.core_size}",
            )
        m = self.llm
        if m.timeout <= 0:
            raise bad("llm.timeout", f"must be positive, got {m.timeout}")
        if m.max_reply_bytes < 1024:
            raise bad("llm.max_reply_bytes", f"must be at least 1024, got {m.max_reply_bytes}")
        if m.retries < 0:
            raise bad("llm.retries", f"must be at least 0, got {m.retries}")
        if m.backoff < 0:
            raise bad("llm.backoff", f"must be at least 0, got {m.backoff}")
        if m.concurrency < 1:
            raise bad("llm.concurrency", f"must be at least 1, got {m.concurrency}")
        if m.max_tokens is not None and m.max_tokens < 1:
            raise bad("llm.max_tokens", f"must be at least 1, got {m.max_tokens}")
        if m.parent not in PARENT_TEXTS:
            raise bad("llm.parent", f"must be one of {', '.join(PARENT_TEXTS)}, got {m.parent!r}")
        if m.extract not in EXTRACTIONS:
            raise bad("llm.extract", f"must be one of {', '.join(EXTRACTIONS)}, got {m.extract!r}")
        return self

    def settings(self, warriors: int = 2) -> Settings:
        return self.core.settings(rounds=1, warriors=warriors)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["core"] = {k: d["core"][k] for k in CORE_FIELDS}
        d["descriptors"] = list(self.descriptors)
        d["initial_opponents"] = list(self.initial_opponents)
        if self.history is None:
            d["history"] = "all"  # JSON and TOML have no None
        return d


_SECTIONS = {"core": CoreConfig, "llm": LLMConfig}


def _coerce(cls: type, name: str, value: Any, where: str) -> Any:
    """Check a TOML value against the field's declared type (dataclass annotations are strings)."""
    ftype = {f.name: f.type for f in dataclasses.fields(cls)}[name]
    prefix = {CoreConfig: "core.", LLMConfig: "llm."}.get(cls, "")

    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{where}: field {prefix + name!r}: expected {expected}, got {value!r}")

    if ftype == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if ftype == "int | None":
        # TOML has no null: history says "all", the others "none" (JSON's null also works).
        word = "all" if name == "history" else "none"
        if value is None or value == word:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(f"an integer or {word!r}")
        return value
    if ftype == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if ftype == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if ftype == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if ftype == "str | None":
        if value is not None and not isinstance(value, str):
            raise bad("a string")
        return value
    if ftype.startswith("tuple[str"):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return tuple(value)
    raise AssertionError(f"unhandled field type {ftype}")  # a bug, not a user mistake


def from_dict(
    data: dict[str, Any], where: str = "config", base: DRQConfig | None = None
) -> DRQConfig:
    """Build a config from nested dicts (TOML or JSON), on top of ``base`` (default: the paper's)."""
    base = base or DRQConfig()
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    known = {f.name for f in dataclasses.fields(DRQConfig)}
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: field {key!r}: expected a table")
            cls = _SECTIONS[key]
            sub_known = (
                set(CORE_FIELDS) if cls is CoreConfig else {f.name for f in dataclasses.fields(cls)}
            )
            sub = {}
            for k, v in value.items():
                if k not in sub_known:
                    raise ConfigError(
                        f"{where}: unknown field '{key}.{k}' (known: {', '.join(sorted(sub_known))})"
                    )
                sub[k] = _coerce(cls, k, v, where)
            sections[key] = sub
        elif key in known:
            top[key] = _coerce(DRQConfig, key, value, where)
        else:
            raise ConfigError(f"{where}: unknown field {key!r} (known: {', '.join(sorted(known))})")
    for key, sub in sections.items():
        top[key] = dataclasses.replace(getattr(base, key), **sub)
    return dataclasses.replace(base, **top)


def load_toml(path: str | Path) -> DRQConfig:
    from primordium.errors import read_text_file

    text = read_text_file(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"not valid TOML ({e})", file=path) from None
    return from_dict(data, where=str(path)).validate(str(path))


def with_overrides(config: DRQConfig, overrides: dict[str, Any], where: str = "flags") -> DRQConfig:
    """Apply flag values (None means not given); dotted keys reach into [core] and [llm]."""
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if "." in key:
            sec, sub = key.split(".", 1)
            nested.setdefault(sec, {})[sub] = value
        else:
            nested[key] = value
    return from_dict(nested, where=where, base=config).validate(where)

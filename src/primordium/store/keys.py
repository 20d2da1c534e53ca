"""What a run is known by at a glance: each engine's key summary, and which metric columns are bookkeeping.

The gallery's cards, its compare view and `primordium runs list` all read
these two declarations, so a run shows the same few numbers everywhere.
"""

from __future__ import annotations

import math
from typing import Any

# Summary keys a run's card shows, most telling first. An engine lists every key
# any of its run kinds writes (a soup run and a soup sweep); a run shows those it has.
SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "soup": (
        "transition_epoch",
        "high_order_entropy",
        "median_transition_epoch",
        "fraction_transitioned",
    ),
    "redqueen": ("champion", "champion_generality", "best", "round"),
    "asal": ("best_score", "best", "gens"),
    "corewar": ("champion", "champion_score"),
    # LifeGPT: held-out next-state accuracy per cell and per whole grid, then the loss.
    # NCA pre-pre-training: the loss, the held-out loss, and what the weights started from.
    "learn": ("cell_accuracy", "grid_accuracy", "loss", "val_loss", "init", "rule", "size"),
}
SHOWN = 3  # how many a card (and a line of `runs list`) has room for

# Bookkeeping: where the run is (counters), how long it took (clocks and speeds) and
# how much work it spent. Worth an x-axis, not a chart of its own.
_COUNTERS = {"step", "epoch", "round", "iteration", "gen", "generation", "pairs", "scored"}
_CLOCKS = {"time", "elapsed", "seconds", "wall", "wall_clock", "duration", "mops"}
_TALLIES = {"ops", "total_ops", "llm_calls", "prompt_tokens", "completion_tokens"}
_SUFFIXES = ("_done", "_s", "_seconds", "_time", "_tokens", "_calls")


def key_summary(engine: str, summary: dict[str, Any], limit: int = SHOWN) -> list[tuple[str, Any]]:
    """The (key, value) pairs a run is shown by: its engine's declared keys that the summary has.

    A declared key whose value is None stays (a soup with no transition yet says
    so). An engine without a declaration, or a run with none of its keys, shows
    its first plain values instead, so no card is blank.
    """
    declared = [(k, summary[k]) for k in SUMMARY_KEYS.get(engine, ()) if k in summary]
    if declared:
        return [(k, _plain(v)) for k, v in declared[:limit]]
    plain = [(k, v) for k, v in summary.items() if v is not None and not isinstance(v, dict | list)]
    return plain[:limit]


def _plain(v: Any) -> Any:
    # A list or object (e.g. a champion's descriptors) is too big for a card line.
    return "…" if isinstance(v, dict | list) else v


def is_bookkeeping(column: str) -> bool:
    """True for a counter, clock or tally (see the module doc); ``a.b`` is judged by ``b``."""
    name = column.rsplit(".", 1)[-1].lower()
    singular = name[:-1] if name.endswith("s") and name[:-1] in _COUNTERS else name
    return singular in _COUNTERS or name in _CLOCKS or name in _TALLIES or name.endswith(_SUFFIXES)


def numeric_columns(row: dict[str, Any]) -> dict[str, float]:
    """A metric row's numbers, nested objects flattened one level (``descriptors.coverage``).

    Booleans are flags, not numbers, and are left out; non-finite values are kept
    (the caller decides what a gap is).
    """
    out: dict[str, float] = {}
    for k, v in row.items():
        if _number(v):
            out[k] = v
        elif isinstance(v, dict):
            for k2, v2 in v.items():
                if _number(v2):
                    out[f"{k}.{k2}"] = v2
    return out


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def finite(v: Any) -> bool:
    return _number(v) and math.isfinite(v)

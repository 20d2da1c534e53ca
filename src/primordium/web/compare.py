"""Several runs' metric rows as overlaid series: one metric against one x column, per run."""

from __future__ import annotations

from typing import Any

from primordium.errors import StoreError
from primordium.store.keys import SUMMARY_KEYS, finite, is_bookkeeping, numeric_columns

MAX_RUNS = 12  # more lines than this on one chart cannot be told apart


class BadQuery(StoreError):
    """A compare request that names no runs, too many, or a column none of them has."""


def parse_ids(runs: str | None) -> list[str]:
    ids = list(dict.fromkeys(i for i in (runs or "").split(",") if i))
    if not ids:
        raise BadQuery("runs: give one or more run ids, separated by commas")
    if len(ids) > MAX_RUNS:
        raise BadQuery(f"runs: {len(ids)} runs, at most {MAX_RUNS} can be compared at once")
    return ids


def columns(tables: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every numeric column of any run: its name, whether it is bookkeeping, how many runs have it."""
    have: dict[str, int] = {}
    for rows in tables:
        seen: set[str] = set()
        for r in rows:
            seen.update(numeric_columns(r))
        for k in seen:
            have[k] = have.get(k, 0) + 1
    return [
        {"name": k, "bookkeeping": is_bookkeeping(k), "runs": n}
        for k, n in sorted(have.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def default_metric(cols: list[dict[str, Any]], engines: list[str]) -> str | None:
    """A column the engines' key summaries name (the soup's entropy, ASAL's score), else the
    science column most runs share (ties: alphabetical), else any column."""
    science = [c["name"] for c in cols if not c["bookkeeping"]]
    for engine in dict.fromkeys(engines):
        for key in SUMMARY_KEYS.get(engine, ()):
            if key in science:
                return key
    rest = [c["name"] for c in cols if c["name"] != "step"]
    return (science or rest or [None])[0]


def check_column(field: str, name: str, cols: list[dict[str, Any]]) -> None:
    names = [c["name"] for c in cols]
    if name not in names:
        known = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
        raise BadQuery(f"{field}: no run here has a metric {name[:100]!r} (they have: {known})")


def series(rows: list[dict[str, Any]], metric: str, x: str) -> tuple[list[float], list[float]]:
    """(xs, ys) from the rows that have both as finite numbers, in order of x (ties keep row order)."""
    pairs = []
    for r in rows:
        nums = numeric_columns(r)
        if finite(nums.get(x)) and finite(nums.get(metric)):
            pairs.append((nums[x], nums[metric]))
    pairs.sort(key=lambda p: p[0])
    return [p[0] for p in pairs], [p[1] for p in pairs]

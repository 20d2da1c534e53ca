"""Results as pandas DataFrames (the optional ``pandas`` extra), and short reprs.

pandas is imported only when a frame is asked for, so no engine, command or
test pays for it otherwise; without it the call stops with one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from primordium.errors import ConfigError


def pandas():
    """The pandas module, or one line saying which extra brings it."""
    try:
        import pandas as pd
    except ImportError:
        raise ConfigError(
            "to_pandas needs the 'pandas' extra: pip install 'primordium[pandas]'"
        ) from None
    return pd


def frame(rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None):
    """A DataFrame of dict rows; missing keys are NaN. ``columns`` fixes the order of those given."""
    pd = pandas()
    df = pd.DataFrame.from_records(list(rows))
    if columns is not None:
        first = [c for c in columns if c in df.columns]
        df = df[first + [c for c in df.columns if c not in first]]
    return df


def names_line(names: Iterable[str], limit: int = 60) -> str:
    """Names joined by commas, cut to about ``limit`` characters ("..., +3 more")."""
    names = list(names)
    out, used = [], 0
    for k, n in enumerate(names):
        if out and used + len(n) > limit:
            return ", ".join(out) + f", +{len(names) - k} more"
        out.append(n)
        used += len(n) + 2
    return ", ".join(out)

"""Classic warriors written for primordium, shipped with the package."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def builtin_warriors() -> dict[str, Path]:
    """Name (file stem) -> path of every built-in warrior."""
    return {p.stem: p for p in sorted(HERE.glob("*.red"))}


def builtin_path(name: str) -> Path:
    from primordium.errors import PrimordiumError

    ws = builtin_warriors()
    if name not in ws:
        raise PrimordiumError(f"no built-in warrior {name!r} (have: {', '.join(ws)})")
    return ws[name]

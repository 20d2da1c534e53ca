"""The --executor / --address / --workers flags, shared by every command that batches work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from primordium.exec import Executor

_P = "Execution"
ExecutorKind = typer.Option(
    "local",
    "--executor",
    help="local: this machine (all cores); ray: a Ray cluster.",
    rich_help_panel=_P,
)
Address = typer.Option(
    None,
    "--address",
    help="Ray cluster address (with --executor ray).",
    show_default="auto: the cluster Ray finds from here",
    rich_help_panel=_P,
)
Workers = typer.Option(
    None,
    "--workers",
    help="Local worker processes (default: this process, numba threads on all cores).",
    rich_help_panel=_P,
)


@contextmanager
def executor_from_flags(
    kind: str, address: str | None, workers: int | None
) -> Iterator[Executor | None]:
    """None for the default (work stays in this process); else an executor, closed afterwards."""
    if kind == "local" and address is None and (workers or 1) <= 1:
        yield None
        return
    from primordium.errors import ConfigError
    from primordium.exec import get_executor

    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: {workers} is not a positive number")
    ex = get_executor(kind, address=address, workers=workers)
    try:
        yield ex
    finally:
        ex.close()

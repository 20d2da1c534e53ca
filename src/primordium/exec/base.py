"""The executor interface and the factory the CLI calls."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any

from primordium.errors import ConfigError

OnDone = Callable[[int, Any], None]


class Executor(abc.ABC):
    """Maps ``fn`` over ``items``; results come back in the items' order."""

    #: how many tasks can run at once
    workers: int = 1

    @abc.abstractmethod
    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], *, on_done: OnDone | None = None
    ) -> list[Any]:
        """Run ``fn(item)`` for every item. ``on_done(index, result)`` hears of each
        task as it finishes (in completion order), e.g. for a progress bar."""

    def close(self) -> None:  # noqa: B027 (a no-op unless the executor holds workers)
        """Release workers; the executor is not used afterwards."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def get_executor(
    kind: str = "local", *, address: str | None = None, workers: int | None = None
) -> Executor:
    """``local`` (processes on this machine; ``workers=1`` runs in-process) or ``ray``."""
    if kind == "local":
        if address is not None:
            raise ConfigError("address goes with executor ray", field=("address", "executor"))
        from primordium.exec.local import LocalExecutor

        return LocalExecutor(workers)
    if kind == "ray":
        from primordium.exec.ray import RayExecutor

        return RayExecutor(address)
    raise ConfigError(
        f"executor: unknown executor {kind!r} (choose local or ray)", field="executor"
    )

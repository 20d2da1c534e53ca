"""Ray execution: one Ray task per item on a cluster the user started.

Ray re-runs a task whose worker or node dies (``max_retries``), so a run
survives losing a machine. Results are gathered by index, so they are the
same as with the local executor.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from primordium.errors import ConfigError
from primordium.exec.base import Executor, OnDone


def _call_single_threaded(fn: Callable[[Any], Any], item: Any) -> Any:
    # One task per CPU: numba's own threads would oversubscribe. Only the
    # thread count in use is lowered; NUMBA_NUM_THREADS must not change once
    # numba's pool exists (Ray may reset a worker's environment between tasks,
    # and numba then refuses to compile).
    import numba

    numba.set_num_threads(1)
    return fn(item)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _split_address(address: str) -> tuple[str, int] | None:
    """(host, port) of 'host:port' or 'ray://host:port', else None (e.g. 'auto')."""
    rest = address.split("://", 1)[-1]
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _check_reachable(address: str, timeout: float) -> None:
    """Fail fast, in one line, where Ray itself would retry for minutes."""
    hp = _split_address(address)
    if hp is None:
        return
    try:
        with socket.create_connection(hp, timeout=timeout):
            pass
    except OSError as e:
        raise ConfigError(
            f"address: no Ray cluster answers at {address} ({e.strerror or e})", field="address"
        ) from None


class RayExecutor(Executor):
    def __init__(self, address: str | None, *, max_retries: int = 3, connect_timeout: float = 5.0):
        if address:
            _check_reachable(address, connect_timeout)
            hp = _split_address(address)
            if hp is not None and hp[0] in LOOPBACK and "ray" not in sys.modules:
                # A cluster on loopback: keep Ray's own traffic on loopback
                # too (it otherwise swaps 127.0.0.1 for the machine's address).
                os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "executor ray needs the 'ray' extra: pip install 'primordium[ray]'",
                field="executor",
            ) from None
        self._ray = ray
        self.max_retries = max_retries
        if not ray.is_initialized():
            try:
                ray.init(
                    address=address or "auto",
                    ignore_reinit_error=True,
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                )
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = address or "auto"
                raise ConfigError(
                    f"address: cannot connect to a Ray cluster at {where} ({str(e).splitlines()[0]})",
                    field="address",
                ) from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, cpus)
        self._remote = ray.remote(num_cpus=1, max_retries=max_retries)(_call_single_threaded)

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], *, on_done: OnDone | None = None
    ) -> list[Any]:
        ray = self._ray
        fn_ref = ray.put(fn)
        refs = [self._remote.remote(fn_ref, item) for item in items]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(items)
        remaining = list(refs)
        while remaining:
            done, remaining = ray.wait(remaining, num_returns=1)
            for ref in done:
                i = index[ref]
                results[i] = ray.get(ref)
                if on_done is not None:
                    on_done(i, results[i])
        return results

    def close(self) -> None:
        # The cluster belongs to the user; only this driver disconnects.
        if self._ray.is_initialized():
            self._ray.shutdown()

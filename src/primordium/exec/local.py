"""Local execution: in-process for one worker, else a pool of processes.

A worker process that dies (killed, out of memory) breaks a standard pool;
here the pool is rebuilt and the unfinished tasks are submitted again, so a
run goes on and nothing is lost. A pool cannot tell which task killed it, so
it gives up only after ``max_retries`` breaks in a row with no task finished.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from primordium.exec.base import Executor, OnDone


def _single_threaded_worker() -> None:
    # Each process is one worker; numba's own threads would oversubscribe.
    os.environ["NUMBA_NUM_THREADS"] = "1"
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # numba not imported yet or fixed: the env var suffices
        pass


class LocalExecutor(Executor):
    def __init__(self, workers: int | None = None, *, max_retries: int = 3):
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.max_retries = max_retries
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: a fork of a process that already runs numba threads is unsafe.
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            self.workers, mp_context=ctx, initializer=_single_threaded_worker
        )

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], *, on_done: OnDone | None = None
    ) -> list[Any]:
        results: list[Any] = [None] * len(items)
        if self.workers == 1:
            for i, item in enumerate(items):
                results[i] = fn(item)
                if on_done is not None:
                    on_done(i, results[i])
            return results
        pending = set(range(len(items)))
        fruitless_breaks = 0
        while pending:
            if self._pool is None:
                self._pool = self._new_pool()
            futures = {self._pool.submit(fn, items[i]): i for i in sorted(pending)}
            before = len(pending)
            try:
                not_done = set(futures)
                while not_done:
                    done, not_done = wait(not_done, return_when=FIRST_COMPLETED)
                    for fut in done:
                        i = futures[fut]
                        results[i] = fut.result()  # a task's own exception propagates
                        pending.discard(i)
                        if on_done is not None:
                            on_done(i, results[i])
            except BrokenProcessPool:
                # A worker died; everything still pending is retried on a fresh pool.
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                fruitless_breaks = 0 if len(pending) < before else fruitless_breaks + 1
                if fruitless_breaks > self.max_retries:
                    raise RuntimeError(
                        f"worker processes died {fruitless_breaks} times in a row; giving up"
                    ) from None
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

"""The local executor: ordered results, progress, and survival of a dying worker."""

from __future__ import annotations

import numpy as np
import pytest
import tasks

from primordium.corewar import Settings, assemble_file, builtin_warriors
from primordium.corewar.battle import tournament
from primordium.errors import ConfigError
from primordium.exec import get_executor
from primordium.exec.local import LocalExecutor


def test_inline_and_pool_give_the_same_ordered_results():
    items = list(range(20))
    seen = []
    with get_executor("local", workers=1) as ex:
        inline = ex.map(tasks.square, items, on_done=lambda i, r: seen.append(i))
    with get_executor("local", workers=2) as ex:
        pooled = ex.map(tasks.square, items)
    assert inline == pooled == [x * x for x in items]
    assert sorted(seen) == items


def test_a_worker_that_dies_mid_task_is_survived(tmp_path):
    # A broken pool cannot tell which task killed it: allow one fruitless
    # break per item, since each kills its worker once.
    items = [(k, str(tmp_path)) for k in range(4)]
    with LocalExecutor(2, max_retries=len(items)) as ex:
        out = ex.map(tasks.die_once, items)
    assert out == [k + 100 for k in range(4)]
    assert len(list(tmp_path.glob("attempt-*"))) == 4  # every task died once and was retried


def test_task_errors_propagate():
    with get_executor("local", workers=2) as ex, pytest.raises(ValueError, match="task 3"):
        ex.map(tasks.boom, [3])


def test_tournament_on_processes_equals_in_process():
    s = Settings(rounds=6)
    ws = [assemble_file(p, s) for p in builtin_warriors().values()]
    ref = tournament(ws, s, seed=5)
    with get_executor("local", workers=2) as ex:
        got = tournament(ws, s, seed=5, executor=ex)
    assert np.array_equal(ref.wins, got.wins) and np.array_equal(ref.ties, got.ties)


def test_unknown_executor_is_a_user_error():
    with pytest.raises(ConfigError, match="^executor"):
        get_executor("slurm")
    with pytest.raises(ConfigError, match="^address"):
        get_executor("local", address="1.2.3.4:6379")

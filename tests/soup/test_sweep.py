"""Soup sweeps: many seeds, one soup per task; same results wherever tasks run; resumable."""

from __future__ import annotations

import json

import pytest

from primordium.errors import ConfigError
from primordium.exec.local import LocalExecutor
from primordium.soup.soup import SoupConfig
from primordium.soup.sweep import RESULTS, parse_seeds, run_sweep, soup_task
from primordium.store import Store

SMALL = SoupConfig(programs=256, length=64, max_steps=1024)


def test_parse_seeds():
    assert parse_seeds("0..3") == [0, 1, 2, 3]
    assert parse_seeds("5, 1,9..10") == [5, 1, 9, 10]
    for bad in ("", "a..b", "3..1", "-1", "1,1"):
        with pytest.raises(ConfigError, match="^seeds: "):
            parse_seeds(bad)


def test_task_is_a_pure_function_of_config_and_seed():
    a = soup_task((SMALL.to_dict(), 40, 8, None))
    b = soup_task((SMALL.to_dict(), 40, 8, None))
    assert a == b and a["epochs"] == 40 and len(a["curve"]) == 5
    other = soup_task((SoupConfig(programs=256, max_steps=1024, seed=1).to_dict(), 40, 8, None))
    assert other["curve"] != a["curve"]


def test_processes_give_the_same_sweep(tmp_path):
    store = Store(tmp_path / "home")
    _, ref = run_sweep(store, SMALL, [0, 1, 2, 3], epochs=48, log_every=16)
    with LocalExecutor(2) as ex:
        run, got = run_sweep(store, SMALL, [0, 1, 2, 3], epochs=48, log_every=16, executor=ex)
    assert ref == got
    assert (run.dir / "sweep.png").exists() and run.status == "finished"
    assert run.summary["seeds"] == 4


def test_resume_finishes_only_the_missing_seeds(tmp_path):
    store = Store(tmp_path / "home")
    _, ref = run_sweep(store, SMALL, [0, 1, 2], epochs=32, log_every=16)
    run, _ = run_sweep(store, SMALL, [0, 1, 2], epochs=32, log_every=16)
    # As if killed while writing seed 2's line: one whole line, one cut short.
    lines = (run.dir / RESULTS).read_text().splitlines()
    (run.dir / RESULTS).write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])
    seen = []
    _, got = run_sweep(store, resume=run.id, on_result=lambda r, d, t: seen.append(r["seed"]))
    assert got == ref
    assert sorted(seen) == [s for s in (0, 1, 2) if s != json.loads(lines[0])["seed"]]


def test_cli_sweep_json_and_bad_input(tmp_path, monkeypatch, cli):
    monkeypatch.setenv("PRIMORDIUM_HOME", str(tmp_path / "home"))
    code, out, err = cli(
        "soup", "sweep", "--seeds", "0..2", "--programs", "256", "--epochs", "16", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["seeds"] == [0, 1, 2] and len(data["transition_epochs"]) == 3
    code, _, err = cli("soup", "sweep", "--seeds", "x", "--programs", "256")
    assert code == 2 and "--seeds" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("soup", "sweep", "--programs", "255")
    assert code == 2 and "--programs" in err

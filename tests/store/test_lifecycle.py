"""One run lifecycle: ``Run.running()`` ends every engine's run finished, failed or interrupted."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from primordium.store import Store, load_checkpoint

REPO = Path(__file__).resolve().parents[2]


def test_running_records_finished_failed_and_interrupted(tmp_path):
    store = Store(tmp_path)
    ok = store.create("test", {})
    with ok.running():
        assert ok.status == "running"
    assert ok.status == "finished"

    bad = store.create("test", {})
    with pytest.raises(ValueError), bad.running():
        raise ValueError("the field x\nis wrong")
    assert bad.status == "failed" and bad.summary["error"] == "the field x is wrong"

    stopped = store.create("test", {})
    with pytest.raises(KeyboardInterrupt), stopped.running():
        raise KeyboardInterrupt
    assert stopped.status == "interrupted" and "error" not in stopped.summary

    # Resuming a failed run clears its error; finishing it leaves none.
    with bad.running():
        assert bad.status == "running" and "error" not in bad.summary
    assert bad.status == "finished"


def test_sigterm_raises_inside_and_the_handler_comes_back(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    run = Store(tmp_path).create("test", {})
    with pytest.raises(KeyboardInterrupt), run.running():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises long before this ends
    assert run.status == "interrupted"
    assert signal.getsignal(signal.SIGTERM) is before


# -- every engine --------------------------------------------------------------
# Each case makes the engine's own inner step raise, then checks the run it left.


def _boom(*args, **kwargs):
    raise RuntimeError("boom: injected\nfailure")


def _soup_run(store, monkeypatch):
    from primordium.soup import experiment
    from primordium.soup.device import CpuSoup
    from primordium.soup.soup import SoupConfig

    monkeypatch.setattr(CpuSoup, "epoch", _boom)
    experiment.run_soup(
        store, SoupConfig(programs=64), experiment.Schedule(epochs=4), pictures=False
    )


def _soup_sweep(store, monkeypatch):
    from primordium.soup import sweep
    from primordium.soup.soup import SoupConfig

    monkeypatch.setattr(sweep, "soup_task", _boom)
    sweep.run_sweep(store, SoupConfig(programs=64), [0, 1], epochs=4, log_every=2)


def _corewar(store, monkeypatch):
    from primordium.corewar import experiment

    monkeypatch.setattr(experiment, "tournament", _boom)
    experiment.run_tournament(store, rounds=2, replay=False)


def _redqueen(store, monkeypatch):
    from primordium.redqueen import loop

    monkeypatch.setattr(loop.Experiment, "step", _boom)
    loop.run_drq(store, loop.quickstart_config())


def _asal_search(store, monkeypatch):
    from primordium.asal import runs
    from primordium.asal.config import AsalConfig

    monkeypatch.setattr(runs, "cma_loop", _boom)
    cfg = AsalConfig(
        substrate="life_like", substrate_options={"grid": 16}, mode="open-endedness", fm="pixels"
    )
    runs.run_search(cfg, store)


def _asal_life_sweep(store, monkeypatch):
    from primordium.asal.life_sweep import SweepConfig, run_sweep
    from primordium.asal.search import sweep

    monkeypatch.setattr(sweep, "score_rules", _boom)
    run_sweep(SweepConfig.quick(sample=4, steps=8, frames=2, size=16, grid=16), store)


@pytest.mark.parametrize(
    "start",
    [_soup_run, _soup_sweep, _corewar, _redqueen, _asal_search, _asal_life_sweep],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_run_that_raises_ends_failed_with_its_message(tmp_path, monkeypatch, start):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError, match="boom"):
        start(store, monkeypatch)
    (row,) = store.list()
    assert row["status"] == "failed"
    assert row["summary"]["error"] == "boom: injected failure"


def test_sigterm_to_a_soup_run_ends_interrupted_and_it_resumes(tmp_path):
    env = dict(os.environ, PRIMORDIUM_HOME=str(tmp_path), PYTHONPATH=str(REPO / "src"))
    cmd = [sys.executable, "-c", "from primordium.cli import main; main()", "soup", "run"]
    args = ["--programs", "256", "--epochs", "20000", "--checkpoint-every", "20", "--json"]
    proc = subprocess.Popen([*cmd, *args], env=env, stderr=subprocess.PIPE, text=True)
    store = Store(tmp_path)
    deadline = time.time() + 120
    epoch = -1
    while time.time() < deadline and epoch < 40:
        assert proc.poll() is None, proc.stderr.read()
        runs = store.list()
        ckpt = tmp_path / "runs" / runs[0]["id"] / "checkpoint.npz" if runs else None
        if ckpt is not None and ckpt.exists():
            with contextlib.suppress(Exception):  # caught mid-replace; try again
                epoch = load_checkpoint(ckpt)[1]["epoch"]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted"
    run = store.open(store.list()[0]["id"])
    assert run.status == "interrupted"
    saved = load_checkpoint(run.dir / "checkpoint.npz")[1]["epoch"]
    assert saved >= epoch  # the SIGTERM handler saved the last whole epoch
    done = subprocess.run(
        [*cmd, "--resume", run.id, "--epochs", str(saved + 10), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["epochs"] == saved + 10
    assert run.status == "finished"

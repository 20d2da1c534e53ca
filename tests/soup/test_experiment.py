"""Runs in the store: resume after SIGKILL, bad input, the CLI's outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from primordium.cli import main
from primordium.soup.experiment import (
    Schedule,
    SoupResult,
    load_soup,
    quickstart_run,
    result_of,
    run_soup,
)
from primordium.soup.soup import SoupConfig
from primordium.store import Store, load_checkpoint

REPO = Path(__file__).resolve().parents[2]
EXE = str(REPO / ".venv" / "bin" / "primordium")


def cli(capsys, *args):
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_metrics_checkpoint_and_pictures(store_home):
    from PIL import Image

    store = Store()
    config = SoupConfig(programs=256, seed=4)
    live = {}

    def watch(p: dict) -> None:
        # While the run goes, soup.png is the newest sample stamped with its epoch.
        path = store.open(p["run"]).dir / "soup.png"
        if p["epoch"] in (24, 25, 26) and path.exists():
            live[p["epoch"]] = np.asarray(Image.open(path).convert("RGB"))

    run, result = run_soup(
        store,
        config,
        Schedule(
            epochs=100, log_every=10, checkpoint_every=30, snapshot_every=25, snapshot_programs=64
        ),
        progress=watch,
    )
    from primordium.soup.experiment import snapshots
    from primordium.soup.pictures import soup_image

    assert 24 not in live and set(live) == {25, 26}
    at_25 = dict(snapshots(run))[25]
    assert np.array_equal(live[25], soup_image(at_25, config.lang, epoch=25))
    assert set(result) == {
        "epochs",
        "ops",
        "seconds",
        "high_order_entropy",
        "transition_epoch",
        "selfreps",
        "stopped",
    }
    assert result["epochs"] == 100 and result["ops"] > 0
    rows = run.metrics()
    assert [r["epoch"] for r in rows] == [0] + list(range(10, 101, 10))
    assert sum(r["ops"] for r in rows) == result["ops"]
    assert run.status == "finished"
    # The notebook view: the language rides along, the repr is one line, the frame is the metrics.
    assert isinstance(result, SoupResult) and result.lang == "bff_noheads" and result.run == run
    assert "bff_noheads" in repr(result) and run.id in repr(result) and len(repr(result)) < 200
    assert result_of(run) == result and result_of(run).lang == "bff_noheads"
    df = result.to_pandas()
    assert df["epoch"].tolist() == [r["epoch"] for r in rows] and df.columns[0] == "step"
    assert df["ops"].sum() == result["ops"]
    epoch, soup, whole = load_soup(run)
    assert epoch == 100 and whole and soup.shape == (256, 64)
    e, sample, whole = load_soup(run, 60)
    assert e == 50 and not whole and sample.shape == (64, 64)
    for name in ("soup.png", "soup.gif", "curves.png", "result.json", "census.json"):
        assert (run.dir / name).stat().st_size > 0
    assert (run.dir / "curves.pdf").is_file() and (run.dir / "curves.svg").is_file()
    # Same seed, same soup, in a second run.
    run2, result2 = run_soup(
        store, config, Schedule(epochs=100, log_every=10, checkpoint_every=30), pictures=False
    )
    assert np.array_equal(load_soup(run2)[1], soup) and result2["ops"] == result["ops"]
    assert not list(run2.dir.glob("*.png"))


def test_resume_extends_and_matches_one_long_run(store_home):
    store = Store()
    config = SoupConfig(programs=128, seed=9)
    sched = Schedule(epochs=40, log_every=8, checkpoint_every=16)
    long_run, long_res = run_soup(
        store, config, Schedule(epochs=70, log_every=8, checkpoint_every=16), pictures=False
    )
    short, _ = run_soup(store, config, sched, pictures=False)
    _, res = run_soup(store, resume=short.id, epochs=70, pictures=False)
    assert res["epochs"] == 70 and res["ops"] == long_res["ops"]
    assert np.array_equal(load_soup(short)[1], load_soup(long_run)[1])


def _checkpoint_epoch(path: Path) -> int:
    try:
        return load_checkpoint(path)[1]["epoch"]
    except Exception:
        return -1


def test_sigkill_then_resume_is_bit_identical(store_home, tmp_path):
    """A real `primordium soup run`, killed with SIGKILL mid-run, resumed, equals an uninterrupted run."""
    args = [
        "soup",
        "run",
        "--programs",
        "1024",
        "--epochs",
        "3000",
        "--seed",
        "21",
        "--log-every",
        "20",
        "--checkpoint-every",
        "50",
        "--snapshot-every",
        "500",
        "--json",
    ]
    env = dict(os.environ, PRIMORDIUM_HOME=str(store_home))
    proc = subprocess.Popen([EXE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    store = Store(store_home)
    deadline = time.time() + 120
    ckpt = None
    while time.time() < deadline:
        runs = store.list()
        if runs:
            ckpt = Path(store_home) / "runs" / runs[0]["id"] / "checkpoint.npz"
            if _checkpoint_epoch(ckpt) >= 200:
                break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _checkpoint_epoch(ckpt)
    assert 200 <= killed_at < 3000, killed_at
    run_id = store.list()[0]["id"]
    assert store.open(run_id).status == "interrupted"
    done = subprocess.run(
        [EXE, "soup", "run", "--resume", run_id, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["epochs"] == 3000
    resumed = store.open(run_id)
    assert resumed.status == "finished"
    # Metrics: one row per logged epoch, none lost or doubled by the kill.
    steps = [r["step"] for r in resumed.metrics()]
    assert steps == [0] + list(range(20, 3001, 20))
    # The uninterrupted twin, in-process.
    twin, twin_res = run_soup(
        Store(tmp_path / "twin"),
        SoupConfig(programs=1024, seed=21),
        Schedule(epochs=3000, log_every=20, checkpoint_every=50),
        pictures=False,
    )
    assert np.array_equal(load_soup(resumed)[1], load_soup(twin)[1])
    assert result["ops"] == twin_res["ops"]
    # Every logged row matches too (the kill fell between checkpoints and log rows alike).
    science = (
        "epoch",
        "ops",
        "ops_per_tape",
        "total_ops",
        "h0",
        "brotli_bpb",
        "high_order_entropy",
    )
    assert [{k: r[k] for k in science} for r in resumed.metrics()] == [
        {k: r[k] for k in science} for r in twin.metrics()
    ]


def test_corrupt_checkpoint_is_one_line_exit_2_and_nothing_overwritten(store_home, capsys):
    run, _ = run_soup(
        Store(),
        SoupConfig(programs=64, seed=1),
        Schedule(epochs=20, log_every=5, checkpoint_every=5),
        pictures=False,
    )
    ckpt = run.dir / "checkpoint.npz"
    ckpt.write_bytes(b"not a checkpoint at all")
    rows = len(run.metrics())
    code, out, err = cli(capsys, "soup", "run", "--resume", run.id, "--epochs", "40")
    assert (
        code == 2
        and err.count("\n") == 1
        and "corrupt checkpoint" in err
        and "checkpoint.npz" in err
    )
    assert ckpt.read_bytes() == b"not a checkpoint at all" and len(run.metrics()) == rows


@pytest.mark.parametrize(
    "args, msg",
    [
        (
            ["soup", "run", "--lang", "cobol", "--programs", "64", "--epochs", "1"],
            "unknown language",
        ),
        (["soup", "run", "--programs", "63", "--epochs", "1"], "even"),
        (["soup", "run", "--grid", "3x", "--epochs", "1"], "WIDTHxHEIGHT"),
        (
            ["soup", "run", "--grid", "8x8", "--programs", "60", "--epochs", "1"],
            "has 64 cells but --programs is",
        ),
        (["soup", "run", "--resume", "no-such-run"], "no run"),
        (["soup", "exec", "--tape", "zz"], "not hex"),
        (["soup", "exec", "--tape", "00ff"], "2 x 64 = 128 bytes"),
        (["soup", "exec", "--lang", "cobol", "--tape", "00" * 128], "unknown language"),
        (["soup", "trace", "--tape", "0"], "not hex"),
        (["soup", "inspect", "no-such-run"], "no run"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(store_home, capsys, args, msg):
    code, out, err = cli(capsys, *args)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and msg in err and "Traceback" not in err
    assert not list((store_home / "runs").glob("*")) if (store_home / "runs").exists() else True


def test_exec_json_and_text(capsys):
    from tests.soup.conftest import REPLICATOR

    tape = (REPLICATOR + bytes(64)).hex()
    code, out, _ = cli(capsys, "soup", "exec", "--tape", tape, "--json")
    assert code == 0
    got = json.loads(out)
    assert (
        set(got) == {"tape", "ops"} and got["tape"] == (REPLICATOR * 2).hex() and got["ops"] == 8192
    )
    code, out, _ = cli(capsys, "soup", "exec", "--tape", tape, "--steps", "10")
    assert code == 0 and "ops 10" in out and "[{.>]" in out


def test_selfrep_command(capsys):
    from tests.soup.conftest import REPLICATOR

    code, out, _ = cli(capsys, "soup", "selfrep", "--program", REPLICATOR.hex(), "--json")
    assert code == 0 and json.loads(out)["replicates"] is True
    code, out, _ = cli(capsys, "soup", "selfrep", "--program", (b"a" * 64).hex())
    assert code == 0 and out.strip().endswith("does not replicate")
    code, _, err = cli(capsys, "soup", "selfrep", "--program", "00ff")
    assert code == 2 and "a program is 64 bytes" in err


def test_trace_shows_each_step(capsys):
    tape = (b"<+" + bytes(126)).hex()
    code, out, _ = cli(capsys, "soup", "trace", "--tape", tape, "--json")
    steps = json.loads(out)
    assert code == 0 and steps[0]["op"] == "<" and steps[1]["h0"] == 127 and steps[1]["op"] == "+"
    assert steps[-1]["final"] and steps[-1]["ops"] == 2 and steps[-1]["tape"].endswith("01")
    code, out, _ = cli(capsys, "soup", "trace", "--tape", tape)
    assert "ip   0  <" in out and "end after 128 steps, 2 ops" in out


def test_run_json_inspect_and_render(store_home, capsys, tmp_path):
    code, out, err = cli(
        capsys,
        "soup",
        "run",
        "--programs",
        "128",
        "--epochs",
        "64",
        "--seed",
        "2",
        "--log-every",
        "16",
        "--snapshot-every",
        "16",
        "--json",
    )
    assert code == 0, err
    assert list(json.loads(out)) == [
        "epochs",
        "ops",
        "seconds",
        "high_order_entropy",
        "transition_epoch",
        "selfreps",
        "stopped",
    ]
    run_id = Store().list()[0]["id"]
    code, out, _ = cli(capsys, "soup", "inspect", run_id, "--json")
    info = json.loads(out)
    assert code == 0 and info["epoch"] == 64 and info["whole_soup"] and len(info["programs"]) == 10
    assert all(
        isinstance(p["selfrep_score"], int) and isinstance(p["copies"], bool)
        for p in info["programs"]
    )
    code, out, _ = cli(capsys, "soup", "inspect", run_id, "--epoch", "40", "--top", "3")
    assert code == 0 and "epoch 32" in out and "sample" in out
    for name, extra in (("a.png", []), ("b.gif", []), ("c.png", ["--curves"])):
        code, _, err = cli(capsys, "soup", "render", run_id, "--out", str(tmp_path / name), *extra)
        assert code == 0, err
        assert (tmp_path / name).stat().st_size > 100
    code, _, err = cli(capsys, "soup", "render", run_id, "--out", str(tmp_path / "x.bmp"))
    assert code == 2 and ".png or .gif" in err


def test_grid_run(store_home):
    run, result = run_soup(
        Store(),
        SoupConfig(programs=256, grid=(16, 16), radius=2, seed=1),
        Schedule(epochs=30, log_every=10, checkpoint_every=10),
    )
    assert result["epochs"] == 30 and (run.dir / "soup_grid.png").exists()


def test_quickstart_run(store_home):
    t = time.time()
    seen = []
    run = quickstart_run(Store(), seed=0, progress=seen.append)
    assert run.status == "finished" and run.summary["epochs"] == 2048 and seen[-1]["epoch"] == 2048
    assert time.time() - t < 60

"""The run store: index and folders, live metrics, interrupted runs, damaged runs, export."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
import zipfile

import pytest

from primordium.errors import StoreError
from primordium.store import Store
from primordium.store.export import export_run


def test_runs_round_trip_and_metrics_are_visible_to_another_reader(tmp_path):
    writer = Store(tmp_path)
    run = writer.create("soup", {"lang": "bff"}, name="demo")
    run.log(0, h=0.5)
    reader = Store(tmp_path, create=False)  # e.g. the gallery, while the run goes on
    assert reader.open(run.id).metrics() == [{"step": 0, "h": 0.5}]
    run.log(1, h=0.75)
    assert [r["h"] for r in reader.open(run.id).metrics()] == [0.5, 0.75]
    assert reader.list()[0]["status"] == "running"
    mode = sqlite3.connect(tmp_path / "primordium.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert json.loads((run.dir / "config.json").read_text()) == {"lang": "bff"}


def test_metrics_since_gives_new_rows_and_a_count_that_reveals_truncation(tmp_path):
    run = Store(tmp_path).create("soup", {})
    for step in range(3):
        run.log(step, x=step)
    rows, cursor, count = run.metrics_since(None)
    assert [r["x"] for r in rows] == [0, 1, 2] and count == 3
    run.log(3, x=3)
    rows, cursor, count = run.metrics_since(cursor)
    assert rows == [{"step": 3, "x": 3}] and count == 4
    assert run.metrics_since(cursor)[0] == []
    # A resume from step 1 drops two rows and logs two again: SQLite hands out the same row ids,
    # yet the watcher hears of both rows, and 4 held + 2 new != 4 tells it to start over.
    run.truncate_metrics(1)
    run.log(2, x=20)
    run.log(3, x=30)
    rows, _, count = run.metrics_since(cursor)
    assert rows == [{"step": 2, "x": 20}, {"step": 3, "x": 30}] and count == 4
    assert run.metrics() == [
        {"step": 0, "x": 0},
        {"step": 1, "x": 1},
        {"step": 2, "x": 20},
        {"step": 3, "x": 30},
    ]
    with pytest.raises(StoreError, match="bad metrics cursor"):
        run.metrics_since("nonsense")


def test_a_killed_run_reads_as_interrupted(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys, time
        from primordium.store import Store
        run = Store({str(tmp_path)!r}).create("soup", {{}})
        run.log(0, x=1)
        print(run.id, flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    store = Store(tmp_path)
    assert store.open(run_id).status == "running"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert store.open(run_id).status == "interrupted"
    assert store.list()[0]["status"] == "interrupted"
    assert store.open(run_id).metrics() == [{"step": 0, "x": 1}]  # nothing written was lost


def test_read_only_open_refuses_what_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="no such folder"):
        Store(tmp_path / "nowhere", create=False)
    with pytest.raises(StoreError, match="not a primordium store"):
        Store(tmp_path, create=False)
    assert not (tmp_path / "primordium.db").exists() and not (tmp_path / "runs").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a folder"):
        Store(tmp_path / "file", create=False)
    garbage = tmp_path / "g"
    garbage.mkdir()
    (garbage / "primordium.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a primordium store index"):
        Store(garbage, create=False)


def test_files_and_problems(tmp_path):
    store = Store(tmp_path)
    run = store.create("corewar", {"a": 1})
    run.write_text("warriors/imp.red", "mov 0, 1\n")
    run.write_bytes("x.png", b"\x89PNG")
    assert [f["path"] for f in run.files()] == ["config.json", "warriors/imp.red", "x.png"]
    assert run.problems() == []
    (run.dir / "config.json").write_text("{oops")
    assert run.problems() == [
        "config.json:1: damaged config.json (not JSON: "
        "Expecting property name enclosed in double quotes, column 2)"
    ]
    (run.dir / "config.json").unlink()
    assert run.problems() == ["missing config.json"]
    import shutil

    shutil.rmtree(run.dir)
    assert "missing" in run.problems()[0] and run.files() == []


def test_a_damaged_summary_does_not_hide_the_other_runs(tmp_path):
    store = Store(tmp_path)
    good = store.create("soup", {})
    good.update_summary(epochs=3)
    bad = store.create("soup", {})
    store._db.execute("UPDATE runs SET summary='{not json' WHERE id=?", (bad.id,))
    rows = {r["id"]: r for r in store.list()}
    assert rows[good.id]["summary"] == {"epochs": 3} and rows[bad.id]["summary"] == {}
    assert bad.info()["summary"] == {}


@pytest.mark.parametrize("name", ["out.tar.gz", "out.tgz", "out.zip"])
def test_export_holds_config_metrics_and_every_artifact(tmp_path, name):
    store = Store(tmp_path / "home")
    run = store.create("soup", {"lang": "bff"}, name="to share")
    run.log(0, h=0.1)
    run.log(5, h=0.2)
    run.write_bytes("snapshots/epoch_0.npy", bytes(range(256)))
    run.write_text("run.json", "the engine's own run.json")  # must not be overwritten by ours
    run.update_summary(epochs=5)
    run.set_status("finished")
    dest = export_run(run, tmp_path / name)
    if name.endswith(".zip"):
        with zipfile.ZipFile(dest) as z:
            files = {n: z.read(n) for n in z.namelist()}
    else:
        with tarfile.open(dest) as t:
            files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    root = run.id + "/"
    assert set(files) == {
        root + p
        for p in (
            "run.json",
            "metrics.jsonl",
            "config.json",
            "snapshots/epoch_0.npy",
            "files/run.json",
        )
    }
    info = json.loads(files[root + "run.json"])
    assert (
        info["id"] == run.id and info["status"] == "finished" and info["summary"] == {"epochs": 5}
    )
    rows = [json.loads(line) for line in files[root + "metrics.jsonl"].decode().splitlines()]
    assert rows == [{"step": 0, "h": 0.1}, {"step": 5, "h": 0.2}]
    assert files[root + "snapshots/epoch_0.npy"] == bytes(range(256))
    assert files[root + "files/run.json"] == b"the engine's own run.json"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_export_refuses_unknown_types_and_missing_folders(tmp_path):
    store = Store(tmp_path / "home")
    run = store.create("soup", {})
    with pytest.raises(StoreError, match="unknown archive type"):
        export_run(run, tmp_path / "out.rar")
    import shutil

    shutil.rmtree(run.dir)
    with pytest.raises(StoreError, match="no folder to export"):
        export_run(run, tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()

"""A real store, damaged in each way issue 13 found, through the real CLI.

Every case asserts the docs' promise: one line on stderr, exit code 2, never a
traceback, and nothing lost (the other runs still list and export; where the
index itself was damaged, `runs reindex` brings every run back whole).
The states a kill leaves behind are made exactly as the killed command would
have left them (a folder renamed into the trash, a temp file beside an
archive), or by really killing a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from primordium.cli import main
from primordium.store import Store
from primordium.store.export import TEMP_TAG


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv: str) -> str:
    """Run a command that must refuse: one line, exit 2; returns the line."""
    code, _, err = run_cli(capsys, *argv)
    assert code == 2, (argv, code, err)
    assert err.count("\n") == 1 and err.startswith("error: "), (argv, err)
    assert "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[str, str], dict[str, list]]:
    """Two tiny real tournaments and a DRQ run created (not run) with the offline operator."""
    from primordium.corewar.experiment import run_tournament
    from primordium.redqueen.loop import open_experiment, quickstart_config

    home = tmp_path_factory.mktemp("faults") / "home"
    store = Store(home)
    ids = {}
    for key, seed in (("a", 1), ("b", 2)):
        run, _ = run_tournament(store, rounds=2, seed=seed, name=f"run {key}", replay=False)
        ids[key] = run.id
    drq = open_experiment(store, quickstart_config(seed=0)).run
    drq.log(0, best=0.5)
    drq.set_status("interrupted")
    ids["drq"] = drq.id
    metrics = {k: store.open(v).metrics() for k, v in ids.items()}
    store.close()
    return home, ids, metrics


@pytest.fixture
def damaged(template, tmp_path, monkeypatch):
    """A fresh copy of the template store, as PRIMORDIUM_HOME."""
    src, ids, metrics = template
    home = tmp_path / "home"
    shutil.copytree(src, home, symlinks=True)
    monkeypatch.setenv("PRIMORDIUM_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home, ids, metrics


def nothing_lost(capsys, home: Path, ids: dict[str, str], spared: list[str]) -> None:
    code, out, err = run_cli(capsys, "runs", "list", "--json")
    assert code == 0, err
    listed = {r["id"] for r in json.loads(out)}
    for key in spared:
        assert ids[key] in listed
        dest = home.parent / f"{key}.tar.gz"
        code, _, err = run_cli(capsys, "runs", "export", ids[key], "-o", str(dest))
        assert code == 0, err
        with tarfile.open(dest) as tar:
            assert f"{ids[key]}/config.json" in tar.getnames()


def _sql(home: Path, statement: str, *args) -> None:
    db = sqlite3.connect(home / "primordium.db", isolation_level=None)
    db.execute(statement, args)
    db.close()


# -- damage inside the index: one run is unreadable, the others are not ----------


@pytest.mark.parametrize("junk", ["{junk", "[1,2,3]"])
def test_a_damaged_metric_row(capsys, damaged, junk):
    home, ids, _ = damaged
    _sql(home, "UPDATE metrics SET data=? WHERE run_id=?", junk, ids["a"])
    for argv in (["runs", "show", ids["a"]], ["runs", "export", ids["a"]]):
        line = refused(capsys, *argv)
        assert f"run {ids['a']}: the metric row at step" in line and "damaged" in line
    assert not list(home.parent.glob(f"{ids['a']}*"))  # no half-written archive either
    nothing_lost(capsys, home, ids, ["b", "drq"])


@pytest.mark.parametrize("field", ["config", "summary"])
def test_a_damaged_config_or_summary_in_the_index(capsys, damaged, field):
    home, ids, _ = damaged
    _sql(
        home, f"UPDATE runs SET {field}='not json at all' WHERE id IN (?, ?)", ids["a"], ids["drq"]
    )
    line = refused(capsys, "runs", "export", ids["a"])
    assert f"run {ids['a']}: the {field} in the index is damaged" in line
    # `show` still shows what reads, and says what does not.
    code, out, _ = run_cli(capsys, "runs", "show", ids["a"])
    assert code == 0 and f"the {field} in the index is damaged" in out
    if field == "config":
        line = refused(capsys, "redqueen", "run", "--resume", ids["drq"])
        assert f"run {ids['drq']}: the config in the index is damaged" in line
    nothing_lost(capsys, home, ids, ["b"])


def test_a_malformed_index_is_refused_and_reindex_brings_every_run_back(capsys, damaged):
    home, ids, metrics = damaged
    db = home / "primordium.db"
    data = bytearray(db.read_bytes())
    assert len(data) >= 3 * 4096 and not Path(f"{db}-wal").exists()
    data[4096:] = b"\xa5" * (len(data) - 4096)  # every page but the header page
    db.write_bytes(bytes(data))
    for argv in (["runs", "list"], ["runs", "show", ids["a"]], ["runs", "export", ids["b"]]):
        line = refused(capsys, *argv)
        assert "primordium.db" in line and "runs reindex" in line, line
    _reindexed_whole(capsys, home, ids, metrics, set_aside=True)


@pytest.mark.parametrize("how", ["empty", "missing"])
def test_an_empty_or_missing_index_is_refused_not_replaced(capsys, damaged, how):
    home, ids, metrics = damaged
    db = home / "primordium.db"
    if how == "empty":
        db.write_bytes(b"")
    else:
        db.unlink()
    line = refused(capsys, "runs", "list")
    assert "runs reindex" in line
    # A command that writes runs refuses too, rather than start a new, empty index.
    line = refused(capsys, "redqueen", "run", "--resume", ids["drq"])
    assert "runs reindex" in line
    assert (db.stat().st_size == 0) if how == "empty" else not db.exists()
    _reindexed_whole(capsys, home, ids, metrics, set_aside=how == "empty")


def _reindexed_whole(capsys, home, ids, metrics, set_aside: bool) -> None:
    code, out, err = run_cli(capsys, "runs", "reindex", "--json")
    assert code == 0, err
    done = json.loads(out)
    assert sorted(done["added"]) == sorted(ids.values()) and not done["skipped"]
    assert (done["set_aside"] is not None) == set_aside
    store = Store(home, create=False)
    for key, rid in ids.items():
        assert store.open(rid).metrics() == metrics[key]  # every metric row is back
    a = store.open(ids["a"]).info()
    assert a["name"] == "run a" and a["summary"]["rounds"] == 2 and a["status"] == "finished"
    assert store.open(ids["drq"]).status == "interrupted"
    store.close()
    nothing_lost(capsys, home, ids, ["a", "b", "drq"])


# -- damage in a run folder -------------------------------------------------------


def test_resume_refuses_a_run_whose_folder_is_gone(capsys, damaged):
    from primordium.errors import StoreError
    from primordium.redqueen.loop import open_experiment

    home, ids, metrics = damaged
    shutil.rmtree(home / "runs" / ids["drq"])
    store = Store(home)
    with pytest.raises(StoreError, match="cannot be resumed: its folder .* is missing"):
        open_experiment(store, resume=ids["drq"])
    store.close()
    line = refused(capsys, "redqueen", "run", "--resume", ids["drq"])
    assert ids["drq"] in line and "missing" in line
    assert not (home / "runs" / ids["drq"]).exists()
    store = Store(home, create=False)
    assert store.open(ids["drq"]).metrics() == metrics["drq"]  # old rows untouched, none added
    store.close()
    nothing_lost(capsys, home, ids, ["a", "b"])


def test_junk_run_output_is_one_line_naming_the_file(capsys, damaged):
    """An ASAL search's history.json (read back by `asal search --resume` of a finished run)."""
    home, ids, _ = damaged
    store = Store(home)
    run = store.create("asal", {"kind": "search", "substrate": "lenia"}, name="asal-shaped")
    run.write_json("best_params.json", {"params": [0.5]})
    run.write_text("history.json", '{"best": [1, 2,\n  oops')
    run.set_status("finished")
    store.close()
    line = refused(capsys, "asal", "search", "--resume", run.id)
    assert "history.json:2: damaged run output (not JSON" in line
    nothing_lost(capsys, home, ids, ["a", "b"])


# -- commands killed halfway --------------------------------------------------------


def test_a_killed_rm_is_finished_by_gc_or_the_next_rm(capsys, damaged):
    home, ids, _ = damaged
    trash = home / "runs" / ".trash"
    trash.mkdir()
    # Killed after the rename, before the row was dropped: the run lists as damaged...
    os.rename(home / "runs" / ids["a"], trash / f"{ids['a']}.0badf00d")
    code, out, _ = run_cli(capsys, "runs", "list", "--json")
    assert ids["a"] in {r["id"] for r in json.loads(out)}
    # ... and killed after dropping the row, before deleting: nothing lists it.
    os.rename(home / "runs" / ids["b"], trash / f"{ids['b']}.0badf00d")
    _sql(home, "DELETE FROM runs WHERE id=?", ids["b"])
    code, out, err = run_cli(capsys, "runs", "gc", "--json")
    assert code == 0, err
    assert sorted(json.loads(out)["removed_runs"]) == sorted([ids["a"], ids["b"]])
    assert not any(trash.iterdir())
    code, out, _ = run_cli(capsys, "runs", "list", "--json")
    assert {r["id"] for r in json.loads(out)} == {ids["drq"]}
    # A later `runs rm` of another run finishes leftovers too.
    (trash / f"{ids['b']}.feedface").mkdir()
    code, _, err = run_cli(capsys, "runs", "rm", "--yes", ids["drq"])
    assert code == 0, err
    assert not any(trash.iterdir()) and [p.name for p in (home / "runs").iterdir()] == [".trash"]


def test_rm_of_a_symlinked_run_folder_keeps_what_it_points_to(capsys, damaged, tmp_path):
    home, ids, _ = damaged
    elsewhere = tmp_path / "elsewhere"
    shutil.move(home / "runs" / ids["a"], elsewhere)
    (home / "runs" / ids["a"]).symlink_to(elsewhere)
    code, _, err = run_cli(capsys, "runs", "rm", "--yes", ids["a"])
    assert code == 0, err
    assert (elsewhere / "config.json").is_file() and not (home / "runs" / ids["a"]).exists()


def _big_run(home: Path) -> str:
    store = Store(home)
    run = store.create("soup", {"note": "big"}, name="big")
    # Incompressible, so gzip takes long enough to be caught halfway.
    run.write_bytes("noise.bin", os.urandom(32 * 2**20))
    run.set_status("finished")
    store.close()
    return run.id


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_killed_export_leaves_no_temp_file(capsys, damaged, tmp_path, monkeypatch, sig):
    home, ids, _ = damaged
    rid = _big_run(home)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # Ctrl-C raises KeyboardInterrupt even where this test's shell started us with SIGINT ignored.
    start = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from primordium.cli import main; main(sys.argv[1:])"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", start, "runs", "export", rid, "-o", "big.tar.gz"],
        cwd=out_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(out_dir.glob(".*.tmp")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the export never started writing"
        time.sleep(0.01)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert not (out_dir / "big.tar.gz").exists()
    left = list(out_dir.glob(".*.tmp"))
    if sig != signal.SIGKILL:
        assert left == []  # removed on the way out
        return
    # SIGKILL runs no cleanup: `runs gc` (from that folder) knows the file by its name.
    assert len(left) == 1 and TEMP_TAG in left[0].name
    monkeypatch.chdir(out_dir)
    code, out, err = run_cli(capsys, "runs", "gc", "--json")
    assert code == 0, err
    assert [Path(p).name for p in json.loads(out)["removed_temp_files"]] == [left[0].name]
    assert list(out_dir.glob(".*.tmp")) == []
    nothing_lost(capsys, home, ids, ["a", "b"])


def test_the_next_export_removes_a_killed_exports_temp_file(capsys, damaged, tmp_path):
    home, ids, _ = damaged
    # What a SIGKILLed export leaves: its temp file, named with a process id that is gone.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".a.tar.gz.{TEMP_TAG}{dead.pid}-x1y2z3.tmp"
    stale.write_bytes(b"half an archive")
    other = tmp_path / ".notes.txt.tmp"  # not ours: left alone
    other.write_bytes(b"keep")
    code, _, err = run_cli(capsys, "runs", "export", ids["b"], "-o", str(tmp_path / "b.tar.gz"))
    assert code == 0, err
    assert not stale.exists() and other.exists() and (tmp_path / "b.tar.gz").is_file()


def test_a_folder_an_old_rm_orphaned_comes_back_with_reindex(capsys, damaged):
    """The state the old `rm` order left (row gone, folder kept): reindex makes it visible again."""
    home, ids, metrics = damaged
    _sql(home, "DELETE FROM metrics WHERE run_id=?", ids["a"])
    _sql(home, "DELETE FROM runs WHERE id=?", ids["a"])
    # And a run from before the folders kept a copy of their index rows.
    for name in (".index-row.json", ".index-metrics.jsonl"):
        (home / "runs" / ids["b"] / name).unlink()
    _sql(home, "DELETE FROM runs WHERE id=?", ids["b"])
    (home / "runs" / "not-a-run").mkdir()
    code, out, err = run_cli(capsys, "runs", "reindex", "--json")
    assert code == 0, err
    done = json.loads(out)
    assert sorted(done["added"]) == sorted([ids["a"], ids["b"]]) and done["kept"] == 1
    assert done["set_aside"] is None and done["skipped"][0].startswith("not-a-run: ")
    store = Store(home, create=False)
    assert store.open(ids["a"]).metrics() == metrics["a"]
    b = store.open(ids["b"]).info()
    assert (b["engine"], b["name"], b["status"]) == ("corewar", ids["b"], "interrupted")
    assert b["config"]["rounds"] == 2
    store.close()
    code, _, err = run_cli(capsys, "runs", "rm", "--yes", ids["a"], ids["b"])
    assert code == 0, err
    assert not (home / "runs" / ids["a"]).exists() and not (home / "runs" / ids["b"]).exists()


@pytest.mark.parametrize("junk", ['{"descriptors": ["tsp"', '{"elites": []}', "[1]"])
def test_a_damaged_round_archive_is_one_line_naming_the_file(capsys, damaged, junk):
    """`redqueen show` reads every finished round's archive back."""
    home, ids, _ = damaged
    rounds = home / "runs" / ids["drq"] / "rounds"
    rounds.mkdir(exist_ok=True)
    (rounds / "round_001.json").write_text(junk)
    line = refused(capsys, "redqueen", "show", ids["drq"])
    assert "round_001.json" in line and "damaged round archive" in line
    nothing_lost(capsys, home, ids, ["a", "b"])

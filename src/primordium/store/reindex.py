"""Rebuild the index (``primordium.db``) from the run folders.

Each run folder holds its config (``config.json``) and the store's copy of its
index row and metric rows (see ``runs.py``). A readable index keeps its rows
and gains the folders it lacks; an empty or damaged one is set aside (never
deleted: it may still hold something a person wants) and a new one is built
from the folders alone.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from primordium.errors import StoreError
from primordium.store.reading import DamagedStore, read_json_file
from primordium.store.runs import METRICS_FILE, ROW_FILE, SCHEMA, STATUSES, _run_folders


@dataclass
class Reindexed:
    added: list[str] = field(default_factory=list)
    kept: int = 0
    skipped: list[str] = field(default_factory=list)  # folders that are not runs, with why
    set_aside: Path | None = None


def _index_reads(db_path: Path) -> bool:
    if not db_path.is_file() or db_path.stat().st_size == 0:
        return False
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        try:
            ok = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            return ok and {"runs", "metrics"} <= names
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return False


def _created_from_id(run_id: str, folder: Path) -> float:
    # Ids are ENGINE-YYYYmmdd-HHMMSS-hex; the folder's time is the fallback.
    parts = run_id.split("-")
    try:
        return time.mktime(time.strptime(f"{parts[-3]}-{parts[-2]}", "%Y%m%d-%H%M%S"))
    except (IndexError, ValueError, OverflowError):
        return folder.stat().st_mtime


def _row_of(folder: Path) -> tuple:
    """The index row a folder describes; DamagedStore if it is not a run folder."""
    run_id = folder.name
    config = read_json_file(folder / "config.json", expect=dict, what="run config")
    try:
        row = read_json_file(folder / ROW_FILE, expect=dict, what="index row copy")
    except DamagedStore:
        row = {}  # a run older than the copies: its id and config are what is left
    engine = row.get("engine") if isinstance(row.get("engine"), str) else run_id.split("-")[0]
    created = row.get("created")
    if not isinstance(created, (int, float)):
        created = _created_from_id(run_id, folder)
    updated = row.get("updated") if isinstance(row.get("updated"), (int, float)) else created
    status = row.get("status")
    # Nothing can tell whether a run that was running still is: call it interrupted.
    if status not in STATUSES or status == "running":
        status = "interrupted"
    summary = row.get("summary") if isinstance(row.get("summary"), dict) else {}
    name = row.get("name") if isinstance(row.get("name"), str) else run_id
    return (
        run_id,
        engine,
        name,
        status,
        created,
        updated,
        json.dumps(config, sort_keys=True),
        json.dumps(summary, sort_keys=True),
    )


def _metric_rows(folder: Path) -> list[tuple]:
    """The folder's metric rows; a line a kill cut short, or anything unreadable, is left out."""
    try:
        lines = (folder / METRICS_FILE).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    out = []
    for line in lines:
        try:
            r = json.loads(line)
            out.append((folder.name, int(r["step"]), float(r["time"]), str(r["data"])))
        except (ValueError, TypeError, KeyError):
            continue
    return out


def _add(db: sqlite3.Connection, folder: Path) -> None:
    db.execute(
        "INSERT INTO runs (id, engine, name, status, created, updated, pid, host, config, summary) "
        "VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
        _row_of(folder),
    )
    db.executemany(
        "INSERT INTO metrics (run_id, step, time, data) VALUES (?, ?, ?, ?)", _metric_rows(folder)
    )


def reindex(home: str | Path) -> Reindexed:
    home = Path(home)
    runs_dir, db_path = home / "runs", home / "primordium.db"
    if not runs_dir.is_dir():
        raise StoreError("not a primordium store (no runs folder)", file=home)
    out = Reindexed()
    readable = _index_reads(db_path)
    target = db_path if readable else home / f".primordium.db.rebuild-{os.getpid()}"
    if not readable:
        target.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(target, timeout=30, isolation_level=None)
        try:
            db.executescript(SCHEMA)
            known = {r[0] for r in db.execute("SELECT id FROM runs")}
            out.kept = len(known)
            db.execute("BEGIN IMMEDIATE")
            for folder in sorted(_run_folders(runs_dir)):
                if folder.name in known:
                    continue
                try:
                    _add(db, folder)
                except DamagedStore as e:
                    out.skipped.append(f"{folder.name}: {e}")
                    continue
                out.added.append(folder.name)
            db.execute("COMMIT")
            if not readable:
                db.execute("PRAGMA journal_mode=WAL")
        finally:
            db.close()
    except sqlite3.DatabaseError as e:
        raise StoreError(f"cannot rebuild the index ({e})", file=db_path) from None
    if not readable:
        if db_path.exists():
            out.set_aside = home / f"primordium.db.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
            os.replace(db_path, out.set_aside)
        for extra in ("-wal", "-shm"):  # they belong to the old file, not the new one
            Path(f"{db_path}{extra}").unlink(missing_ok=True)
        os.replace(target, db_path)
    return out

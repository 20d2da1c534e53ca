"""Runs: one folder each (config, metrics, artifacts) indexed in ``primordium.db``.

The index is SQLite in WAL mode so a gallery can read while a run writes.
Metrics are appended as they happen; a run whose process died while
``running`` is reported as ``interrupted``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primordium.errors import StoreError
from primordium.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    engine TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    pid INTEGER,
    host TEXT,
    config TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    time REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run_step ON metrics(run_id, step);
"""

STATUSES = ("running", "finished", "failed", "interrupted")


class Terminated(KeyboardInterrupt):
    """SIGTERM inside ``Run.running()``: handled like Ctrl-C, so cleanup that saves on
    ``KeyboardInterrupt`` (a last checkpoint) runs for a polite kill too."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated("terminated (SIGTERM)")


def one_line(error: BaseException) -> str:
    """An error as the single line a run's summary keeps (type name when it has no message)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


def default_home() -> Path:
    return Path(os.environ.get("PRIMORDIUM_HOME", ".")).expanduser()


def _pid_alive(pid: int | None, host: str | None) -> bool:
    if pid is None or host != socket.gethostname():
        return True  # cannot tell from here; trust the recorded status
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """The index and run folders under one home directory."""

    def __init__(self, home: str | Path | None = None, *, create: bool = True):
        self.home = Path(home) if home is not None else default_home()
        if self.home.exists() and not self.home.is_dir():
            raise StoreError("store home is not a folder", file=self.home)
        if not create and not (self.home / "primordium.db").is_file():
            # Readers (runs list, serve) must not litter a wrong folder with a new store.
            what = (
                "no such folder"
                if not self.home.exists()
                else "not a primordium store (no primordium.db)"
            )
            raise StoreError(
                f"{what}; set PRIMORDIUM_HOME or --home to a store, or run `primordium quickstart`",
                file=self.home,
            )
        self.runs_dir = self.home / "runs"
        self.db_path = self.home / "primordium.db"
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"not a primordium store index ({e})", file=self.db_path) from None
        except OSError as e:
            raise StoreError(f"cannot use store folder ({e.strerror})", file=self.home) from None

    def close(self) -> None:
        self._db.close()

    # -- runs -------------------------------------------------------------
    def create(self, engine: str, config: dict[str, Any], name: str | None = None) -> Run:
        run_id = f"{engine}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        run_dir = self.runs_dir / run_id
        run_dir.mkdir(parents=True)
        atomic_write_json(run_dir / "config.json", config)
        now = time.time()
        self._db.execute(
            "INSERT INTO runs (id, engine, name, status, created, updated, pid, host, config) "
            "VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)",
            (
                run_id,
                engine,
                name or run_id,
                now,
                now,
                os.getpid(),
                socket.gethostname(),
                json.dumps(config, sort_keys=True),
            ),
        )
        return Run(self, run_id)

    def open(self, run_id: str) -> Run:
        row = self._db.execute("SELECT id FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            # Accept a unique prefix, as people type short ids.
            rows = self._db.execute(
                "SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\'", (_like_prefix(run_id),)
            ).fetchall()
            if len(rows) != 1:
                raise StoreError(
                    f"no run {run_id!r} in {self.home}" + (" (ambiguous prefix)" if rows else "")
                )
            row = rows[0]
        return Run(self, row[0])

    def list(self, engine: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT id, engine, name, status, created, updated, pid, host, summary FROM runs"
        args: tuple = ()
        if engine:
            q += " WHERE engine = ?"
            args = (engine,)
        q += " ORDER BY created DESC"
        out = []
        for rid, eng, name, status, created, updated, pid, host, summary in self._db.execute(
            q, args
        ):
            if status == "running" and not _pid_alive(pid, host):
                status = "interrupted"
            out.append(
                {
                    "id": rid,
                    "engine": eng,
                    "name": name,
                    "status": status,
                    "created": created,
                    "updated": updated,
                    "summary": _loads_dict(summary),
                }
            )
        return out

    def remove(self, run_id: str) -> None:
        run = self.open(run_id)
        import shutil

        self._db.execute("DELETE FROM metrics WHERE run_id = ?", (run.id,))
        self._db.execute("DELETE FROM runs WHERE id = ?", (run.id,))
        shutil.rmtree(run.dir, ignore_errors=True)


def _loads_dict(text: str) -> dict[str, Any]:
    """A JSON object from the index; a damaged one reads as empty so one bad row cannot hide the others."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _like_prefix(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class Run:
    store: Store
    id: str

    @property
    def dir(self) -> Path:
        return self.store.runs_dir / self.id

    def _row(self) -> tuple:
        row = self.store._db.execute(
            "SELECT engine, name, status, created, updated, pid, host, config, summary FROM runs WHERE id = ?",
            (self.id,),
        ).fetchone()
        if row is None:
            raise StoreError(f"run {self.id!r} was removed")
        return row

    @property
    def engine(self) -> str:
        return self._row()[0]

    @property
    def config(self) -> dict[str, Any]:
        return json.loads(self._row()[7])

    @property
    def status(self) -> str:
        _, _, status, _, _, pid, host, _, _ = self._row()
        if status == "running" and not _pid_alive(pid, host):
            return "interrupted"
        return status

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads(self._row()[8])

    def info(self) -> dict[str, Any]:
        engine, name, _, created, updated, _, _, config, summary = self._row()
        return {
            "id": self.id,
            "engine": engine,
            "name": name,
            "status": self.status,
            "created": created,
            "updated": updated,
            "config": _loads_dict(config),
            "summary": _loads_dict(summary),
            "dir": str(self.dir),
        }

    # -- writing ------------------------------------------------------------
    def claim(self) -> None:
        """Mark this process as the one running the run (on start or --resume)."""
        self.store._db.execute(
            "UPDATE runs SET status='running', pid=?, host=?, updated=? WHERE id=?",
            (os.getpid(), socket.gethostname(), time.time(), self.id),
        )

    @contextmanager
    def running(self) -> Iterator[Run]:
        """Claim the run for this process and record how it ends.

        On leaving: ``finished``; ``interrupted`` on Ctrl-C, SIGTERM or
        ``SystemExit`` (resumable); ``failed`` on any other error, whose one
        line goes to the summary's ``error``. SIGTERM raises ``Terminated``
        inside the block while it runs (main thread only: Python delivers
        signals there); the previous handler comes back on exit.
        """
        self.claim()
        self._drop_summary("error")  # a resumed run is no longer the failure it was
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _raise_terminated) if main else None
        try:
            yield self
        except (KeyboardInterrupt, SystemExit):
            self.set_status("interrupted")
            raise
        except BaseException as e:
            self.update_summary(error=one_line(e))
            self.set_status("failed")
            raise
        else:
            self.set_status("finished")
        finally:
            if main:
                # None: a handler set outside Python; the default is the closest we can restore.
                signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)

    def _drop_summary(self, key: str) -> None:
        summary = _loads_dict(self._row()[8])
        if key in summary:
            del summary[key]
            self.store._db.execute(
                "UPDATE runs SET summary=? WHERE id=?",
                (json.dumps(summary, sort_keys=True), self.id),
            )

    def set_status(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        self.store._db.execute(
            "UPDATE runs SET status=?, updated=? WHERE id=?", (status, time.time(), self.id)
        )

    def update_summary(self, **fields: Any) -> None:
        summary = self.summary | fields
        self.store._db.execute(
            "UPDATE runs SET summary=?, updated=? WHERE id=?",
            (json.dumps(summary, sort_keys=True), time.time(), self.id),
        )

    def log(self, step: int, **metrics: Any) -> None:
        """Append one row of metrics; readers see it at once."""
        self.store._db.execute(
            "INSERT INTO metrics (run_id, step, time, data) VALUES (?, ?, ?, ?)",
            (self.id, int(step), time.time(), json.dumps(metrics, sort_keys=True)),
        )

    def truncate_metrics(self, after_step: int) -> None:
        """On resume, drop rows logged after the checkpoint we restart from."""
        self.store._db.execute(
            "DELETE FROM metrics WHERE run_id=? AND step>?", (self.id, int(after_step))
        )

    def metrics(self) -> list[dict[str, Any]]:
        rows = self.store._db.execute(
            "SELECT step, data FROM metrics WHERE run_id=? ORDER BY step, rowid", (self.id,)
        ).fetchall()
        return [{"step": step} | json.loads(data) for step, data in rows]

    def metrics_since(self, cursor: str | None = None) -> tuple[list[dict[str, Any]], str, int]:
        """Rows logged after ``cursor`` (None: all) in logging order, the next cursor, and the run's row count.

        The cursor is opaque. SQLite reuses the row ids of rows that
        ``truncate_metrics`` dropped, so a row counts as new if its id is past
        the cursor's or it was logged later than the cursor's newest row. A
        watcher whose held rows plus the new ones do not add up to the count
        saw a truncation (a resume) and should start over.
        """
        last_id, last_time = 0, 0.0
        if cursor:
            try:
                a, b = cursor.split(":")
                last_id, last_time = int(a), float(b)
            except ValueError:
                raise StoreError(f"bad metrics cursor {cursor!r}") from None
        rows = self.store._db.execute(
            "SELECT rowid, step, time, data FROM metrics WHERE run_id=? AND (rowid>? OR time>?) ORDER BY rowid",
            (self.id, last_id, last_time),
        ).fetchall()
        count = self.store._db.execute(
            "SELECT COUNT(*) FROM metrics WHERE run_id=?", (self.id,)
        ).fetchone()[0]
        if rows:
            last_id, last_time = (
                max(last_id, max(r[0] for r in rows)),
                max(last_time, max(r[2] for r in rows)),
            )
        out = []
        for _, step, _, data in rows:
            try:
                out.append({"step": step} | json.loads(data))
            except (ValueError, TypeError):
                raise StoreError(
                    f"run {self.id}: the metric row at step {step} is corrupt (not a JSON object)"
                ) from None
        return out, f"{last_id}:{last_time!r}", int(count)

    def artifact(self, relpath: str) -> Path:
        p = (self.dir / relpath).resolve()
        if not p.is_relative_to(self.dir.resolve()):
            raise StoreError(f"artifact path {relpath!r} leaves the run folder")
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write_bytes(self, relpath: str, data: bytes) -> Path:
        p = self.artifact(relpath)
        atomic_write_bytes(p, data)
        return p

    def write_text(self, relpath: str, text: str) -> Path:
        p = self.artifact(relpath)
        atomic_write_text(p, text)
        return p

    def write_json(self, relpath: str, obj: Any) -> Path:
        p = self.artifact(relpath)
        atomic_write_json(p, obj)
        return p

    def files(self) -> list[dict[str, Any]]:
        """Every file of the run folder as {path (relative, '/'), size, mtime}; [] if the folder is gone."""
        out = []
        for p in self.artifacts():
            try:
                st = p.stat()
            except OSError:
                continue  # removed between listing and stat
            out.append(
                {
                    "path": p.relative_to(self.dir).as_posix(),
                    "size": st.st_size,
                    "mtime": st.st_mtime,
                }
            )
        return out

    def problems(self) -> list[str]:
        """What is wrong with this run on disk, one sentence each (empty: nothing)."""
        if not self.dir.is_dir():
            return [f"the run folder {self.dir} is missing"]
        config = self.dir / "config.json"
        try:
            json.loads(config.read_text("utf-8"))
        except FileNotFoundError:
            return ["config.json is missing from the run folder"]
        except (OSError, UnicodeDecodeError) as e:
            return [f"config.json cannot be read ({type(e).__name__})"]
        except json.JSONDecodeError as e:
            return [
                f"config.json is corrupt (not JSON: {e.msg} at line {e.lineno}, column {e.colno})"
            ]
        return []

    def artifacts(self) -> Iterator[Path]:
        for p in sorted(self.dir.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                yield p

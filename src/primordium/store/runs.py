"""Runs: one folder each (config, metrics, artifacts) indexed in ``primordium.db``.

The index is SQLite in WAL mode so a gallery can read while a run writes.
Metrics are appended as they happen; a run whose process died while
``running`` is reported as ``interrupted``.

Each run folder also keeps a copy of its index row (``.index-row.json``) and
metric rows (``.index-metrics.jsonl``), so a lost or damaged index can be
rebuilt from the folders (``reindex``). Removal renames the folder into
``runs/.trash/`` before dropping its row, so a kill at any point leaves something
``collect_garbage`` finishes, never an invisible folder.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primordium.errors import StoreError
from primordium.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from primordium.store.reading import (
    REINDEX_HINT,
    DamagedStore,
    decode_json,
    index_errors,
    read_json_file,
)

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
ROW_FILE = ".index-row.json"
METRICS_FILE = ".index-metrics.jsonl"
TRASH = ".trash"


class BadCursor(StoreError):
    """A metrics cursor that this store never handed out."""


class Terminated(KeyboardInterrupt):
    """SIGTERM inside ``Run.running()``: handled like Ctrl-C, so cleanup that saves on
    ``KeyboardInterrupt`` (a last checkpoint) runs for a polite kill too."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated("terminated (SIGTERM)")


@contextmanager
def sigterm_raises(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """While inside, SIGTERM calls ``handler`` (which raises), so cleanup in ``finally`` runs.

    Main thread only (Python delivers signals there; elsewhere this does
    nothing); the previous handler comes back on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        # None: a handler set outside Python; the default is the closest we can restore.
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


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

    def __repr__(self) -> str:
        return f"Store({str(self.home)!r})"

    def __init__(self, home: str | Path | None = None, *, create: bool = True):
        self.home = Path(home) if home is not None else default_home()
        if self.home.exists() and not self.home.is_dir():
            raise StoreError("store home is not a folder", file=self.home)
        db_path = self.home / "primordium.db"
        if not create and not db_path.is_file() and not _run_folders(self.home / "runs"):
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
        self.db_path = db_path
        _refuse_a_lost_index(self.db_path, self.runs_dir)
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            if not self.db_path.exists():
                _new_index(self.db_path)
            self._db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        except (sqlite3.DatabaseError, OSError) as e:
            why = e.strerror if isinstance(e, OSError) else str(e)
            raise StoreError(f"cannot use store folder ({why})", file=self.home) from None
        try:
            with index_errors(self.db_path):
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self._db.executescript(SCHEMA)
        except StoreError:
            self._db.close()
            raise

    # Every statement goes through these, so a damaged index is one line, never a traceback.
    def _exec(self, sql: str, args: tuple = ()) -> None:
        with index_errors(self.db_path):
            self._db.execute(sql, args)

    def _one(self, sql: str, args: tuple = ()) -> tuple | None:
        with index_errors(self.db_path):
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple = ()) -> list[tuple]:
        with index_errors(self.db_path):
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        self._db.close()

    # -- runs -------------------------------------------------------------
    def create(self, engine: str, config: dict[str, Any], name: str | None = None) -> Run:
        run_id = f"{engine}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        run_dir = self.runs_dir / run_id
        run_dir.mkdir(parents=True)
        atomic_write_json(run_dir / "config.json", config)
        now = time.time()
        self._exec(
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
        run = Run(self, run_id)
        run._mirror_row()
        return run

    def open(self, run_id: str) -> Run:
        row = self._one("SELECT id FROM runs WHERE id = ?", (run_id,))
        if row is None:
            # Accept a unique prefix, as people type short ids.
            rows = self._all(
                "SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\'", (_like_prefix(run_id),)
            )
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
        for rid, eng, name, status, created, updated, pid, host, summary in self._all(q, args):
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

    def to_pandas(self, engine: str | None = None) -> Any:
        """``list()`` as a pandas DataFrame, newest first (the ``pandas`` extra)."""
        from primordium.tables import frame

        return frame(self.list(engine), columns=["id", "engine", "name", "status"])

    def remove(self, run_id: str) -> None:
        """Remove a run: its folder goes out of reach first, then its row, then the bytes."""
        run = self.open(run_id)
        trash = self.runs_dir / TRASH  # beside the run folders: a rename never crosses disks
        trash.mkdir(exist_ok=True)
        target = trash / f"{run.id}.{secrets.token_hex(4)}"
        binned: Path | None = target
        try:
            os.rename(run.dir, target)
        except FileNotFoundError:
            binned = None  # the folder was already gone (or binned by a killed rm)
        except OSError as e:
            raise StoreError(f"cannot remove run {run.id} ({e.strerror})", file=run.dir) from None
        self._drop_rows(run.id)
        if binned is not None:
            _delete(binned)
        self.collect_garbage()

    def _drop_rows(self, run_id: str) -> None:
        self._exec("DELETE FROM metrics WHERE run_id = ?", (run_id,))
        self._exec("DELETE FROM runs WHERE id = ?", (run_id,))

    def collect_garbage(self) -> builtins.list[str]:
        """Finish removals a kill interrupted; returns the ids whose leftovers were deleted.

        A folder in the trash was asked to go: its row, if still there, goes too.
        """
        trash = self.runs_dir / TRASH  # beside the run folders: a rename never crosses disks
        try:
            entries = sorted(trash.iterdir())
        except FileNotFoundError:
            return []
        done = []
        for entry in entries:
            run_id = entry.name.split(".", 1)[0]
            self._drop_rows(run_id)
            _delete(entry)
            done.append(run_id)
        return done


def _delete(path: Path) -> None:
    """Delete a binned run folder; a symlinked one loses the link, never what it points to."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _run_folders(runs_dir: Path) -> list[Path]:
    try:
        return [p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []


def _new_index(db_path: Path) -> None:
    """Create the index whole, then link it into place: another process never sees it 0 bytes long."""
    tmp = db_path.with_name(f".{db_path.name}.new-{os.getpid()}-{secrets.token_hex(3)}")
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        finally:
            db.close()
        try:
            os.link(tmp, db_path)
        except FileExistsError:
            return  # another process made it first: use theirs
        except OSError:
            # A file system without hard links: a rename, with a small window for a race.
            if not db_path.exists():
                os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)


def _refuse_a_lost_index(db_path: Path, runs_dir: Path) -> None:
    """An empty or missing index beside run folders would silently orphan them: refuse instead."""
    try:
        size = db_path.stat().st_size
    except FileNotFoundError:
        size = None
    except OSError as e:
        raise StoreError(
            f"cannot read the index ({e.strerror}); {REINDEX_HINT}", file=db_path
        ) from None
    if size == 0:
        raise StoreError(f"the index is empty (0 bytes); {REINDEX_HINT}", file=db_path)
    if size is None and (folders := _run_folders(runs_dir)):
        raise StoreError(
            f"the index is missing but {runs_dir} holds {len(folders)} run folder(s); {REINDEX_HINT}",
            file=db_path,
        )


def _loads_dict(text: str) -> dict[str, Any]:
    """A JSON object from the index; a damaged one reads as empty so one bad row cannot hide the others."""
    try:
        return decode_json(text, "summary")
    except DamagedStore:
        return {}


def _like_prefix(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class Run:
    store: Store
    id: str

    @property
    def dir(self) -> Path:
        return self.store.runs_dir / self.id

    def __repr__(self) -> str:
        try:
            engine, name, *_ = self._row()
        except StoreError:
            return f"Run({self.id!r}, removed)"
        return f"Run({self.id!r}, engine={engine!r}, name={name!r}, status={self.status!r})"

    def _row(self) -> tuple:
        row = self.store._one(
            "SELECT engine, name, status, created, updated, pid, host, config, summary FROM runs WHERE id = ?",
            (self.id,),
        )
        if row is None:
            raise StoreError(f"run {self.id!r} was removed")
        return row

    @property
    def engine(self) -> str:
        return self._row()[0]

    @property
    def config(self) -> dict[str, Any]:
        return decode_json(self._row()[7], f"run {self.id}: the config in the index")

    @property
    def status(self) -> str:
        _, _, status, _, _, pid, host, _, _ = self._row()
        if status == "running" and not _pid_alive(pid, host):
            return "interrupted"
        return status

    @property
    def summary(self) -> dict[str, Any]:
        return decode_json(self._row()[8], f"run {self.id}: the summary in the index")

    def info(self, strict: bool = False) -> dict[str, Any]:
        """The index row; a damaged config or summary reads as {} (``problems()`` names it) unless ``strict``."""
        engine, name, _, created, updated, _, _, _, _ = self._row()

        def field(get: Callable[[], dict[str, Any]]) -> dict[str, Any]:
            try:
                return get()
            except DamagedStore:
                if strict:
                    raise
                return {}

        return {
            "id": self.id,
            "engine": engine,
            "name": name,
            "status": self.status,
            "created": created,
            "updated": updated,
            "config": field(lambda: self.config),
            "summary": field(lambda: self.summary),
            "dir": str(self.dir),
        }

    # -- the folder's copy of the index, for `reindex` -------------------------
    def _mirror_row(self) -> None:
        engine, name, status, created, updated, _, _, _, summary = self._row()
        row = {"engine": engine, "name": name, "status": status, "created": created}
        row |= {"updated": updated, "summary": _loads_dict(summary)}
        if self.dir.is_dir():  # a run being removed has no folder to copy into
            atomic_write_json(self.dir / ROW_FILE, row)

    def _mirror_metrics(self) -> None:
        rows = self.store._all(
            "SELECT step, time, data FROM metrics WHERE run_id=? ORDER BY rowid", (self.id,)
        )
        text = "".join(
            json.dumps({"step": s, "time": t, "data": d}, sort_keys=True) + "\n" for s, t, d in rows
        )
        if self.dir.is_dir():
            atomic_write_text(self.dir / METRICS_FILE, text)

    def require_folder(self) -> None:
        """Refuse to continue a run whose folder is gone: starting over would mix old and new rows."""
        if not self.dir.is_dir():
            raise StoreError(
                f"run {self.id} cannot be resumed: its folder {self.dir} is missing "
                "(remove the run with `primordium runs rm`)"
            )

    # -- writing ------------------------------------------------------------
    def claim(self) -> None:
        """Mark this process as the one running the run (on start or --resume)."""
        self.store._exec(
            "UPDATE runs SET status='running', pid=?, host=?, updated=? WHERE id=?",
            (os.getpid(), socket.gethostname(), time.time(), self.id),
        )
        self._mirror_row()

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
        with sigterm_raises(_raise_terminated):
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

    def _drop_summary(self, key: str) -> None:
        summary = self.summary
        if key in summary:
            del summary[key]
            self.store._exec(
                "UPDATE runs SET summary=? WHERE id=?",
                (json.dumps(summary, sort_keys=True), self.id),
            )
            self._mirror_row()

    def set_status(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        self.store._exec(
            "UPDATE runs SET status=?, updated=? WHERE id=?", (status, time.time(), self.id)
        )
        self._mirror_row()

    def update_summary(self, **fields: Any) -> None:
        summary = self.summary | fields
        self.store._exec(
            "UPDATE runs SET summary=?, updated=? WHERE id=?",
            (json.dumps(summary, sort_keys=True), time.time(), self.id),
        )
        self._mirror_row()

    def log(self, step: int, **metrics: Any) -> None:
        """Append one row of metrics; readers see it at once."""
        now, data = time.time(), json.dumps(metrics, sort_keys=True)
        self.store._exec(
            "INSERT INTO metrics (run_id, step, time, data) VALUES (?, ?, ?, ?)",
            (self.id, int(step), now, data),
        )
        line = json.dumps({"step": int(step), "time": now, "data": data}, sort_keys=True)
        try:
            # One O_APPEND write: a whole line, and cheaper than a Python file object per row.
            fd = os.open(self.dir / METRICS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)
        except FileNotFoundError:
            pass  # the folder is gone: `problems()` says so; the index keeps the row

    def truncate_metrics(self, after_step: int) -> None:
        """On resume, drop rows logged after the checkpoint we restart from."""
        self.store._exec(
            "DELETE FROM metrics WHERE run_id=? AND step>?", (self.id, int(after_step))
        )
        self._mirror_metrics()  # also drops a line a kill cut short

    def metrics(self) -> list[dict[str, Any]]:
        rows = self.store._all(
            "SELECT step, data FROM metrics WHERE run_id=? ORDER BY step, rowid", (self.id,)
        )
        return [{"step": step} | self._metric(step, data) for step, data in rows]

    def to_pandas(self) -> Any:
        """``metrics()`` as a pandas DataFrame (the ``pandas`` extra): one row per logged row."""
        from primordium.tables import frame

        return frame(self.metrics(), columns=["step"])

    def _metric(self, step: int, data: str) -> dict[str, Any]:
        return decode_json(data, f"run {self.id}: the metric row at step {step}")

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
                raise BadCursor(f"bad metrics cursor {cursor[:40]!r}") from None
            # SQLite integers are 64-bit; a cursor we handed out always fits.
            if not (0 <= last_id < 2**63 and math.isfinite(last_time)):
                raise BadCursor(f"metrics cursor {cursor[:40]!r} is out of range")
        rows = self.store._all(
            "SELECT rowid, step, time, data FROM metrics WHERE run_id=? AND (rowid>? OR time>?) ORDER BY rowid",
            (self.id, last_id, last_time),
        )
        counted = self.store._one("SELECT COUNT(*) FROM metrics WHERE run_id=?", (self.id,))
        count = counted[0] if counted is not None else 0
        if rows:
            last_id, last_time = (
                max(last_id, max(r[0] for r in rows)),
                max(last_time, max(r[2] for r in rows)),
            )
        out = [{"step": step} | self._metric(step, data) for _, step, _, data in rows]
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
        found = []
        for get in (lambda: self.config, lambda: self.summary):
            try:
                get()
            except DamagedStore as e:
                found.append(str(e))
        return found + self._folder_problems()

    def _folder_problems(self) -> list[str]:
        if self.dir.is_symlink():
            return [f"the run folder {self.dir} is a symbolic link (the gallery will not serve it)"]
        if not self.dir.is_dir():
            return [f"the run folder {self.dir} is missing"]
        try:
            read_json_file(self.dir / "config.json", what="config.json")
        except DamagedStore as e:
            # Said inside the run folder (the gallery shows it beside the run): no absolute path.
            where = f"config.json:{e.line}: " if e.line is not None else ""
            return [where + e.message]
        return []

    def artifacts(self) -> Iterator[Path]:
        for p in sorted(self.dir.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                yield p

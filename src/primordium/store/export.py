"""One run as one archive file: its index row, metrics and every file of its folder.

The archive unpacks into a single folder named after the run, so a colleague
can read it without primordium: ``run.json`` (the index row), ``metrics.jsonl``
(one JSON object per logged row) and the run folder's own files.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import re
import tarfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from primordium.errors import StoreError
from primordium.store.atomic import atomic_open
from primordium.store.runs import Run, sigterm_raises

FORMATS = {".tar.gz": "tar", ".tgz": "tar", ".zip": "zip"}
# Export temp files carry this and their process id, so a later export or `runs gc` knows them.
TEMP_TAG = "export-"


def archive_format(dest: Path) -> str:
    name = dest.name.lower()
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise StoreError("unknown archive type; name it .tar.gz, .tgz or .zip", file=dest)


def _members(run: Run) -> list[tuple[str, bytes | Path]]:
    if not run.dir.is_dir():
        raise StoreError(f"run {run.id} has no folder to export ({run.dir} is missing)")
    info = run.info(strict=True)  # an archive must not quietly drop a damaged field
    metrics = run.metrics()
    members: list[tuple[str, bytes | Path]] = [
        ("run.json", (json.dumps(info, indent=2, sort_keys=True) + "\n").encode()),
        (
            "metrics.jsonl",
            "".join(json.dumps(row, sort_keys=True) + "\n" for row in metrics).encode(),
        ),
    ]
    taken = {name for name, _ in members}
    for f in run.files():
        # A run may itself hold a file called run.json; ours, the index row, wins the name.
        name = f["path"] if f["path"] not in taken else "files/" + f["path"]
        members.append((name, run.dir / f["path"]))
    return members


def export_run(run: Run, dest: str | Path) -> Path:
    """Write ``run`` to ``dest`` (.tar.gz/.tgz or .zip), atomically; returns the path."""
    dest = Path(dest)
    fmt = archive_format(dest)
    if dest.is_dir():
        raise StoreError("is a folder; give the archive's file name", file=dest)
    members = _members(run)
    sweep_export_temps(dest.parent)
    tag = f"{TEMP_TAG}{os.getpid()}-"
    try:
        with sigterm_raises(_exit_by_exception), atomic_open(dest, tag=tag) as f:
            if fmt == "tar":
                _write_tar(f, run.id, members)
            else:
                _write_zip(f, run.id, members)
    except BaseException as e:
        # atomic_open cleans up after itself, except when the signal lands between the temp
        # file's creation and its try block: our process id in the name finds it then.
        for p in dest.parent.glob(f".{glob.escape(dest.name)}.{tag}*.tmp"):
            p.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise StoreError(f"cannot write the archive ({e.strerror or e})", file=dest) from None
        raise
    return dest


def _exit_by_exception(signum: int, frame: object) -> None:
    # SIGTERM ends the process by exception, so the temp file's cleanup runs (SIGKILL: see sweep).
    raise SystemExit(128 + signum)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def sweep_export_temps(folder: str | Path) -> list[Path]:
    """Delete the temp files that killed exports left in ``folder`` (those whose process is gone)."""
    removed: list[Path] = []
    try:
        candidates = list(Path(folder).glob(f".*.{TEMP_TAG}*.tmp"))
    except OSError:
        return removed
    for p in candidates:
        m = re.search(rf"\.{TEMP_TAG}(\d+)-[^/]*\.tmp$", p.name)
        if m is None or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            removed.append(p)
    return removed


def _write_tar(f: IO[bytes], root: str, members: Iterable[tuple[str, bytes | Path]]) -> None:
    with tarfile.open(fileobj=f, mode="w:gz") as tar:
        for name, src in members:
            arcname = f"{root}/{name}"
            if isinstance(src, Path):
                tar.add(src, arcname=arcname, recursive=False)
            else:
                ti = tarfile.TarInfo(arcname)
                ti.size = len(src)
                ti.mtime = int(time.time())
                ti.mode = 0o644
                tar.addfile(ti, io.BytesIO(src))


def _write_zip(f: IO[bytes], root: str, members: Iterable[tuple[str, bytes | Path]]) -> None:
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, src in members:
            arcname = f"{root}/{name}"
            if isinstance(src, Path):
                zf.write(src, arcname)
            else:
                zf.writestr(arcname, src)

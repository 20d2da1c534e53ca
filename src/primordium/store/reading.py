"""The one place where what the store reads back (index rows, run-folder JSON) meets damage.

A store is written by primordium, but disks fill, processes are killed and
people edit files. Whatever is found, a reader gets either the value it
expects or a ``DamagedStore`` error naming the run and the field, or the file
and line, with the command that repairs it where there is one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from primordium.errors import StoreError

REINDEX_HINT = "rebuild it from the run folders with `primordium runs reindex`"


class DamagedStore(StoreError):
    """Something the store wrote earlier no longer reads back."""


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return kinds.get(type(value), type(value).__name__)


def decode_json(text: Any, where: str, expect: type | None = dict) -> Any:
    """``text`` (a JSON document stored in the index) as a value of type ``expect``.

    ``where`` names it for the error, e.g. ``"run corewar-...: summary"``.
    """
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as e:
        detail = e.msg if isinstance(e, json.JSONDecodeError) else type(e).__name__
        raise DamagedStore(f"{where} is damaged (not JSON: {detail})") from None
    if expect is not None and not isinstance(value, expect):
        raise DamagedStore(f"{where} is damaged ({_kind(value)}, expected {_kind(expect())})")
    return value


def read_json_file(path: str | Path, expect: type | None = None, what: str = "run output") -> Any:
    """A JSON file of a run folder; a missing or damaged one is a one-line error naming the file (and line)."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError:
        raise DamagedStore(f"missing {what}", file=p) from None
    except UnicodeDecodeError:
        raise DamagedStore(f"damaged {what} (not UTF-8 text)", file=p) from None
    except OSError as e:
        raise DamagedStore(
            f"cannot read {what} ({e.strerror or type(e).__name__})", file=p
        ) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise DamagedStore(
            f"damaged {what} (not JSON: {e.msg}, column {e.colno})", file=p, line=e.lineno
        ) from None
    except ValueError as e:  # e.g. a number too long to convert
        raise DamagedStore(f"damaged {what} ({e})", file=p) from None
    if expect is not None and not isinstance(value, expect):
        raise DamagedStore(f"damaged {what} ({_kind(value)}, expected {_kind(expect())})", file=p)
    return value


@contextmanager
def index_errors(db_path: Path) -> Iterator[None]:
    """SQLite failures of the index (malformed, not a database, disk I/O) as one line with the repair."""
    try:
        yield
    except sqlite3.ProgrammingError:
        raise  # our own mistake (a closed connection, a bad query), not damage
    except sqlite3.DatabaseError as e:
        if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
            raise DamagedStore(
                f"the index is locked by another process ({e}); try again", file=db_path
            ) from None
        if "not a database" in str(e):
            raise DamagedStore(
                f"not a primordium store index ({e}); {REINDEX_HINT}", file=db_path
            ) from None
        if isinstance(e, sqlite3.OperationalError) and "malformed" not in str(e):
            # Permissions, a full disk, a missing table: the file may be fine, so no rebuild hint.
            raise DamagedStore(f"cannot use the index ({e})", file=db_path) from None
        raise DamagedStore(f"the index is damaged ({e}); {REINDEX_HINT}", file=db_path) from None

"""User-facing errors. The CLI prints ``str(error)`` on one line and exits 2."""

from __future__ import annotations

from pathlib import Path


class PrimordiumError(Exception):
    """A mistake in the user's input (file, flag, config), never a bug.

    ``field`` names the config field(s) the message talks about, written in
    the message as the bare field name (``programs must be even, got 3``).
    The Python API reads that as is; the CLI swaps each name for its flag.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | tuple[str, ...] | None = None,
    ):
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.fields: tuple[str, ...] = (field,) if isinstance(field, str) else tuple(field or ())
        super().__init__(self.__str__())

    def location(self) -> str:
        """``file:line: `` (or ``line N: ``) to put before the message; empty when unknown."""
        if self.file is not None:
            return self.file + (f":{self.line}" if self.line is not None else "") + ": "
        if self.line is not None:
            return f"line {self.line}: "
        return ""

    def __str__(self) -> str:
        # One line, whatever the message carried.
        return (self.location() + self.message).replace("\n", " ")


class AssemblyError(PrimordiumError):
    """Redcode that does not assemble."""


class ConfigError(PrimordiumError):
    """A bad flag, config field or setting."""


class StoreError(PrimordiumError):
    """A missing or corrupt run, checkpoint or store."""


def read_user_bytes(
    path: str | Path, what: str = "file", error: type[PrimordiumError] = PrimordiumError
) -> bytes:
    """Read a file a user named, turning every way it can fail into one line (``what``: the noun to use)."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise error(f"no such {what}", file=p) from None
    except IsADirectoryError:
        raise error(f"is a directory, not a {what}", file=p) from None
    except PermissionError:
        raise error("permission denied", file=p) from None
    except OSError as e:
        raise error(f"cannot read: {e.strerror}", file=p) from None


def read_text_file(path: str | Path) -> str:
    """Read a user's text file, turning every way it can fail into one line."""
    p = Path(path)
    data = read_user_bytes(p)
    if b"\x00" in data:
        raise PrimordiumError("binary file, not text", file=p)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Old warriors are often Latin-1; any byte string decodes as Latin-1.
        return data.decode("latin-1")

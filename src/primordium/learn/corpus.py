"""A text corpus every machine with Python has: the standard library's own source.

The files are the ``*.py`` under ``sysconfig.get_paths()["stdlib"]``, sorted
by relative path, leaving out installed packages (``site-packages``,
``dist-packages``) and the test suites (``test``, ``tests``, ``idle_test``),
so the corpus is the same on every machine with the same Python build. Its
``digest`` (SHA-256 over each file's relative path and bytes) and the Python
version go into every run's config, so a result says which text it saw.

Tokens are bytes (0-255) with END_OF_FILE (256) after each file. A file is
held out for validation when the first byte of SHA-256 of its relative path
is below ``valid_share * 256``: a split by file that does not move when other
files come or go.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from primordium.errors import ConfigError

END_OF_FILE = 256
VOCAB = 257
_LEFT_OUT = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}


def stdlib_files(root: Path | None = None) -> list[tuple[str, Path]]:
    """(relative path, path) of the corpus's files, sorted by relative path."""
    root = Path(root if root is not None else sysconfig.get_paths()["stdlib"])
    found = []
    for folder, dirs, names in os.walk(root):
        # Pruned, not filtered: site-packages can hold far more than the stdlib itself.
        dirs[:] = [d for d in dirs if d not in _LEFT_OUT]
        for name in names:
            if name.endswith(".py"):
                path = Path(folder) / name
                found.append((path.relative_to(root).as_posix(), path))
    return sorted(found)


@dataclass(frozen=True)
class Corpus:
    train: np.ndarray  # uint16 tokens
    valid: np.ndarray
    files: int
    valid_files: int
    digest: str
    python: str

    def describe(self) -> dict:
        return {
            "source": "python-stdlib",
            "python": self.python,
            "digest": self.digest,
            "files": self.files,
            "valid_files": self.valid_files,
            "train_tokens": int(self.train.size),
            "valid_tokens": int(self.valid.size),
        }


def _is_valid(rel: str, share: float) -> bool:
    return hashlib.sha256(rel.encode()).digest()[0] < share * 256


def load(valid_share: float = 0.1, root: str | None = None) -> Corpus:
    """The corpus split by file; cached, since every run of a process reads the same text."""
    return _load(float(valid_share), None if root is None else str(root))


@functools.lru_cache(maxsize=2)
def _load(valid_share: float, root: str | None) -> Corpus:
    if not 0 < valid_share < 1:
        raise ConfigError(
            f"valid_share must be between 0 and 1, got {valid_share}", field="valid_share"
        )
    files = stdlib_files(Path(root) if root else None)
    if not files:
        raise ConfigError(f"no Python source found under {root}", field="corpus")
    digest = hashlib.sha256()
    texts: dict[bool, list[bytes]] = {True: [], False: []}
    for rel, path in files:
        data = path.read_bytes()
        digest.update(rel.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
        texts[_is_valid(rel, valid_share)].append(data)
    if not texts[True] or not texts[False]:
        raise ConfigError(
            f"valid_share {valid_share} leaves no file on one side of the split",
            field="valid_share",
        )
    return Corpus(
        train=_tokens(texts[False]),
        valid=_tokens(texts[True]),
        files=len(files),
        valid_files=len(texts[True]),
        digest=digest.hexdigest(),
        python=platform.python_version(),
    )


def _tokens(texts: list[bytes]) -> np.ndarray:
    """The files' bytes as uint16 tokens, END_OF_FILE after each."""
    out = np.frombuffer(b"".join(t + b"\0" for t in texts), np.uint8).astype(np.uint16)
    ends = np.cumsum([len(t) + 1 for t in texts]) - 1
    out[ends] = END_OF_FILE
    return out


class CorpusStream:
    """Training windows of ``context + 1`` tokens at offsets drawn from (seed, step)."""

    def __init__(self, corpus: Corpus, context: int, seed: int):
        if corpus.train.size <= context + 1:
            raise ConfigError(
                f"context {context} is longer than the training text", field="context"
            )
        self.tokens, self.context, self.seed = corpus.train, context, seed

    def batch(self, step: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, step])
        starts = rng.integers(0, self.tokens.size - self.context - 1, size)
        rows = starts[:, None] + np.arange(self.context + 1)
        tokens = self.tokens[rows].astype(np.int64)
        return tokens, np.ones((size, self.context), bool)


def valid_windows(corpus: Corpus, context: int, count: int) -> np.ndarray:
    """``count`` evenly spaced windows of the held-out text (the same for every seed)."""
    span = corpus.valid.size - context - 1
    if span < 1:
        raise ConfigError(f"context {context} is longer than the validation text", field="context")
    starts = np.linspace(0, span, count).astype(np.int64)
    return corpus.valid[starts[:, None] + np.arange(context + 1)].astype(np.int64)

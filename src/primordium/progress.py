"""Progress bars for the Python API: in a Jupyter kernel, on a terminal, or nowhere.

The engines draw nothing; they call a hook (``run_soup(progress=)``,
``run_drq(on_progress=)``, ``run_search(on_generation=)``,
``tournament(on_progress=)``). A ``Bar`` has a feeder for each hook:

    with bar("soup", total=2048) as b:
        run, result = run_soup(store, config, schedule, progress=b.soup)

In a kernel the bar is one display (an HTML ``<progress>`` with a text
line) updated in place through IPython's display ids, so it needs no
widgets library; rich's own Jupyter bars need ipywidgets. On a terminal it
is rich's bar on stderr; anywhere else (a script piped to a file, a test)
it stays silent.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# A notebook redraws at most this often: every update is a message to the front end.
_MIN_INTERVAL = 0.2


def in_kernel() -> bool:
    """True inside a Jupyter (IPython) kernel, where display updates reach a notebook."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Bar:
    """One task's progress: ``update(completed)`` or ``advance(n)``, plus the engines' feeders."""

    def __init__(self, description: str, total: int | None, where: str | None = None):
        self.description = description
        self.total = total
        self.completed = 0
        self.status = ""
        self.started = time.monotonic()
        self._drawn = 0.0
        self.where = where or ("kernel" if in_kernel() else "terminal")
        self._handle: Any = None
        self._rich: Any = None
        if self.where == "kernel":
            from IPython.display import display

            self._handle = display(self, display_id=True)
        elif self.where == "terminal" and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self._rich = Progress(console=Console(file=sys.stderr), transient=False)
            self._rich.start()
            self._task = self._rich.add_task(description, total=total)

    # -- what a person sees -------------------------------------------------------
    def text(self) -> str:
        """The bar as one line of text (also what a notebook shows as plain text)."""
        elapsed = time.monotonic() - self.started
        parts = [self.description]
        if self.total:
            k = int(20 * min(self.completed, self.total) / self.total)
            parts.append("[" + "#" * k + "." * (20 - k) + "]")
            parts.append(f"{self.completed}/{self.total}")
        else:
            parts.append(str(self.completed))
        if self.status:
            parts.append(self.status)
        parts.append(_clock(elapsed))
        if self.total and 0 < self.completed < self.total:
            parts.append("eta " + _clock(elapsed / self.completed * (self.total - self.completed)))
        return "  ".join(parts)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        value = min(self.completed, self.total) if self.total else 0
        top = self.total or 1
        return (
            f'<progress value="{value}" max="{top}" style="width:16em"></progress> '
            f"<code>{html.escape(self.text())}</code>"
        )

    def _draw(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._drawn < _MIN_INTERVAL:
            return
        self._drawn = now
        if self._handle is not None:
            self._handle.update(self)
        elif self._rich is not None:
            self._rich.update(
                self._task, completed=self.completed, total=self.total, description=self.label()
            )

    def label(self) -> str:
        return f"{self.description} {self.status}".strip()

    # -- counting -----------------------------------------------------------------
    def update(self, completed: int, status: str | None = None, total: int | None = None) -> None:
        self.completed = int(completed)
        if status is not None:
            self.status = status
        if total is not None:
            self.total = total
        self._draw(final=self.total is not None and self.completed >= self.total)

    def advance(self, n: int = 1, status: str | None = None) -> None:
        self.update(self.completed + n, status)

    def close(self) -> None:
        self._draw(final=True)
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    # -- feeders, one per engine hook ---------------------------------------------
    def soup(self, row: dict) -> None:
        """``run_soup(progress=)``: epochs done, with the high-order entropy and the transition."""
        t = row.get("transition_epoch")
        status = f"H {row['high_order_entropy']:.3f}" + (f", transition at {t}" if t else "")
        self.update(row["epoch"], status, total=row.get("target"))

    def drq(self, row: dict) -> None:
        """``run_drq(on_progress=)``: iterations done over all rounds, with the round and best fitness."""
        best = row.get("best")
        # After the last round the loop reports the round after it; there is none to name.
        done = self.total is not None and row["completed"] >= self.total
        parts = ([] if done else [f"round {row['round']}"]) + (
            [f"best {best:.3f}"] if best is not None else []
        )
        self.update(row["completed"], ", ".join(parts))

    def search(self, history: list[dict]) -> None:
        """``run_search(on_generation=)``: generations done and the best (lowest) score so far."""
        found = (r.get("best_score", r.get("score")) for r in history)
        scores = [float(x) for x in found if x is not None]
        self.update(len(history), f"best {min(scores):.4f}" if scores else "first generation")

    def chunks(self, n: int) -> None:
        """``tournament(on_progress=)`` and other hooks that report work done in pieces of n."""
        self.advance(n)


@contextmanager
def bar(description: str, total: int | None = None, where: str | None = None) -> Iterator[Bar]:
    """A ``Bar`` drawn in a kernel, on a terminal or nowhere (``where``: "kernel", "terminal", "none")."""
    b = Bar(description, total, where)
    try:
        yield b
    finally:
        b.close()

"""How commands speak: plain rich text, ``--json``, or nothing with ``--quiet``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:  # the progress bar's module loads only when a bar is shown
    from rich.progress import Progress

# The two flags every command takes, declared once.
Json = typer.Option(False, "--json", help="Print machine-readable JSON.")
Quiet = typer.Option(False, "--quiet", "-q", help="Print nothing but errors.")


class Output:
    """One per command invocation; decides what reaches stdout and stderr."""

    def __init__(self, json_mode: bool = False, quiet: bool = False):
        self.json_mode = json_mode
        self.quiet = quiet
        self.out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.err = Console(file=sys.stderr, highlight=False)

    def print(self, *objects: Any) -> None:
        """Human output; suppressed by --json (stdout is for the JSON) and --quiet."""
        if not (self.json_mode or self.quiet):
            self.out.print(*objects)

    def line(self, text: str) -> None:
        """One line of plain text, as is: no markup, so names like "[RS] Imp" print whole."""
        if not (self.json_mode or self.quiet):
            self.out.print(text, markup=False, highlight=False, emoji=False)

    def json(self, obj: Any) -> None:
        print(json.dumps(obj, indent=None, sort_keys=False))

    def info(self, message: str) -> None:
        """Side notes for a person (go to stderr so --json output stays clean)."""
        if not self.quiet:
            self.err.print(message)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[_Task]:
        """A progress bar on stderr, or a silent counter with --quiet/--json off a tty."""
        show = not self.quiet and self.err.is_terminal
        if not show:
            yield _Task(None, None)
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
        ) as progress:
            task = progress.add_task(description, total=total, status="")
            yield _Task(progress, task)

    @contextmanager
    def generations(self, description: str, total: int) -> Iterator[Callable[[list[dict]], None]]:
        """A bar per generation of a search, fed by the loop's ``on_generation(history)``.

        It shows the best score so far (the lowest: ASAL's scores are losses)
        and, from the time per generation, when the search should end. Until
        the first generation ends it says so, since that one also compiles.
        """
        with self.progress(description, total) as bar:

            def on_generation(history: list[dict]) -> None:
                found = (r.get("best_score", r.get("score")) for r in history)
                scores = [float(x) for x in found if x is not None]
                status = f"best {min(scores):.4f}" if scores else "compiling, first generation"
                bar.update(len(history), status=status)

            yield on_generation


class _Task:
    def __init__(self, progress: Progress | None, task: Any):
        self._progress = progress
        self._task = task

    @property
    def shown(self) -> bool:
        """Whether a bar is drawn (callers can then skip work done only to report progress)."""
        return self._progress is not None

    def advance(self, n: int = 1, status: str | None = None) -> None:
        if self._progress is not None:
            kw: dict[str, Any] = {"status": status} if status is not None else {}
            self._progress.update(self._task, advance=n, **kw)

    def update(self, completed: int, status: str | None = None, total: int | None = None) -> None:
        if self._progress is not None:
            kw: dict[str, Any] = {"status": status} if status is not None else {}
            if total is not None:  # for work whose size is known only once it starts
                kw["total"] = total
            self._progress.update(self._task, completed=completed, **kw)

"""What every command shares: the store named by --db, and progress drawn on stderr."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from incidentdb._progress import SILENT
from incidentdb._progress import Progress as ProgressProtocol

if TYPE_CHECKING:
    from rich.progress import TaskID

    from incidentdb._store import Store

__all__ = ["AppContext", "RichProgress", "pass_app"]


class RichProgress:
    """Draws one rich progress bar per stage on stderr."""

    def __init__(self) -> None:
        # rich is imported here, not at the top: `--quiet` and the JSON output never draw.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: TaskID | None = None
        self._started = False

    def stage(self, name: str, total: int | None = None) -> None:
        if not self._started:
            self._bar.start()
            self._started = True
        if self._task is not None:
            task = self._bar.tasks[self._task]
            self._bar.update(self._task, total=task.completed)
        self._task = self._bar.add_task(name, total=total)

    def advance(self, units: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, units)

    def done(self) -> None:
        if self._started:
            if self._task is not None:
                task = self._bar.tasks[self._task]
                self._bar.update(self._task, total=task.completed)
            self._bar.stop()
            self._started = False


@dataclass
class AppContext:
    db_url: str | None
    quiet: bool
    _store: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        if self._store is None:
            from incidentdb._store import Store

            self._store = Store(self.db_url)
        return self._store

    def progress(self) -> ProgressProtocol:
        return SILENT if self.quiet else RichProgress()

    def info(self, message: str) -> None:
        """A message for the person at the terminal (stderr), silenced by --quiet."""
        if not self.quiet:
            click.echo(message, err=True)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_app: Any = click.make_pass_decorator(AppContext)

"""Progress reporting for long jobs, decoupled from how it is drawn.

The library calls a :class:`Progress`; the CLI passes one that draws rich bars on stderr, and
`--quiet` (or library use) passes :data:`SILENT`.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["SILENT", "Progress"]


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage begins (`total` units of work, if known)."""

    def advance(self, units: int = 1) -> None:
        """`units` more of the current stage are done."""

    def done(self) -> None:
        """The job is over."""


class _Silent:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, units: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


SILENT: Progress = _Silent()

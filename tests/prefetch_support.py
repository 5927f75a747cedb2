"""Producers for the prefetch-process tests: a spawned process imports them by module name, and
test modules (imported by pytest with importlib) cannot be imported that way."""

from __future__ import annotations

from collections.abc import Iterator

from incidentdb import SnapshotFormatError


def numbers(count: int) -> Iterator[int]:
    return iter(range(count))


def failing(good: int) -> Iterator[int]:
    yield from range(good)
    raise SnapshotFormatError("reports.csv", good + 2, "report_number: 'x' is not a number")


def endless() -> Iterator[int]:
    n = 0
    while True:
        yield n
        n += 1

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ingest._prefetch import prefetched


def test_yields_everything_in_order() -> None:
    assert list(prefetched(range(10_000), batch=7, depth=2)) == list(range(10_000))


def test_an_error_surfaces_where_it_happened() -> None:
    def items() -> Iterator[int]:
        yield from range(5)
        raise ValueError("row 6 is bad")

    seen: list[int] = []
    with pytest.raises(ValueError, match="row 6 is bad"):
        for item in prefetched(items(), batch=2):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_stopping_early_stops_the_thread() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            yield n
            n += 1

    it = prefetched(endless(), batch=10, depth=1)
    assert next(it) == 0
    it.close()
    assert not any(t.name == "incidentdb-prefetch" for t in threading.enumerate())

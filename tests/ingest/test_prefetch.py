from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator

import prefetch_support
import pytest

from incidentdb import SnapshotFormatError
from ingest._prefetch import prefetched, produced_in_process


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


# -- in a separate process (producers in prefetch_support, which a spawned process imports) --


def test_a_process_yields_everything_in_order() -> None:
    assert list(produced_in_process(prefetch_support.numbers, 10_000, batch=7, depth=2)) == list(
        range(10_000)
    )


def test_an_error_in_the_process_surfaces_with_its_type_and_attributes() -> None:
    seen: list[int] = []
    with pytest.raises(SnapshotFormatError) as caught:
        for item in produced_in_process(prefetch_support.failing, 5, batch=2):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]
    assert str(caught.value) == "reports.csv, row 7: report_number: 'x' is not a number"
    assert (caught.value.file, caught.value.row) == ("reports.csv", 7)


def test_stopping_early_stops_the_process() -> None:
    it = produced_in_process(prefetch_support.endless, batch=10, depth=1)
    assert next(it) == 0
    it.close()
    assert multiprocessing.active_children() == []

"""Parse ahead in a thread while the database writes.

SQLite and psycopg release the GIL while the database works (inserting, full-text indexing), so
a thread that parses the next batch meanwhile runs truly in parallel with it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["prefetched"]

T = TypeVar("T")

_DONE = object()


def prefetched(items: Iterable[T], *, batch: int = 1000, depth: int = 2) -> Iterator[T]:
    """Yield `items` in order, produced by a background thread up to `depth` batches ahead.

    An exception raised while producing is raised here, at the point in the sequence where it
    happened; closing the iterator early stops the thread. Memory stays bounded by
    `depth × batch` items.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        chunk: list[T] = []
        try:
            for item in items:
                chunk.append(item)
                if len(chunk) == batch:
                    if not put(chunk):
                        return
                    chunk = []
        except BaseException as exc:  # handed to the consumer, which re-raises it
            if chunk:
                put(chunk)
            put(exc)
            return
        if chunk:
            put(chunk)
        put(_DONE)

    worker = threading.Thread(target=produce, name="incidentdb-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            value = buffer.get()
            if value is _DONE:
                return
            if isinstance(value, BaseException):
                raise value
            yield from value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)

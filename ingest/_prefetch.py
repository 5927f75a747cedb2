"""Parse ahead, in a thread or a process, while the database writes.

SQLite and psycopg release the GIL while the database works (inserting, full-text indexing), so
a thread that parses the next batch meanwhile runs truly in parallel with it. A big input is
better parsed in another process: then parsing and preparing rows do not compete with the
writer's own Python work for the interpreter lock.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["prefetched", "produced_in_process"]

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


def produced_in_process(
    function: Callable[..., Iterable[T]], *args: Any, batch: int = 500, depth: int = 8
) -> Iterator[T]:
    """Yield the items of `function(*args)`, run in a separate process, in order.

    A thread shares the interpreter lock, so it can only overlap with the time the database
    itself works; a process parses and prepares rows on the other core while this one writes.
    `function`, `args` and the items must pickle (the process is spawned, not forked, so that
    it inherits no open database connection). Memory stays bounded by `depth × batch` items.

    An exception raised in the process is raised here, as the same type with the same
    attributes, after the items produced before it; closing the iterator early stops the
    process.
    """
    context = multiprocessing.get_context("spawn")
    channel: Any = context.Queue(maxsize=depth)
    worker = context.Process(
        target=_produce,
        args=(channel, function, args, batch),
        name="incidentdb-prefetch",
        daemon=True,
    )
    worker.start()
    try:
        while True:
            try:
                kind, value = channel.get(timeout=1.0)
            except queue.Empty:
                if not worker.is_alive():
                    raise RuntimeError(
                        f"the prefetch process stopped (exit code {worker.exitcode})"
                    ) from None
                continue
            if kind == "items":
                yield from value
            elif kind == "error":
                raise _rebuilt(*value)
            else:
                return
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join(timeout=5)
        channel.close()


def _produce(
    channel: Any, function: Callable[..., Iterable[Any]], args: tuple[Any, ...], batch: int
) -> None:
    chunk: list[Any] = []
    try:
        for item in function(*args):
            chunk.append(item)
            if len(chunk) == batch:
                channel.put(("items", chunk))
                chunk = []
    except BaseException as exc:  # handed to the consumer, which re-raises it
        if chunk:
            channel.put(("items", chunk))
        channel.put(("error", (type(exc), exc.args, dict(vars(exc)), str(exc))))
        return
    if chunk:
        channel.put(("items", chunk))
    channel.put(("done", None))


def _rebuilt(
    kind: type[BaseException], args: tuple[Any, ...], attributes: dict[str, Any], text: str
) -> BaseException:
    """The exception a producer raised. Not unpickled as such: an exception whose __init__
    takes other arguments than its `args` (most of ours) cannot be."""
    try:
        exc = kind.__new__(kind)
        exc.args = args
        vars(exc).update(attributes)
        return exc
    except Exception:  # a type that cannot be rebuilt this way still says what happened
        return RuntimeError(f"{kind.__name__}: {text}")

"""Where the CPU of a feed poll goes, piece by piece: parse, store, a 304.

`benchmarks/feeds.py` times whole polls, whose wall time on a shared machine mostly measures
the other jobs. This prints CPU milliseconds (best of several rounds, `time.process_time`) of
each piece on the same feeds (`feeds.make_feed`, 50 entries each):

1. **parse**: ``feedparser.parse`` of a body as the naive loop does it (default options);
   the ingester's digest of a body in this process (untuned feedparser, as when it parses in
   threads); and the same in a forked process after ``tune_feedparser()``, as in the
   ingester's parser processes. The digests must be equal.
2. **store**: inserting a feed's 50 entries into a fresh SQLite store, ten feeds per
   transaction, with the SQLite executemany path and with the generic INSERT … RETURNING.
3. **304**: a conditional GET answered 304 by a local server after 0.1 s, 32 at a time,
   through the poller with its own client (requests handed to the transport) and with a plain
   ``httpx.AsyncClient`` (``send``).

Usage::

    python benchmarks/feeds_cpu.py [--feeds 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import io
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import feedparser
import httpx
from _util import machine
from feeds import make_feed, serve_sites
from sqlalchemy import text

from incidentdb import Store
from incidentdb._feeds import _insert_entries_returning, _insert_entries_sqlite
from ingest._http import USER_AGENT
from ingest.rss._ingester import _Digest, _digest, _entry_row
from ingest.rss.fetch import FeedRequest, _Poller, _Settings, new_client
from ingest.rss.parse import tune_feedparser

CONTENT_TYPE = "application/rss+xml; charset=utf-8"


def best_ms(work: Callable[[], Any], per: int, rounds: int) -> float:
    """The least CPU milliseconds per item over `rounds` runs of `work` (which does `per`)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return 1000 * best / per


def digests(bodies: list[bytes]) -> list[_Digest]:
    return [
        _digest(body, f"http://127.0.0.1/feed/{i}.xml", CONTENT_TYPE)._replace(seconds=0.0)
        for i, body in enumerate(bodies)
    ]


def tuned_child(bodies: list[bytes], rounds: int, conn: Any) -> None:
    tune_feedparser()
    conn.send((best_ms(lambda: digests(bodies), len(bodies), rounds), digests(bodies)))


def store_ms(found: list[_Digest], insert: Callable[..., list[int]], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{tmp}/s.sqlite") as store:
            store.add_feeds(
                [(f"http://127.0.0.1/feed/{i}.xml", None, False) for i in range(len(found))]
            )
            with store.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO ingest_runs (id, ingester, started_at, outcome, counts) "
                        "VALUES (1, 'rss.v1', '2026-01-01', 'running', '{}')"
                    )
                )
            groups = [
                [_entry_row(e, pk, 1) for pk, d in enumerate(found[i : i + 10], i + 1) for e in d]
                for i in range(0, len(found), 10)
            ]
            started = time.process_time()
            for rows in groups:
                rows.sort(key=lambda row: row["canonical_url"])
                with store.engine.begin() as conn:
                    assert len(insert(conn, rows, dt.datetime(2026, 1, 1))) == len(rows)
            best = min(best, time.process_time() - started)
    return 1000 * best / len(found)


def not_modified_ms(rounds: int) -> tuple[float, float]:
    """CPU ms per 304 through the poller: with its own client, with a plain AsyncClient."""
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    ours, theirs = context.Pipe()
    server = context.Process(
        target=serve_sites, args=(200, 2, 20, 0.1, counter, theirs), daemon=True
    )
    server.start()
    urls = ours.recv()
    requests = [
        FeedRequest(
            url=url,
            etag='"'
            + hashlib.md5(make_feed(f"site{url.rsplit('/', 1)[1][:-4]}", 2)).hexdigest()
            + '"',
        )
        for url in urls
    ] * 5
    settings = _Settings(
        concurrency=32,
        per_host=2,
        timeout=10,
        total_timeout=60,
        retries=0,
        backoff=0.5,
        retry_after_cap=30,
        max_bytes=1 << 20,
        max_redirects=10,
    )

    async def run(client: httpx.AsyncClient) -> float:
        async with client:
            poller = _Poller(client, settings)
            best = float("inf")
            for _ in range(rounds):
                started = time.process_time()
                results = await asyncio.gather(*(poller.poll(r) for r in requests))
                best = min(best, time.process_time() - started)
                assert all(r.outcome == "not_modified" for r in results), results[0]
            return 1000 * best / len(requests)

    try:
        own = asyncio.run(run(new_client(concurrency=32, per_host=2)))
        plain = asyncio.run(run(httpx.AsyncClient(headers={"User-Agent": USER_AGENT})))
    finally:
        ours.send("stop")
        server.join(5)
    return own, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print("machine:", machine(), "load:", os.getloadavg())
    bodies = [make_feed(f"site{i}", 50) for i in range(args.feeds)]

    def naive() -> None:
        for body in bodies:
            feedparser.parse(io.BytesIO(body), response_headers={"content-type": CONTENT_TYPE})

    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    child = context.Process(target=tuned_child, args=(bodies, args.rounds, theirs))
    child.start()
    tuned, tuned_digests = ours.recv()
    child.join()
    plain_digests = digests(bodies)
    assert tuned_digests == plain_digests, "the tuned feedparser changed a digest"
    rows = [
        (
            "parse: feedparser.parse(body), default options",
            best_ms(naive, len(bodies), args.rounds),
        ),
        (
            "parse: ingester digest, untuned (threads)",
            best_ms(lambda: digests(bodies), len(bodies), args.rounds),
        ),
        ("parse: ingester digest, tune_feedparser() (processes)", tuned),
        (
            "store: SQLite executemany of tuples",
            store_ms([d.entries for d in plain_digests], _insert_entries_sqlite, args.rounds),
        ),
        (
            "store: INSERT ... RETURNING (generic)",
            store_ms([d.entries for d in plain_digests], _insert_entries_returning, args.rounds),
        ),
    ]
    own, plain = not_modified_ms(args.rounds)
    rows += [("304: poller, own client (transport)", own), ("304: poller, AsyncClient.send", plain)]
    width = max(len(name) for name, _ in rows)
    print(f"{'piece':<{width}}  CPU ms per feed")
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:8.3f}")
    print("load at the end:", os.getloadavg())


if __name__ == "__main__":
    main()

"""The `rss.v1` ingester: poll every due feed, store its entries, turn relevant ones into reports.

A run has two phases, each safe to run in several worker processes at once on PostgreSQL:

1. **Polling.** The worker leases a batch of due feeds (:func:`incidentdb._feeds.claim_feeds`),
   polls them concurrently with the poller of :mod:`ingest.rss.fetch` (conditional GET with the
   stored validators; the limits of :func:`ingest.rss.poll_feeds`), parses each answer (in
   forked parser processes when there are CPUs to spare) and stores its entries as `unscored`,
   group-committed with the feed's new state (validators, permanent redirects, back-off) and
   the run's record of the poll. It leases the next batch while half of one is still in
   flight, until none is due, and renews its leases every third of the lease meanwhile.
2. **Judging.** Unscored entries (this run's and any backlog) are scored by the relevance filter;
   rejected ones are kept as such; relevant ones become reports, and the grouper decides which
   incident each joins, else a candidate incident is opened for an editor to review. Entries are
   locked as they are judged (`FOR UPDATE SKIP LOCKED`) and grouping is serialised by an advisory
   lock, so concurrent workers neither judge an entry twice nor open one story twice.

Nothing already grouped is grouped again, so an editor's merges, moves, accepts and rejects are
never undone by a later run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import multiprocessing
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import httpx

from incidentdb import IngestError, Progress, Store
from incidentdb._feeds import (
    DEFAULT_INTERVAL,
    ClaimedFeed,
    GroupCandidate,
    Judgement,
    JudgementWriter,
    PendingEntry,
    PollRecord,
    claim_feeds,
    claim_unscored,
    count_unscored,
    entity_names,
    finish_polls,
    group_candidates,
    insert_entries,
    known_entry_urls,
    lock_grouping,
    make_all_due,
    release_feeds,
    renew_leases,
)
from incidentdb._models import utc_now
from ingest.rss._pipeline import EntityFinder, Judge, load_pipeline
from ingest.rss.fetch import (
    DEFAULT_MAX_BYTES,
    FeedRequest,
    FeedResult,
    PollOutcome,
    _Poller,
    _Settings,
    fetch_fulltext,
    new_client,
)
from ingest.rss.parse import (
    FeedError,
    FeedFormatError,
    parse_entry_fields,
    tune_feedparser,
)

__all__ = ["RssIngester"]

_AUTO: Any = object()
# Below this many feeds, forking parser processes costs more than it saves.
_POOL_MIN_FEEDS = 8
_PARSER_NICENESS = 10
# A group commit waits up to this long for this many feeds while others are in flight.
_GROUP_FEEDS = 16
_GROUP_LINGER = 0.1


@dataclass
class _Totals:
    outcomes: Counter[str] = field(default_factory=Counter)
    entries: Counter[str] = field(default_factory=Counter)
    judged: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    bytes_downloaded: int = 0


class RssIngester:
    """Polls the store's feeds and files relevant entries as reports grouped into incidents.

    Args:
        worker_id: names this worker in leases and poll records (default: host and pid).
        concurrency: requests in flight at once; `per_host` of them to one host.
        fulltext: fetch every new entry's article page for its text (feeds marked `fulltext`
            always are).
        all_due: make every feed that is not gone due now, before polling.
        batch: feeds leased at a time (default: 16 × concurrency); the next batch is leased
            when half of one is left in flight.
        lease_seconds: how long a lease holds; a crashed worker's feeds wait this long.
        interval: time between polls of a healthy feed.
        timeout, retries, backoff, max_bytes: passed to :func:`ingest.rss.iter_poll_feeds`.
        judge: the relevance filter and grouper; by default `ingest.relevance` and
            `ingest.grouping` (None: store entries unscored, for a later run to judge).
        window_days: a report may join incidents dated this many days either side of it.
        parse_workers: processes that parse feeds while this one fetches and stores (default:
            one per CPU this process may use, up to 8; none on a single CPU or when the load
            average is four times the CPUs or more); 0 parses in this process.
            They are forked before polling starts, so only where `fork` exists (not Windows or
            macOS's default), and only when at least a few feeds are due.

    Leases are renewed every third of `lease_seconds` while their feeds are being polled, so
    a long poll never lets another worker claim a feed this one still holds.
    """

    name = "rss.v1"

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        concurrency: int = 16,
        per_host: int = 2,
        fulltext: bool = False,
        all_due: bool = False,
        batch: int | None = None,
        lease_seconds: float = 900.0,
        interval: dt.timedelta = DEFAULT_INTERVAL,
        timeout: float = 10.0,
        total_timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
        retry_after_cap: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        judge: Judge | None = _AUTO,
        window_days: int = 60,
        parse_workers: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.concurrency = concurrency
        self.per_host = per_host
        self.fulltext = fulltext
        self.all_due = all_due
        # Feed lists are often grouped by site, so a batch of a few times `concurrency` holds
        # few hosts, and with `per_host` requests per host at a time most slots would idle
        # (500 feeds of 20 sites, 32 slots: 4.0 s for a 304-only poll with batches of 128,
        # 2.0 s with 512). Leases are renewed during the poll, so big batches are safe.
        self.batch = batch or 16 * concurrency
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.interval = interval
        self.poll_options: dict[str, Any] = {
            "concurrency": concurrency,
            "per_host": per_host,
            "timeout": timeout,
            "total_timeout": total_timeout,
            "retries": retries,
            "backoff": backoff,
            "retry_after_cap": retry_after_cap,
            "max_bytes": max_bytes,
        }
        self.judge = judge
        self.window = dt.timedelta(days=window_days)
        if parse_workers is not None and parse_workers < 0:
            raise ValueError(f"parse_workers must not be negative, not {parse_workers}")
        self.parse_workers = parse_workers

    @contextmanager
    def open(self, source: str, progress: Progress) -> Iterator[None]:
        raise IngestError(
            "rss.v1 polls the feeds registered in the store; it does not read a source",
            hint="Use `incidentdb ingest feeds` or Store.ingest_feeds().",
        )
        yield  # pragma: no cover

    def load(self, opened: Any, writer: Any, progress: Progress) -> None:
        raise IngestError("rss.v1 runs through Store.ingest_feeds()")

    # -- the run ---------------------------------------------------------------------------------

    def run(
        self, store: Store, run_id: int, progress: Progress
    ) -> tuple[dict[str, Any], list[str]]:
        """Poll, then judge; returns the run's counts and notes."""
        totals = _Totals()
        if self.all_due:
            make_all_due(store.engine)
        first = claim_feeds(store.engine, self.worker_id, limit=self.batch, lease=self.lease)
        try:
            with self._parse_pool(len(first)) as pool:
                self._pool = pool
                asyncio.run(self._poll_phase(store, run_id, first, totals, progress))
        finally:
            self._pool = None
        self._judge_phase(store, totals, progress)
        failed = sum(n for o, n in totals.outcomes.items() if o not in ("ok", "not_modified"))
        counts: dict[str, Any] = {
            "feeds": {
                "polled": sum(totals.outcomes.values()),
                "ok": totals.outcomes["ok"] + totals.outcomes["bozo"],
                "not_modified": totals.outcomes["not_modified"],
                "failed": failed - totals.outcomes["bozo"],
                "bytes": totals.bytes_downloaded,
            },
            "entries": {
                "added": totals.entries["new"],
                "unchanged": totals.entries["duplicate"],
                "errors": totals.entries["errors"],
                "rejected": totals.judged["rejected"],
                "unscored": totals.judged["unscored"],
            },
            "reports": {
                "added": totals.judged["joined"] + totals.judged["opened"],
                "already_known": totals.judged["known"],
            },
            "incidents": {
                "added": totals.judged["opened"],
                "joined": totals.judged["joined"],
            },
        }
        return counts, totals.notes

    @contextmanager
    def _parse_pool(self, feeds: int) -> Iterator[Executor | None]:
        """Processes to parse feeds in, or None to parse in this one's threads.

        The workers are forked here, before the event loop (and its threads) exist: forking a
        process with threads risks copying a lock some thread holds. `fork`, not `spawn` or
        `forkserver`: those re-import the caller's `__main__`, which breaks scripts that have
        no `if __name__ == "__main__"` guard.
        """
        workers = min(_idle_cpus() if self.parse_workers is None else self.parse_workers, feeds)
        self._workers = workers
        if (
            workers < 1
            or feeds < _POOL_MIN_FEEDS
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            yield None
            return
        try:
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_init_parser_process,
            )
            pool.submit(int).result()  # with `fork`, every worker starts at the first task
        except (OSError, BrokenProcessPool):  # no processes to be had: parse here
            yield None
            return
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    async def _poll_phase(
        self,
        store: Store,
        run_id: int,
        first: list[ClaimedFeed],
        totals: _Totals,
        progress: Progress,
    ) -> None:
        # Parsing (feedparser) is the CPU-bound part of a poll; it runs in the parser processes
        # (else in threads), a few feeds at a time, while the event loop goes on fetching.
        self._queue: list[tuple[ClaimedFeed, PollRecord, Any, asyncio.Future[list[str]]]] = []
        self._flusher: asyncio.Task[None] | None = None
        # One writer at a time: a group of polls, a claim, a lease renewal or a release (each
        # locks feed rows; on SQLite two writing connections would fail each other).
        self._db_lock = asyncio.Lock()
        self._held: set[int] = {f.pk for f in first}
        # Only feeds with a body to parse and write take one of these (bounding the bodies held).
        self._slots = asyncio.Semaphore(8 if self._pool is None else 4 * self._workers + 4)
        renewer = asyncio.create_task(self._renew_leases(store, totals))
        tasks: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []
        wake = asyncio.Event()

        def finished(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())  # type: ignore[arg-type]
            wake.set()

        progress.stage("polling feeds")
        claimed = first
        try:
            async with new_client(concurrency=self.concurrency, per_host=self.per_host) as client:
                poller = _Poller(client, _Settings(**self.poll_options, max_redirects=10))
                while True:
                    for feed in claimed:
                        task = asyncio.create_task(
                            self._poll_one(store, run_id, feed, poller, client, totals, progress)
                        )
                        tasks.add(task)
                        task.add_done_callback(finished)
                    if not tasks:
                        break
                    # Claim the next batch while half of this one is still in flight, not after
                    # its last feed: a batch often holds few hosts (lists are grouped by site),
                    # and with a few requests per host at a time, waiting for it to drain would
                    # leave most of the overall slots idle.
                    low = self.batch // 2 if claimed else 0
                    while len(tasks) > low and not failures:
                        wake.clear()
                        await wake.wait()
                    if failures:
                        raise failures[0]
                    async with self._db_lock:  # SQLite: one writing connection at a time
                        claimed = await asyncio.to_thread(
                            claim_feeds,
                            store.engine,
                            self.worker_id,
                            limit=self.batch,
                            lease=self.lease,
                        )
                    self._held.update(f.pk for f in claimed)
        finally:
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            if self._held:
                # Interrupted: the feeds not written are given back, not left leased.
                async with self._db_lock:
                    await asyncio.to_thread(
                        release_feeds, store.engine, self.worker_id, sorted(self._held)
                    )
                self._held.clear()

    async def _poll_one(
        self,
        store: Store,
        run_id: int,
        feed: ClaimedFeed,
        poller: _Poller,
        client: httpx.AsyncClient,
        totals: _Totals,
        progress: Progress,
    ) -> None:
        request = FeedRequest(url=feed.url, etag=feed.etag, last_modified=feed.last_modified)
        result = await poller.poll(request)
        progress.advance(1)
        # A 304 or a failure is only a record: it joins the next group commit at once, so a
        # run of them costs a few large transactions, not one or two per feed.
        if result.content is None:
            await self._handle(store, run_id, feed, result, client, totals)
            return
        async with self._slots:
            await self._handle(store, run_id, feed, result, client, totals)

    async def _renew_leases(self, store: Store, totals: _Totals) -> None:
        """Every third of the lease, extend the leases of the feeds still being polled."""
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            held = sorted(self._held)
            if not held:
                continue
            async with self._db_lock:
                renewed = await asyncio.to_thread(
                    renew_leases, store.engine, self.worker_id, held, self.lease
                )
            # Feeds written meanwhile have no lease left to renew; the others were lost.
            lost = (set(held) - set(renewed)) & self._held
            if lost:
                totals.notes.append(
                    f"the leases of {len(lost)} feeds expired before they could be renewed "
                    "(another worker may poll them too): make the lease longer"
                )

    async def _handle(
        self,
        store: Store,
        run_id: int,
        feed: ClaimedFeed,
        result: FeedResult,
        client: httpx.AsyncClient,
        totals: _Totals,
    ) -> None:
        digest = None
        if result.outcome == PollOutcome.OK and result.content is not None:
            digest = await self._digest(result.content, result.final_url, result.content_type)
        # Nothing to parse (a 304, an error): no thread hop, which would cost more than the
        # whole of the rest of a 304's handling.
        record = _record(feed, result, digest)
        rows: list[dict[str, Any]] = []
        if digest is not None and digest.entries:
            rows = [_entry_row(e, feed.pk, run_id) for e in digest.entries]
            if self.fulltext or feed.fulltext:
                # Only entries not stored yet are worth a page each. Otherwise the insert
                # skips stored URLs by itself, and asking first would cost a query per feed.
                known = await asyncio.to_thread(
                    _known_urls, store, [row["canonical_url"] for row in rows]
                )
                rows = [row for row in rows if row["canonical_url"] not in known]
                failures = await self._fulltexts(rows, client)
                record.entries_errors += failures
        notes = await self._write(store, run_id, feed, record, rows)
        self._held.discard(feed.pk)  # written: its lease is released
        totals.outcomes[record.outcome] += 1
        totals.entries["new"] += record.entries_new
        totals.entries["duplicate"] += record.entries_duplicate
        totals.entries["errors"] += record.entries_errors
        totals.bytes_downloaded += record.bytes_downloaded
        totals.notes.extend(notes)

    async def _digest(self, content: bytes, url: str, content_type: str | None) -> _Digest:
        if self._pool is not None:
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    self._pool, _digest, content, url, content_type
                )
            except BrokenProcessPool:
                # A parser process died (killed, out of memory): parse here from now on.
                self._pool = None
        return await asyncio.to_thread(_digest, content, url, content_type)

    async def _write(
        self, store: Store, run_id: int, feed: ClaimedFeed, record: PollRecord, rows: list[Any]
    ) -> list[str]:
        """Queue one feed's poll for writing and wait until it is committed.

        Writes are group-committed: while one transaction is being written, the feeds that
        finish polling queue up and go together into the next, so a run of 304s costs a few
        transactions rather than one per feed.
        """
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._queue.append((feed, record, rows, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(store, run_id))
        return await future

    async def _flush(self, store: Store, run_id: int) -> None:
        while self._queue:
            if len(self._queue) < _GROUP_FEEDS and len(self._held) > len(self._queue):
                # Other feeds are still being fetched or parsed: let the group grow a little.
                # Parsed feeds arrive one at a time, so without this nearly every one was its
                # own transaction (474 for 500 feeds), at twice the CPU per row of groups of 10.
                await asyncio.sleep(_GROUP_LINGER)
            group, self._queue = self._queue, []
            try:
                async with self._db_lock:
                    notes = await asyncio.to_thread(self._write_group, store, run_id, group)
            except Exception as exc:  # each waiting feed's handler raises it
                for *_, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (*_, future), feed_notes in zip(group, notes, strict=True):
                if not future.done():
                    future.set_result(feed_notes)

    def _write_group(
        self, store: Store, run_id: int, group: list[tuple[ClaimedFeed, PollRecord, Any, Any]]
    ) -> list[list[str]]:
        # All rows in one statement, sorted, so concurrent workers take the unique index's
        # locks in one order (no deadlock on PostgreSQL).
        rows = sorted(
            (row for _, _, feed_rows, _ in group for row in feed_rows),
            key=lambda row: row["canonical_url"],
        )
        with store.engine.begin() as conn:
            new = Counter(insert_entries(conn, rows))
            for feed, record, _, _ in group:
                record.entries_new = new[feed.pk]
                record.entries_duplicate = (
                    record.entries_seen - record.entries_new - record.entries_skipped
                )
            out = finish_polls(
                conn,
                run_id,
                self.worker_id,
                [
                    (
                        record,
                        feed.consecutive_failures,
                        record.outcome in ("ok", "bozo", "not_modified"),
                    )
                    for feed, record, _, _ in group
                ],
                interval=self.interval,
            )
        return out

    async def _fulltexts(self, rows: Sequence[dict[str, Any]], client: httpx.AsyncClient) -> int:
        """Fill in each row's `fulltext` from its article page; returns the failures."""
        slots = asyncio.Semaphore(self.concurrency)

        async def one(url: str) -> str | None:
            async with slots:
                try:
                    return await fetch_fulltext(
                        url, client=client, timeout=self.poll_options["timeout"]
                    )
                except FeedError:
                    return None

        found = await asyncio.gather(*(one(row["link"] or row["canonical_url"]) for row in rows))
        for row, text in zip(rows, found, strict=True):
            row["fulltext"] = text
        return sum(1 for t in found if t is None)

    # -- judging -----------------------------------------------------------------------------

    def _judge_phase(self, store: Store, totals: _Totals, progress: Progress) -> None:
        waiting = count_unscored(store.engine)
        if not waiting:
            return  # nothing new: the filter (slow to load) is not even loaded
        names = entity_names(store.engine)
        judge = load_pipeline(names) if self.judge is _AUTO else self.judge
        if judge is None:
            totals.judged["unscored"] = waiting
            totals.notes.append(
                "the relevance filter (ingest.relevance) is not installed: entries are stored "
                "unscored; a run with it installed will judge them"
            )
            return
        finder = EntityFinder(names)
        progress.stage("judging entries", waiting)
        while True:
            with store.engine.begin() as conn:
                lock_grouping(conn)
                pending = claim_unscored(conn, 200)
                if not pending:
                    break
                self._judge_batch(conn, judge, finder, pending, totals)
            progress.advance(len(pending))

    def _judge_batch(
        self,
        conn: Any,
        judge: Judge,
        finder: EntityFinder,
        pending: list[PendingEntry],
        totals: _Totals,
    ) -> None:
        verdicts = judge.score_many([(p.title or "", p.text or "") for p in pending])
        relevant_dates = [_day(p) for p, v in zip(pending, verdicts, strict=True) if v.relevant]
        candidates: list[GroupCandidate] = []
        if relevant_dates:
            candidates = group_candidates(
                conn, min(relevant_dates) - self.window, max(relevant_dates) + self.window
            )
        items: dict[int, Any] = {}
        writer = JudgementWriter(
            conn, [p.canonical_url for p, v in zip(pending, verdicts, strict=True) if v.relevant]
        )

        def item_of(cand: GroupCandidate) -> Any:
            if cand.pk not in items:
                items[cand.pk] = judge.item(
                    cand.pk,
                    cand.title,
                    cand.text,
                    frozenset(cand.urls),
                    cand.date,
                    frozenset(cand.entities),
                )
            return items[cand.pk]

        for entry, verdict in zip(pending, verdicts, strict=True):
            judgement = Judgement(
                entry=entry,
                score=verdict.score,
                relevant=verdict.relevant,
                evidence=verdict.evidence,
                filter_name=judge.name,
            )
            day = _day(entry)
            text = entry.text or ""
            entities = finder.find(f"{entry.title or ''}\n{text}")
            if verdict.relevant:
                near = [c for c in candidates if c.date is None or abs(c.date - day) <= self.window]
                item = judge.item(
                    -entry.pk,
                    entry.title or "",
                    text,
                    frozenset({entry.canonical_url}),
                    day,
                    entities,
                )
                near_items = [item_of(c) for c in near]
                match = judge.decide(item, near_items)
                if match is not None:
                    judgement = _with(judgement, join_pk=match.key)
                else:
                    best = judge.best_matches(item, near_items, k=5)
                    judgement = _with(
                        judgement,
                        best_matches=tuple(
                            {"incident_pk": m.key, "score": round(m.score, 4), "reasons": m.reasons}
                            for m in best
                            if m.score > 0
                        ),
                    )
            incident_pk, outcome = writer.write(judgement)
            totals.judged[outcome] += 1
            if outcome == "opened" and incident_pk is not None:
                candidates.append(
                    GroupCandidate(
                        pk=incident_pk,
                        title=entry.title or "",
                        text=text,
                        urls={entry.canonical_url},
                        date=day,
                        entities=set(entities),
                        status="candidate",
                    )
                )
            elif outcome == "joined" and incident_pk is not None:
                for cand in candidates:
                    if cand.pk == incident_pk:
                        cand.urls.add(entry.canonical_url)
                        cand.entities.update(entities)
                        if entry.title and len(cand.text) < 4000:
                            cand.text = f"{cand.text}\n{entry.title}".strip()
                        items.pop(cand.pk, None)
        writer.flush()


def _known_urls(store: Store, urls: list[str]) -> set[str]:
    with store.engine.connect() as conn:
        return known_entry_urls(conn, urls)


def _with(judgement: Judgement, **changes: Any) -> Judgement:
    return dataclasses.replace(judgement, **changes)


def _day(entry: PendingEntry) -> dt.date:
    return entry.published_at.date() if entry.published_at else utc_now().date()


class _Entry(NamedTuple):
    """What is stored of one entry: small, so it crosses from a parser process cheaply."""

    canonical_url: str
    link: str | None
    guid: str | None
    title: str | None
    published_at: dt.datetime | None  # UTC, naive
    authors: list[str]
    summary: str | None
    content: str | None


class _Digest(NamedTuple):
    """A feed's body parsed: what its poll record and its entry rows need, nothing more."""

    not_a_feed: str | None  # why the body is not a feed; then nothing else is set
    bozo_error: str | None
    seen: int
    skipped: int  # entries without a link (or without link, id and title)
    entries: list[_Entry]  # each URL once
    seconds: float


def _idle_cpus() -> int:
    """Parser processes worth starting: one per CPU this process may use (up to 8), unless
    the machine is saturated (a load average of four times its CPUs or more), or has one CPU.

    Measured on a shared 2-core machine (500 feeds, first poll): under a load average of 3, two
    parser processes took 11.7 s against 13.3 s in threads; under 6-7 (since parser processes
    use a tuned feedparser, which threads do not), 7.8-10.1 s against 11.2-12.3 s; under
    12-21 (before that), 36-43 s against 16-20 s. A saturated machine (here, with one CPU
    share per session) gives more processes no more CPU, only more hand-offs. The threshold
    lies between the last two measurements; loads of 8-11 are unmeasured.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    if cpus < 2:
        return 0
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return 0 if load >= 4 * cpus else min(cpus, 8)


def _init_parser_process() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool; a parser process
    # printing its own KeyboardInterrupt traceback would only add noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent's event loop drives every fetch and write and wants the CPU briefly and
    # often; parsers want it long. Given the same priority, a parent that wakes up waits
    # behind the parsers' time slices, and they soon wait for it: under load (or with the
    # kernel's per-session autogroups, one share for the whole poll) the run got slower than
    # parsing in threads. Lower priority lets the parent go first.
    with contextlib.suppress(OSError):
        os.nice(_PARSER_NICENESS)
    # These processes only parse feeds: feedparser's process-wide shortcuts (same results, about
    # a third less CPU) are theirs to take; the parent's feedparser stays untouched.
    tune_feedparser()


def _digest(content: bytes, url: str, content_type: str | None) -> _Digest:
    """Parse a feed's body (in a parser process, or a thread): see :func:`_record`."""
    started = time.perf_counter()
    try:
        parsed = parse_entry_fields(content, url=url, content_type=content_type)
    except FeedFormatError as exc:
        why = f"{exc}" + (f" ({exc.hint})" if exc.hint else "")
        return _Digest(why, None, 0, 0, [], time.perf_counter() - started)
    bozo_error = None
    if parsed.bozo:
        bozo_error = f"malformed feed, {len(parsed.entries)} entries kept: {parsed.error}"
    entries: dict[str, _Entry] = {}
    for e in parsed.entries:
        if e.url and e.url not in entries:
            published = e.published
            entries[e.url] = _Entry(
                e.url,
                e.link,
                e.guid,
                e.title,
                published.astimezone(dt.UTC).replace(tzinfo=None) if published else None,
                e.authors,
                e.summary,
                e.content,
            )
    # Entries without a link cannot be reports: they count as errors of the feed. Links
    # repeated within the feed count as duplicates.
    skipped = parsed.skipped + sum(1 for e in parsed.entries if not e.url)
    return _Digest(
        None,
        bozo_error,
        len(parsed.entries) + parsed.skipped,
        skipped,
        list(entries.values()),
        time.perf_counter() - started,
    )


def _record(feed: ClaimedFeed, result: FeedResult, digest: _Digest | None) -> PollRecord:
    """The poll's record, from its result and, when there was a body, what parsing it gave."""
    record = PollRecord(
        feed_pk=feed.pk,
        url=feed.url,
        outcome=str(result.outcome),
        http_status=result.status,
        error=result.error,
        etag=result.etag,
        last_modified=result.last_modified,
        new_url=result.permanent_url,
        retry_after=result.retry_after,
        bytes_downloaded=result.bytes_downloaded,
        elapsed=result.elapsed,
    )
    if digest is None:
        return record
    record.elapsed += digest.seconds
    if digest.not_a_feed is not None:
        record.outcome = "not_a_feed"
        record.error = digest.not_a_feed
        return record
    if digest.bozo_error is not None:
        record.outcome = "bozo"
        record.error = digest.bozo_error
    record.entries_seen = digest.seen
    record.entries_skipped = digest.skipped
    record.entries_errors = digest.skipped
    return record


def _entry_row(entry: _Entry, feed_pk: int, run_pk: int) -> dict[str, Any]:
    return {
        **entry._asdict(),
        "feed_pk": feed_pk,
        "run_pk": run_pk,
        "fulltext": None,
        "score": None,
        "evidence": [],
        "filter_name": None,
        "report_pk": None,
    }

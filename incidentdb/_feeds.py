"""The store's side of news-feed ingestion: the feed registry, leases, entries and poll records.

Everything here is database work; polling, parsing, scoring and grouping live in `ingest.rss`,
which calls these functions. Feeds are claimed with a lease so several workers can share one
feed list: on PostgreSQL the claim is `SELECT … FOR UPDATE SKIP LOCKED`, so two workers never
claim one feed; a lease that expires (a crashed worker) makes the feed claimable again. SQLite
has one writer at a time, so there a single worker is the supported setup.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from incidentdb._errors import NotFoundError, SourceError
from incidentdb._models import (
    Entity,
    Incident,
    IncidentEntity,
    IncidentReport,
    Report,
    table_of,
    utc_now,
)
from incidentdb._models_feeds import Feed, FeedCandidate, FeedEntryRow, FeedPoll
from incidentdb._search import index_new_reports
from incidentdb._text import source_domain

__all__ = [
    "DEFAULT_INTERVAL",
    "MAX_BACKOFF",
    "ClaimedFeed",
    "GroupCandidate",
    "Judgement",
    "JudgementWriter",
    "PendingEntry",
    "PollRecord",
    "add_feeds",
    "claim_feeds",
    "claim_unscored",
    "count_unscored",
    "entity_names",
    "feed_ref",
    "finish_polls",
    "group_candidates",
    "insert_entries",
    "known_entry_urls",
    "list_feeds",
    "lock_grouping",
    "make_all_due",
    "next_poll",
    "poll_rows",
    "release_feeds",
    "remove_feed",
    "renew_leases",
]

feeds_t = table_of(Feed)
entries_t = table_of(FeedEntryRow)
polls_t = table_of(FeedPoll)
candidates_t = table_of(FeedCandidate)
incidents_t = table_of(Incident)
reports_t = table_of(Report)
links_t = table_of(IncidentReport)
entities_t = table_of(Entity)
roles_t = table_of(IncidentEntity)

# A healthy feed is polled every half hour; a failing one waits twice as long after each
# failure, up to a day, and never less than the server's Retry-After.
DEFAULT_INTERVAL = dt.timedelta(minutes=30)
MAX_BACKOFF = dt.timedelta(days=1)
# Outcomes after which the feed counts as healthy: it answered with a feed (bozo: a malformed
# one, whose good entries were kept) or with 304.
SUCCESS_OUTCOMES = frozenset({"ok", "not_modified", "bozo"})
# An arbitrary constant: the PostgreSQL advisory lock that serialises grouping across workers.
_GROUPING_LOCK = 7_311_003


# -- the registry ------------------------------------------------------------------------------


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SourceError(
            f"{url!r} is not an http(s) URL", hint="Give the feed's full address, https://…"
        )
    return url


def add_feeds(
    engine: Engine, feeds: Iterable[tuple[str, str | None, bool]]
) -> list[dict[str, Any]]:
    """Add feeds given as (url, name, fulltext); a URL already registered is left as it is.

    Returns one row per feed: its id, url and whether it was `added` or already `present`.
    All or nothing: one bad URL adds none.

    Raises:
        SourceError: a URL is not http(s) (nothing is added).
    """
    wanted: dict[str, tuple[str | None, bool]] = {}
    for url, name, fulltext in feeds:
        wanted.setdefault(_check_url(url), (name, fulltext))
    out = []
    now = utc_now()
    with engine.begin() as conn:
        present: dict[str, int] = {
            url: pk
            for url, pk in conn.execute(
                select(feeds_t.c.url, feeds_t.c.id).where(feeds_t.c.url.in_(wanted))
            )
        }
        for url, (name, fulltext) in wanted.items():
            if url in present:
                out.append({"id": present[url], "url": url, "result": "present"})
                continue
            pk = conn.execute(
                insert(feeds_t)
                .values(url=url, name=name, fulltext=fulltext, next_due_at=now, state="new")
                .returning(feeds_t.c.id)
            ).scalar_one()
            out.append({"id": pk, "url": url, "result": "added"})
    return out


def feed_ref(conn: Connection, ref: str) -> int:
    """The id of the feed named by `ref`: its id or its URL.

    Raises:
        NotFoundError: no such feed.
    """
    ref = ref.strip()
    where = feeds_t.c.id == int(ref) if ref.isdigit() else feeds_t.c.url == ref
    pk = conn.execute(select(feeds_t.c.id).where(where)).scalar()
    if pk is None:
        raise NotFoundError(f"no feed {ref}", hint="List feeds with `incidentdb feeds list`.")
    return int(pk)


def remove_feed(engine: Engine, ref: str) -> dict[str, Any]:
    """Remove a feed (by id or URL). Its entries and reports stay; they just lose the link.

    Raises:
        NotFoundError: no such feed.
    """
    with engine.begin() as conn:
        pk = feed_ref(conn, ref)
        url = conn.execute(select(feeds_t.c.url).where(feeds_t.c.id == pk)).scalar_one()
        kept = conn.execute(
            select(func.count()).select_from(entries_t).where(entries_t.c.feed_pk == pk)
        ).scalar_one()
        conn.execute(delete(feeds_t).where(feeds_t.c.id == pk))
    return {"id": pk, "url": url, "entries_kept": kept}


def list_feeds(engine: Engine, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Every feed with its state, last outcome and error, failures and next due time, by id."""
    entries = (
        select(func.count())
        .select_from(entries_t)
        .where(entries_t.c.feed_pk == feeds_t.c.id)
        .scalar_subquery()
    )
    query = (
        select(
            feeds_t.c.id,
            feeds_t.c.url,
            feeds_t.c.name,
            feeds_t.c.fulltext,
            feeds_t.c.state,
            feeds_t.c.last_outcome,
            feeds_t.c.last_status,
            feeds_t.c.consecutive_failures.label("failures"),
            feeds_t.c.last_polled_at,
            feeds_t.c.next_due_at,
            entries.label("entries"),
            feeds_t.c.last_error,
        )
        .order_by(feeds_t.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


# -- claiming and polling ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedFeed:
    """A feed this worker holds the lease on."""

    pk: int
    url: str
    etag: str | None
    last_modified: str | None
    fulltext: bool
    consecutive_failures: int


def claim_feeds(
    engine: Engine,
    worker: str,
    *,
    limit: int,
    lease: dt.timedelta,
    force: bool = False,
    now: dt.datetime | None = None,
) -> list[ClaimedFeed]:
    """Lease up to `limit` due feeds to `worker`, most overdue first, and commit the lease.

    A feed is claimable when it is due (or `force`), not gone, and nobody holds an unexpired
    lease on it. On PostgreSQL rows another worker is claiming are skipped, not waited for.
    """
    now = now or utc_now()
    free = or_(feeds_t.c.lease_expires_at.is_(None), feeds_t.c.lease_expires_at < now)
    due = feeds_t.c.next_due_at.is_not(None) & (feeds_t.c.next_due_at <= now)
    conditions = [free, feeds_t.c.state != "gone"]
    if not force:
        conditions.append(due)
    with engine.begin() as conn:
        rows = conn.execute(
            select(
                feeds_t.c.id,
                feeds_t.c.url,
                feeds_t.c.etag,
                feeds_t.c.last_modified,
                feeds_t.c.fulltext,
                feeds_t.c.consecutive_failures,
            )
            .where(*conditions)
            .order_by(feeds_t.c.next_due_at, feeds_t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if rows:
            conn.execute(
                update(feeds_t)
                .where(feeds_t.c.id.in_([r.id for r in rows]))
                .values(lease_owner=worker, lease_expires_at=now + lease)
            )
    return [
        ClaimedFeed(r.id, r.url, r.etag, r.last_modified, bool(r.fulltext), r.consecutive_failures)
        for r in rows
    ]


def renew_leases(
    engine: Engine,
    worker: str,
    pks: Sequence[int],
    lease: dt.timedelta,
    *,
    now: dt.datetime | None = None,
) -> list[int]:
    """Extend `worker`'s leases on `pks` to `lease` from now; returns the feeds renewed.

    A feed missing from the answer is no longer this worker's: its lease expired and another
    worker claimed it (or it was removed), and it is not taken back.
    """
    if not pks:
        return []
    now = now or utc_now()
    with engine.begin() as conn:
        return list(
            conn.execute(
                update(feeds_t)
                .where(feeds_t.c.id.in_(sorted(pks)), feeds_t.c.lease_owner == worker)
                .values(lease_expires_at=now + lease)
                .returning(feeds_t.c.id)
            ).scalars()
        )


def make_all_due(engine: Engine) -> int:
    """Make every feed that is not gone due now (`ingest feeds --all`); returns how many."""
    with engine.begin() as conn:
        return conn.execute(
            update(feeds_t).where(feeds_t.c.state != "gone").values(next_due_at=utc_now())
        ).rowcount


def release_feeds(engine: Engine, worker: str, pks: Sequence[int]) -> None:
    """Give up this worker's leases on `pks` without recording a poll (an interrupted run)."""
    if not pks:
        return
    with engine.begin() as conn:
        conn.execute(
            update(feeds_t)
            .where(feeds_t.c.id.in_(list(pks)), feeds_t.c.lease_owner == worker)
            .values(lease_owner=None, lease_expires_at=None)
        )


def next_poll(
    outcome: str,
    failures: int,
    *,
    now: dt.datetime,
    interval: dt.timedelta = DEFAULT_INTERVAL,
    retry_after: float | None = None,
) -> tuple[str, int, dt.datetime | None]:
    """The feed's (state, consecutive failures, next due time) after a poll with `outcome`.

    `failures` is the count before this poll. A gone feed (410) is not polled again until
    someone re-adds it; every other failure backs off exponentially, capped at MAX_BACKOFF.
    """
    if outcome in SUCCESS_OUTCOMES:
        return "ok", 0, now + interval
    failures += 1
    if outcome == "gone":
        return "gone", failures, None
    wait = min(interval * 2 ** (failures - 1), MAX_BACKOFF)
    if retry_after is not None:
        wait = max(wait, dt.timedelta(seconds=retry_after))
    return "failing", failures, now + wait


@dataclass
class PollRecord:
    """What one poll of one feed came to, for the feed's row and the run's per-feed record."""

    feed_pk: int
    url: str
    outcome: str
    http_status: int | None = None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    new_url: str | None = None
    retry_after: float | None = None
    entries_seen: int = 0
    entries_new: int = 0
    entries_duplicate: int = 0
    entries_errors: int = 0
    # Entries without a link (they cannot become reports); counted among the errors.
    entries_skipped: int = 0
    bytes_downloaded: int = 0
    elapsed: float = 0.0


def finish_polls(
    conn: Connection,
    run_pk: int,
    worker: str,
    polls: Sequence[tuple[PollRecord, int, bool]],
    *,
    interval: dt.timedelta = DEFAULT_INTERVAL,
) -> list[list[str]]:
    """Update feeds after their polls, release their leases and write the run's records of them.

    `polls` holds (record, failures, update_validators) per feed. A few statements do it all
    (one executemany UPDATE per shape of change, one executemany INSERT of the poll records),
    so a batch of 304s costs a handful of round trips rather than two per feed. Returns each
    feed's notes, in order (a permanent redirect to a URL another feed already has).
    """
    now = utc_now()
    notes: list[list[str]] = []
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for record, failures, update_validators in polls:
        state, failures, due = next_poll(
            record.outcome, failures, now=now, interval=interval, retry_after=record.retry_after
        )
        values: dict[str, Any] = {
            "b_pk": record.feed_pk,
            "state": state,
            "last_outcome": record.outcome,
            "last_status": record.http_status,
            "last_error": record.error,
            "consecutive_failures": failures,
            "next_due_at": due,
            "last_polled_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": now,
        }
        if state == "ok":
            values["last_success_at"] = now
        if update_validators:
            values["etag"] = record.etag
            values["last_modified"] = record.last_modified
        feed_notes: list[str] = []
        if record.new_url and record.new_url != record.url:
            taken = conn.execute(
                select(feeds_t.c.id).where(feeds_t.c.url == record.new_url)
            ).scalar()
            if taken is None:
                values["url"] = record.new_url
            else:
                feed_notes.append(
                    f"feed {record.feed_pk} moved permanently to {record.new_url}, "
                    f"which is feed {taken}; remove one of them"
                )
        notes.append(feed_notes)
        updates.setdefault(tuple(sorted(values)), []).append(values)
    pks = [record.feed_pk for record, _, _ in polls]
    # Which feeds still exist (one may be removed while it is polled): its record then has
    # no feed_pk.
    present = set(conn.execute(select(feeds_t.c.id).where(feeds_t.c.id.in_(pks))).scalars())
    for rows in updates.values():
        # Sorted by id so concurrent workers lock feed rows in one order.
        rows.sort(key=lambda row: row["b_pk"])
        conn.execute(update(feeds_t).where(feeds_t.c.id == bindparam("b_pk")), rows)
    if polls:
        conn.execute(
            insert(polls_t),
            [
                {
                    "run_pk": run_pk,
                    "feed_pk": record.feed_pk if record.feed_pk in present else None,
                    "url": record.url,
                    "worker_id": worker,
                    "polled_at": now,
                    "http_status": record.http_status,
                    "outcome": record.outcome,
                    "error": record.error,
                    "entries_seen": record.entries_seen,
                    "entries_new": record.entries_new,
                    "entries_duplicate": record.entries_duplicate,
                    "entries_rejected": 0,
                    "entries_errors": record.entries_errors,
                    "reports_added": 0,
                    "bytes_downloaded": record.bytes_downloaded,
                    "elapsed": record.elapsed,
                }
                for record, _, _ in polls
            ],
        )
    return notes


def poll_rows(engine: Engine, run_pk: int) -> list[dict[str, Any]]:
    """The per-feed records of one run, by feed id."""
    query = (
        select(
            polls_t.c.feed_pk.label("feed"),
            polls_t.c.url,
            polls_t.c.outcome,
            polls_t.c.http_status.label("status"),
            polls_t.c.entries_seen.label("seen"),
            polls_t.c.entries_new.label("new"),
            polls_t.c.entries_duplicate.label("duplicate"),
            polls_t.c.entries_rejected.label("rejected"),
            polls_t.c.reports_added.label("reports"),
            polls_t.c.entries_errors.label("errors"),
            polls_t.c.bytes_downloaded.label("bytes"),
            polls_t.c.error,
        )
        .where(polls_t.c.run_pk == run_pk)
        .order_by(polls_t.c.feed_pk, polls_t.c.id)
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


# -- entries -----------------------------------------------------------------------------------


def known_entry_urls(conn: Connection, urls: Iterable[str]) -> set[str]:
    """Those of `urls` already stored as feed entries."""
    wanted = list(dict.fromkeys(urls))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            conn.execute(
                select(entries_t.c.canonical_url).where(entries_t.c.canonical_url.in_(chunk))
            ).scalars()
        )
    return found


def _insert_ignoring_conflicts(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(entries_t).on_conflict_do_nothing(index_elements=["canonical_url"])
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(entries_t).on_conflict_do_nothing(index_elements=["canonical_url"])


def insert_entries(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert entries (dicts of feed_entries columns) as `unscored`; a stored URL is skipped.

    Safe against another worker inserting the same URL at the same moment: the unique canonical
    URL decides, and the loser's row is silently skipped. Returns the feed of each row inserted.
    """
    if not rows:
        return []
    now = utc_now()
    if conn.dialect.name == "sqlite":
        return _insert_entries_sqlite(conn, rows, now)
    return _insert_entries_returning(conn, rows, now)


def _insert_entries_returning(
    conn: Connection, rows: Sequence[dict[str, Any]], now: dt.datetime
) -> list[int]:
    values = [{**row, "status": "unscored", "created_at": now} for row in rows]
    inserted = conn.execute(
        _insert_ignoring_conflicts(conn).returning(entries_t.c.feed_pk), values
    ).scalars()
    return [int(pk) for pk in inserted]


def _insert_entries_sqlite(
    conn: Connection, rows: Sequence[dict[str, Any]], now: dt.datetime
) -> list[int]:
    """insert_entries on SQLite: each feed's rows in one executemany of plain tuples.

    The columns' own bind processors (SQLAlchemy's, for this dialect) turn datetimes and JSON
    into what SQLAlchemy would store; what is skipped is its per-row work of building and
    processing parameter dicts for a multi-row INSERT … RETURNING, about half the CPU of
    storing an entry. SQLite has one writer at a time, so the order of the rows does not
    matter for locks; rows are taken in the caller's order (a URL twice: the first one wins,
    as with one statement), and each feed's inserted rows are counted from the driver's
    rowcount instead of RETURNING.
    """
    names = [*rows[0], "status", "created_at"]
    dialect = conn.dialect
    processors = [
        entries_t.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    status = "unscored"
    created = processors[-1](now) if processors[-1] is not None else now
    by_feed: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        # Every value through its processor, None too (JSON stores None as `null`).
        values = tuple(
            row[name] if process is None else process(row[name])
            for name, process in zip(names[:-2], processors, strict=False)
        )
        by_feed.setdefault(row["feed_pk"], []).append((*values, status, created))
    sql = (
        f"INSERT INTO {entries_t.name} ({', '.join(names)}) "
        f"VALUES ({', '.join('?' * len(names))}) ON CONFLICT (canonical_url) DO NOTHING"
    )
    inserted: list[int] = []
    for feed_pk, params in by_feed.items():
        count = conn.exec_driver_sql(sql, params).rowcount
        inserted.extend([feed_pk] * count)
    return inserted


@dataclass(frozen=True)
class PendingEntry:
    """An entry awaiting the relevance filter."""

    pk: int
    feed_pk: int | None
    run_pk: int | None
    canonical_url: str
    link: str | None
    title: str | None
    published_at: dt.datetime | None
    authors: list[str]
    summary: str | None
    text: str | None


def claim_unscored(conn: Connection, limit: int) -> list[PendingEntry]:
    """Up to `limit` unscored entries, locked for this transaction (skipping others' locks)."""
    rows = conn.execute(
        select(
            entries_t.c.id,
            entries_t.c.feed_pk,
            entries_t.c.run_pk,
            entries_t.c.canonical_url,
            entries_t.c.link,
            entries_t.c.title,
            entries_t.c.published_at,
            entries_t.c.authors,
            entries_t.c.summary,
            entries_t.c.content,
            entries_t.c.fulltext,
        )
        .where(entries_t.c.status == "unscored")
        .order_by(entries_t.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    return [
        PendingEntry(
            pk=r.id,
            feed_pk=r.feed_pk,
            run_pk=r.run_pk,
            canonical_url=r.canonical_url,
            link=r.link,
            title=r.title,
            published_at=r.published_at,
            authors=list(r.authors or []),
            summary=r.summary,
            text=r.fulltext or r.content or r.summary,
        )
        for r in rows
    ]


def count_unscored(engine: Engine) -> int:
    """Entries waiting for the relevance filter."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(entries_t).where(entries_t.c.status == "unscored")
        ).scalar_one()


def entity_names(engine: Engine) -> list[str]:
    """The names of every known entity, for the relevance filter and grouping."""
    with engine.connect() as conn:
        return [
            n for n in conn.execute(select(entities_t.c.name).order_by(entities_t.c.id)).scalars()
        ]


def lock_grouping(conn: Connection) -> None:
    """Serialise grouping across workers (PostgreSQL), so two never open one story twice.

    Held until the transaction ends. SQLite needs nothing: it has one writer at a time.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _GROUPING_LOCK})


@dataclass
class GroupCandidate:
    """An incident a new report may join: what the grouper compares it on."""

    pk: int
    title: str
    text: str
    urls: set[str]
    date: dt.date | None
    entities: set[str]
    status: str | None  # None for an AIID incident, else the feed candidate's status


def group_candidates(conn: Connection, start: dt.date, end: dt.date) -> list[GroupCandidate]:
    """Incidents dated within [start, end] that reports may join, merged ones left out.

    Rejected candidates stay in: a later report on a story an editor rejected joins it rather
    than reopening the story for review.
    """
    rows = conn.execute(
        select(
            incidents_t.c.id,
            incidents_t.c.title,
            incidents_t.c.description,
            incidents_t.c.date,
            candidates_t.c.status,
        )
        .select_from(
            incidents_t.outerjoin(candidates_t, candidates_t.c.incident_pk == incidents_t.c.id)
        )
        .where(
            incidents_t.c.date >= start,
            incidents_t.c.date <= end,
            or_(candidates_t.c.status.is_(None), candidates_t.c.status != "merged"),
        )
        .order_by(incidents_t.c.id)
    ).all()
    out = {
        r.id: GroupCandidate(
            pk=r.id,
            title=r.title or "",
            text=r.description or "",
            urls=set(),
            date=r.date,
            entities=set(),
            status=r.status,
        )
        for r in rows
    }
    pks = list(out)
    for start_at in range(0, len(pks), 500):
        chunk = pks[start_at : start_at + 500]
        for pk, title, url in conn.execute(
            select(links_t.c.incident_pk, reports_t.c.title, reports_t.c.canonical_url)
            .join(reports_t, reports_t.c.id == links_t.c.report_pk)
            .where(links_t.c.incident_pk.in_(chunk))
            .order_by(links_t.c.incident_pk, reports_t.c.id)
        ):
            cand = out[pk]
            if url:
                cand.urls.add(url)
            if title and len(cand.text) < 4000:
                cand.text = f"{cand.text}\n{title}".strip()
        for pk, name in conn.execute(
            select(roles_t.c.incident_pk, entities_t.c.name)
            .join(entities_t, entities_t.c.id == roles_t.c.entity_pk)
            .where(roles_t.c.incident_pk.in_(chunk))
        ):
            out[pk].entities.add(name)
    return list(out.values())


@dataclass(frozen=True)
class Judgement:
    """What the relevance filter and the grouper made of one pending entry."""

    entry: PendingEntry
    score: float
    relevant: bool
    evidence: list[str]
    filter_name: str
    # For a relevant entry: the incident it joins, or None to open a new candidate incident
    # with `best_matches` ([{"incident_pk", "score", "reasons"}]).
    join_pk: int | None = None
    best_matches: tuple[dict[str, Any], ...] = ()


def _report_values(entry: PendingEntry, now: dt.datetime) -> dict[str, Any]:
    return {
        "report_number": None,
        "url": entry.link or entry.canonical_url,
        "canonical_url": entry.canonical_url,
        "source_domain": source_domain(entry.canonical_url),
        "title": entry.title,
        "description": entry.summary,
        "text": entry.text,
        "plain_text": entry.text,
        "authors": entry.authors,
        "submitters": [],
        "date_published": entry.published_at.date() if entry.published_at else None,
        "date_downloaded": now.date(),
        "tags": [],
        "inputs_outputs": [],
        "is_stub": False,
        "created_at": now,
        "updated_at": now,
    }


def open_candidate(
    conn: Connection, entry: PendingEntry, best_matches: Sequence[dict[str, Any]]
) -> int:
    """Open a candidate incident for a report that joined none, awaiting an editor."""
    now = utc_now()
    pk = conn.execute(
        insert(incidents_t)
        .values(
            incident_id=None,
            source="feed",
            date=entry.published_at.date() if entry.published_at else now.date(),
            title=entry.title or entry.canonical_url,
            description=entry.summary,
            created_at=now,
            updated_at=now,
        )
        .returning(incidents_t.c.id)
    ).scalar_one()
    conn.execute(
        insert(candidates_t).values(
            incident_pk=pk, status="candidate", best_matches=list(best_matches), created_at=now
        )
    )
    return int(pk)


class JudgementWriter:
    """Writes judged entries of one batch, inside the caller's transaction.

    A rejected entry is kept as such. A relevant one becomes a report (no AIID number) in the
    incident the judgement names, or in a new candidate incident. A URL already reported
    elsewhere (an AIID report of the same article) is linked to that report and left where it
    is: the URL match wins over any grouping. Entry updates, the runs' per-feed counters and
    the SQLite search index are written in bulk by :meth:`flush`.
    """

    def __init__(self, conn: Connection, urls: Iterable[str]) -> None:
        self.conn = conn
        wanted = list(dict.fromkeys(urls))
        self.known: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            for pk, url in conn.execute(
                select(reports_t.c.id, reports_t.c.canonical_url)
                .where(reports_t.c.canonical_url.in_(wanted[start : start + 500]))
                .order_by(reports_t.c.id.desc())
            ):
                self.known[url] = pk
        self.before = (
            conn.execute(select(func.coalesce(func.max(reports_t.c.id), 0))).scalar_one()
            if conn.dialect.name == "sqlite"
            else 0
        )
        self._entries: list[dict[str, Any]] = []
        self._reports: list[tuple[dict[str, Any], int, dict[str, Any]]] = []
        self._counters: Counter[tuple[int, int, str]] = Counter()

    def write(self, judgement: Judgement) -> tuple[int | None, str]:
        """Write one judgement; returns (the report's incident, rejected|joined|opened|known)."""
        entry = judgement.entry
        incident_pk: int | None = None
        outcome = "rejected"
        update_row: dict[str, Any] = {
            "b_pk": entry.pk,
            "b_score": judgement.score,
            "b_evidence": judgement.evidence,
            "b_filter": judgement.filter_name,
            "b_status": "relevant" if judgement.relevant else "rejected",
            "b_report": None,
        }
        if judgement.relevant:
            known = self.known.get(entry.canonical_url)
            if known is not None:
                update_row["b_report"] = known
                outcome = "known"
            else:
                if judgement.join_pk is not None:
                    incident_pk, outcome = judgement.join_pk, "joined"
                else:
                    incident_pk = open_candidate(self.conn, entry, judgement.best_matches)
                    outcome = "opened"
                # The report is inserted by flush(), with the others of the batch.
                self._reports.append((update_row, incident_pk, _report_values(entry, utc_now())))
        self._entries.append(update_row)
        if entry.run_pk is not None and entry.feed_pk is not None:
            if not judgement.relevant:
                self._counters[(entry.run_pk, entry.feed_pk, "entries_rejected")] += 1
            elif outcome != "known":
                self._counters[(entry.run_pk, entry.feed_pk, "reports_added")] += 1
        return incident_pk, outcome

    def flush(self) -> None:
        """Insert the batch's reports and links, update its entries and the poll counters."""
        if self._reports:
            pks = (
                self.conn.execute(
                    insert(reports_t).returning(reports_t.c.id, sort_by_parameter_order=True),
                    [values for _, _, values in self._reports],
                )
                .scalars()
                .all()
            )
            links = []
            for (update_row, incident_pk, values), pk in zip(self._reports, pks, strict=True):
                update_row["b_report"] = pk
                self.known[values["canonical_url"]] = pk
                links.append({"incident_pk": incident_pk, "report_pk": pk})
            self.conn.execute(insert(links_t), links)
            self._reports = []
        if self._entries:
            self.conn.execute(
                update(entries_t)
                .where(entries_t.c.id == bindparam("b_pk"))
                .values(
                    score=bindparam("b_score"),
                    evidence=bindparam("b_evidence", type_=entries_t.c.evidence.type),
                    filter_name=bindparam("b_filter"),
                    status=bindparam("b_status"),
                    report_pk=bindparam("b_report"),
                ),
                self._entries,
            )
            self._entries = []
        for (run_pk, feed_pk, column), n in sorted(self._counters.items()):
            self.conn.execute(
                update(polls_t)
                .where(polls_t.c.run_pk == run_pk, polls_t.c.feed_pk == feed_pk)
                .values({column: polls_t.c[column] + n})
            )
        self._counters.clear()
        index_new_reports(self.conn, self.before)

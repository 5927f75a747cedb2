"""Models of news-feed ingestion: feeds, their entries, each poll, candidate incidents, decisions.

Migration 0002 creates these tables. A feed entry's canonical URL is its natural key (unique), so
re-polling a feed, or two workers polling overlapping feeds, never stores an entry twice. Reports
that came from feeds live in the ordinary `reports` table without an AIID `report_number`; the
entry that produced one points at it. Incidents a run opens are ordinary `incidents` rows with
`source = "feed"` and no AIID `incident_id`, and each has a `feed_candidates` row whose status
(candidate, accepted, rejected, merged) keeps them apart from AIID incidents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from incidentdb._models import Base, utc_now

__all__ = ["EditorDecision", "Feed", "FeedCandidate", "FeedEntryRow", "FeedPoll"]


class Feed(Base):
    """A news feed to poll, with what its last polls said."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    # Entries are teasers: fetch each article page for its text.
    fulltext: Mapped[bool] = mapped_column(Boolean, default=False)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # new | ok | failing | gone
    state: Mapped[str] = mapped_column(String(16), default="new")
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Polled again once this time has passed; None for a feed that is gone (410).
    next_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The worker polling the feed now, and until when its claim holds (a crashed worker's
    # claim expires and another worker picks the feed up).
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)


class FeedEntryRow(Base):
    """One entry of a feed, kept whether or not it was judged relevant."""

    __tablename__ = "feed_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    feed_pk: Mapped[int | None] = mapped_column(
        ForeignKey("feeds.id", ondelete="SET NULL"), index=True
    )
    run_pk: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id", ondelete="SET NULL"))
    link: Mapped[str | None] = mapped_column(Text)
    guid: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    # The article page's main text, when fetched (--fulltext).
    fulltext: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    filter_name: Mapped[str | None] = mapped_column(String(64))
    # relevant (became a report) | rejected (under the threshold; kept for review)
    status: Mapped[str] = mapped_column(String(16), index=True)
    report_pk: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)


class FeedPoll(Base):
    """What one run did with one feed."""

    __tablename__ = "feed_polls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_pk: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id", ondelete="CASCADE"))
    feed_pk: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(128))
    polled_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    http_status: Mapped[int | None] = mapped_column(Integer)
    # A PollOutcome (ok, not_modified, timeout, …), or bozo / not_a_feed after parsing.
    outcome: Mapped[str] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)
    entries_new: Mapped[int] = mapped_column(Integer, default=0)
    entries_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    entries_rejected: Mapped[int] = mapped_column(Integer, default=0)
    entries_errors: Mapped[int] = mapped_column(Integer, default=0)
    reports_added: Mapped[int] = mapped_column(Integer, default=0)
    bytes_downloaded: Mapped[int] = mapped_column(Integer, default=0)
    elapsed: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_feed_polls_run_feed", "run_pk", "feed_pk"),)


class FeedCandidate(Base):
    """The review state of an incident that a feed run opened."""

    __tablename__ = "feed_candidates"

    incident_pk: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    # candidate (awaiting an editor) | accepted | rejected | merged
    status: Mapped[str] = mapped_column(String(16), default="candidate", index=True)
    # The incidents the grouper found closest when it opened this one:
    # [{"incident_pk", "score", "reasons"}], best first.
    best_matches: Mapped[list[Any]] = mapped_column(JSON, default=list)
    merged_into_pk: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(255))


class EditorDecision(Base):
    """An editor's decision (merge, move, accept, reject): who, when, what. Never undone by runs."""

    __tablename__ = "editor_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    incident_pk: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    report_pk: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    target_incident_pk: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL")
    )
    author: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_editor_decisions_report_pk", "report_pk"),)

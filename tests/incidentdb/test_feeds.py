"""The feed registry's pure parts: the back-off schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from incidentdb._feeds import DEFAULT_INTERVAL, MAX_BACKOFF, next_poll

NOW = dt.datetime(2026, 6, 1, 12, 0)


@pytest.mark.parametrize("outcome", ["ok", "not_modified", "bozo"])
def test_success_resets_the_failures(outcome: str) -> None:
    assert next_poll(outcome, 5, now=NOW) == ("ok", 0, NOW + DEFAULT_INTERVAL)


def test_failures_back_off_exponentially_up_to_a_day() -> None:
    waits = [next_poll("timeout", n, now=NOW)[2] - NOW for n in range(8)]
    assert waits[:4] == [dt.timedelta(minutes=m) for m in (30, 60, 120, 240)]
    assert waits[-1] == MAX_BACKOFF
    assert next_poll("http_error", 2, now=NOW)[:2] == ("failing", 3)


def test_retry_after_outranks_a_shorter_back_off() -> None:
    assert next_poll("rate_limited", 0, now=NOW, retry_after=7200)[2] == NOW + dt.timedelta(hours=2)
    assert next_poll("rate_limited", 0, now=NOW, retry_after=5)[2] == NOW + DEFAULT_INTERVAL


def test_gone_is_not_scheduled_again() -> None:
    assert next_poll("gone", 0, now=NOW) == ("gone", 1, None)


def test_sqlite_entry_insert_stores_what_the_returning_insert_stores(tmp_path: Path) -> None:
    """The SQLite fast path writes the very values (datetimes, JSON, NULLs) SQLAlchemy would."""
    import sqlite3

    from sqlalchemy import text

    from incidentdb import Store
    from incidentdb._feeds import _insert_entries_returning, _insert_entries_sqlite

    now = dt.datetime(2026, 11, 30, 23, 59, 58, 123456)
    rows = [
        {
            "canonical_url": f"https://news.example.com/{i % 5}",  # each URL twice
            "link": f"https://news.example.com/{i % 5}?utm_source=rss" if i % 3 else None,
            "guid": None if i % 2 else f"guid-{i}",
            "title": f"Title {i} ünïcode",
            "published_at": dt.datetime(2026, 6, 1, i, 30) if i % 4 else None,
            "authors": ["Ann", "Bo"] if i % 2 else [],
            "summary": "text" if i % 2 else None,
            "content": None,
            "feed_pk": 1 + i // 5,
            "run_pk": 1,
            "fulltext": None,
            "score": None,
            "evidence": [],
            "filter_name": None,
            "report_pk": None,
        }
        for i in range(10)
    ]
    stored = []
    for name, insert in (("a", _insert_entries_returning), ("b", _insert_entries_sqlite)):
        path = tmp_path / f"{name}.sqlite"
        with Store(f"sqlite:///{path}") as store:
            store.add_feeds([(f"https://feeds.example.com/{k}", None, False) for k in (1, 2)])
            with store.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO ingest_runs (id, ingester, started_at, outcome, counts) "
                        "VALUES (1, 'rss.v1', '2026-11-30', 'running', '{}')"
                    )
                )
                assert sorted(insert(conn, rows, now)) == [1] * 5
        with sqlite3.connect(path) as raw:
            stored.append(raw.execute("SELECT * FROM feed_entries ORDER BY id").fetchall())
    assert len(stored[0]) == 5
    assert stored[0] == stored[1]
    assert [type(v) for v in stored[0][0]] == [type(v) for v in stored[1][0]]

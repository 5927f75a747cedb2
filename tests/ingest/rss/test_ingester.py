"""`rss.v1` end to end: a misbehaving local server, the store (SQLite and PostgreSQL), decisions."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from typing import Any

import pytest
from feed_judges import KeywordJudge
from rss_server import FeedServer, rss
from sqlalchemy import select, update

from incidentdb import IngestError, IngestResult, Store, ingesters
from incidentdb._feeds import claim_feeds, renew_leases
from incidentdb._models import Incident, IncidentReport, Report, utc_now
from incidentdb._models_feeds import Feed, FeedCandidate, FeedEntryRow
from ingest.rss import RssIngester
from ingest.rss._ingester import _idle_cpus

# Short limits keep the misbehaving endpoints fast.
FAST: dict[str, Any] = {
    "timeout": 0.5,
    "total_timeout": 3.0,
    "retries": 1,
    "backoff": 0.05,
    "retry_after_cap": 5.0,
    "max_bytes": 20 * 1024 * 1024,
    "concurrency": 8,
}


def run(store: Store, **options: Any) -> IngestResult:
    return store.ingest_feeds(**{**FAST, "judge": KeywordJudge(), **options})


def feeds_by_url(store: Store) -> dict[str, dict[str, Any]]:
    return {row["url"]: row for row in store.list_feeds()}


def stored(store: Store, model: Any, *columns: str) -> list[tuple[Any, ...]]:
    table = model.__table__
    with store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(*(table.c[c] for c in columns)).order_by(*(table.c[c] for c in columns))
            )
        ]


def test_rss_v1_is_registered() -> None:
    assert ingesters.get("rss.v1") is RssIngester


def test_store_ingest_with_rss_v1_says_how_to_run_it(sqlite_url: str) -> None:
    with Store(sqlite_url) as store, pytest.raises(IngestError, match="feeds registered"):
        store.ingest("rss.v1", "anything")


def test_each_misbehaviour_gets_its_outcome_and_good_entries_are_kept(
    db_url: str, feed_server: FeedServer
) -> None:
    url = feed_server.url
    expected = {
        url("/gen/good?n=3"): ("ok", "ok", 200, 3),
        url("/feeds/broken.xml"): ("ok", "bozo", 200, 2),
        url("/latin1.xml"): ("ok", "bozo", 200, 1),
        url("/large?size=30000000&length=0"): ("failing", "too_large", 200, 0),
        url("/slow"): ("failing", "timeout", None, 0),
        url("/redirect/302?to=/gen/temp?n=2"): ("ok", "ok", 200, 2),
        url("/status/404"): ("failing", "not_found", 404, 0),
        url("/status/410"): ("gone", "gone", 410, 0),
        url("/status/429?retry_after=3600"): ("failing", "rate_limited", 429, 0),
        url("/status/500"): ("failing", "http_error", 500, 0),
        url("/gzip.xml"): ("ok", "ok", 200, 3),
        url("/page.html"): ("failing", "not_a_feed", 200, 0),
    }
    with Store(db_url) as store:
        store.add_feeds([(u, None, False) for u in expected])
        result = run(store)
        feeds = feeds_by_url(store)
        got = {
            u: (f["state"], f["last_outcome"], f["last_status"], f["entries"])
            for u, f in feeds.items()
        }
        assert got == expected
        assert result.counts["feeds"] == {
            "polled": 12,
            "ok": 5,
            "not_modified": 0,
            "failed": 7,
            "bytes": result.counts["feeds"]["bytes"],
        }
        errors = {u: f["last_error"] for u, f in feeds.items()}
        assert "HTML page" in errors[url("/page.html")]
        assert (
            "over the limit" in errors[url("/large?size=30000000&length=0")]
            or "limit" in (errors[url("/large?size=30000000&length=0")])
        )
        assert "malformed feed, 2 entries kept" in errors[url("/feeds/broken.xml")]
        assert errors[url("/status/500")] == "the server answered 500 Internal Server Error"
        # Every failure is visible and scheduled, none dropped; a 410 feed is not polled again.
        now = utc_now()
        for f in feeds.values():
            if f["state"] == "gone":
                assert f["next_due_at"] is None
            else:
                assert f["next_due_at"] > now
        assert feeds[url("/status/429?retry_after=3600")]["next_due_at"] >= now + dt.timedelta(
            minutes=59
        )
        polls = {row["url"]: row for row in store.feed_polls(result.run_id)}
        assert polls[url("/gen/good?n=3")] | {"error": None} == {
            "feed": feeds[url("/gen/good?n=3")]["id"],
            "url": url("/gen/good?n=3"),
            "outcome": "ok",
            "status": 200,
            "seen": 3,
            "new": 3,
            "duplicate": 0,
            "rejected": 0,
            "reports": 3,
            "errors": 0,
            "bytes": polls[url("/gen/good?n=3")]["bytes"],
            "error": None,
        }
        # The Latin-1 feed's text was decoded right despite its wrong declaration.
        titles = [t for (t,) in stored(store, FeedEntryRow, "title")]
        assert "Résumé screening bias à Paris" in titles


def test_rerun_stores_nothing_new_and_costs_304s(db_url: str, feed_server: FeedServer) -> None:
    with Store(db_url) as store:
        store.add_feeds(
            [
                (feed_server.url("/gen/a?n=4"), "A", False),
                (feed_server.url("/gen/b?n=2"), "B", False),
            ]
        )
        first = run(store)
        assert first.outcome == "succeeded"
        assert first.counts["entries"]["added"] == 6
        assert first.counts["reports"]["added"] == 6
        reports_before = stored(store, Report, "id", "canonical_url")
        second = run(store, all_due=True)
        assert second.outcome == "unchanged"
        assert second.counts["feeds"]["not_modified"] == 2
        assert second.counts["entries"]["added"] == 0
        assert stored(store, Report, "id", "canonical_url") == reports_before
        sent = feed_server.request_headers["/gen/a?n=4"][-1]
        assert sent["If-None-Match"] == '"a-4-1"'
        # Not due yet: a plain re-run polls nothing.
        third = run(store)
        assert third.counts["feeds"]["polled"] == 0


def test_feed_entries_are_canonical_and_reports_have_no_aiid_number(
    sqlite_url: str, feed_server: FeedServer
) -> None:
    with Store(sqlite_url) as store:
        store.add_feeds([(feed_server.url("/gen/c?n=1"), None, False)])
        run(store)
        (entry,) = stored(store, FeedEntryRow, "canonical_url", "status", "score", "evidence")
        assert entry == (
            "https://news.example.com/c/0",
            "relevant",
            0.9,
            ["ai", "chatbot", "failed", "harms"],
        )
        (report,) = stored(store, Report, "report_number", "canonical_url", "source_domain")
        assert report == (None, "https://news.example.com/c/0", "news.example.com")
        # A feed report is found by search like any other.
        with store.engine.connect() as conn:
            hits = conn.exec_driver_sql(
                "SELECT rowid FROM reports_fts WHERE reports_fts MATCH 'chatbot'"
            ).all()
        assert len(hits) == 1


def test_a_duplicate_entry_across_feeds_is_stored_once(
    db_url: str, feed_server: FeedServer
) -> None:
    same = [("AI chatbot harms user", "https://x.example.com/story?utm_medium=a", "AI harm")]
    feed_server.documents["one"] = rss(same)
    feed_server.documents["two"] = rss(
        [("AI chatbot harms user", "https://X.example.com/story#top", "AI harm")]
    )
    with Store(db_url) as store:
        store.add_feeds([(feed_server.url(f"/doc/{k}"), None, False) for k in ("one", "two")])
        result = run(store)
        assert result.counts["entries"] == {
            "added": 1,
            "unchanged": 1,
            "errors": 0,
            "rejected": 0,
            "unscored": 0,
        }
        assert stored(store, FeedEntryRow, "canonical_url") == [("https://x.example.com/story",)]


def test_failing_feed_backs_off_and_recovers(db_url: str, feed_server: FeedServer) -> None:
    flaky = feed_server.url("/flaky/500?fail=4&k=backoff")
    with Store(db_url) as store:
        store.add_feeds([(flaky, None, False)])
        run(store)  # two attempts, both 500
        first = feeds_by_url(store)[flaky]
        assert (first["state"], first["failures"]) == ("failing", 1)
        run(store, all_due=True)  # attempts 3 and 4: 500 again
        second = feeds_by_url(store)[flaky]
        assert (second["state"], second["failures"]) == ("failing", 2)
        # The back-off doubled: due about an hour after the poll, not half an hour.
        wait = second["next_due_at"] - second["last_polled_at"]
        assert dt.timedelta(minutes=59) < wait < dt.timedelta(minutes=61)
        run(store, all_due=True)  # the fifth request succeeds
        third = feeds_by_url(store)[flaky]
        assert (third["state"], third["failures"], third["last_error"]) == ("ok", 0, None)
        assert third["entries"] == 3


def test_permanent_redirect_updates_the_url(db_url: str, feed_server: FeedServer) -> None:
    old = feed_server.url("/redirect/301?to=/gen/moved?n=1")
    with Store(db_url) as store:
        store.add_feeds([(old, "moved", False)])
        run(store)
        (feed,) = store.list_feeds()
        assert feed["url"] == feed_server.url("/gen/moved?n=1")
        assert feed["last_outcome"] == "ok"


def test_relevance_rejects_are_kept_and_grouping_opens_and_joins(
    db_url: str, feed_server: FeedServer
) -> None:
    feed_server.documents["news"] = rss(
        [
            (
                "Delivery robot crash injures cyclist in Leeds",
                "https://n.example.com/1",
                "An AI algorithm failed.",
            ),
            ("Quarterly results beat expectations", "https://n.example.com/2", "Shares rose."),
            (
                "AI hiring tool bias against women",
                "https://n.example.com/3",
                "The algorithm showed bias.",
            ),
        ]
    )
    feed_server.documents["wire"] = rss(
        [("Delivery robot crash injures cyclist", "https://w.example.com/9", "AI failed again.")]
    )
    with Store(db_url) as store:
        store.add_feeds([(feed_server.url(f"/doc/{k}"), None, False) for k in ("news", "wire")])
        result = run(store)
        assert result.counts["entries"]["rejected"] == 1
        assert result.counts["reports"]["added"] == 3
        assert result.counts["incidents"] == {"added": 2, "joined": 1}
        statuses = dict(stored(store, FeedEntryRow, "canonical_url", "status"))
        assert statuses["https://n.example.com/2"] == "rejected"
        candidates = store.review_candidates()
        # Which of the two robot reports opened the incident depends on which feed answered
        # first; the other joined it.
        by_title = {c["title"].removesuffix(" in Leeds"): c["reports"] for c in candidates}
        assert by_title == {
            "Delivery robot crash injures cyclist": 2,
            "AI hiring tool bias against women": 1,
        }
        # Feed incidents are kept apart from AIID ones: no AIID id, source "feed".
        assert stored(store, Incident, "incident_id", "source") == [(None, "feed"), (None, "feed")]


def _two_candidates(store: Store, feed_server: FeedServer) -> tuple[str, str]:
    feed_server.documents["d"] = rss(
        [
            ("Chatbot harms teen user", "https://d.example.com/1", "AI"),
            ("Facial recognition algorithm bias arrest", "https://d.example.com/2", "AI"),
            ("Chatbot harms teen user again", "https://d.example.com/3", "AI"),
        ]
    )
    store.add_feeds([(feed_server.url("/doc/d"), None, False)])
    run(store)
    rows = {c["title"]: c["incident"] for c in store.review_candidates()}
    return rows["Chatbot harms teen user"], rows["Facial recognition algorithm bias arrest"]


def test_editor_decisions_are_recorded_and_survive_later_runs(
    db_url: str, feed_server: FeedServer
) -> None:
    with Store(db_url) as store:
        chatbot, face = _two_candidates(store, feed_server)
        # The editor moves one chatbot report to the face incident, then merges the two.
        with store.engine.connect() as conn:
            moved_pk = conn.execute(
                select(Report.__table__.c.id).where(
                    Report.__table__.c.canonical_url == "https://d.example.com/3"
                )
            ).scalar_one()
        moved = store.move_report(f"r{moved_pk}", face, author="ed")
        assert moved["from"] == [chatbot] and moved["to"] == face
        merged = store.merge_incidents(face, chatbot, author="ed")
        assert merged == {"decision": 2, "merged": chatbot, "into": face, "reports_moved": 1}
        store.decide_candidate(face, "accept", author="ann")
        assert [c["incident"] for c in store.review_candidates()] == []
        assert [(c["incident"], c["status"]) for c in store.review_candidates(status="all")] == [
            (face, "accepted"),
            (chatbot, "merged"),
        ]
        links_before = stored(store, IncidentReport, "incident_pk", "report_pk")
        # A later run brings a new report of the chatbot story: it joins the incident the
        # chatbot candidate was merged into, and nothing the editor did is undone.
        feed_server.documents["d"] += b""
        feed_server.documents["d"] = rss(
            [
                ("Chatbot harms teen user", "https://d.example.com/1", "AI"),
                ("Chatbot harms teen user once more", "https://d.example.com/4", "AI"),
            ]
        )
        result = run(store, all_due=True)
        assert result.counts["incidents"] == {"added": 0, "joined": 1}
        links_after = stored(store, IncidentReport, "incident_pk", "report_pk")
        assert set(links_before) < set(links_after)
        face_pk = int(face[1:])
        assert {pk for pk, _ in links_after} == {face_pk}
        with store.engine.connect() as conn:
            status = conn.execute(
                select(FeedCandidate.__table__.c.status).where(
                    FeedCandidate.__table__.c.incident_pk == int(chatbot[1:])
                )
            ).scalar_one()
        assert status == "merged"
        decisions = store.editor_decisions()
        assert [(d["action"], d["author"]) for d in decisions] == [
            ("accept", "ann"),
            ("merge", "ed"),
            ("move", "ed"),
        ]


def test_a_rejected_candidate_absorbs_later_reports_of_its_story(
    sqlite_url: str, feed_server: FeedServer
) -> None:
    with Store(sqlite_url) as store:
        chatbot, _ = _two_candidates(store, feed_server)
        store.decide_candidate(chatbot, "reject", author="ed")
        feed_server.documents["d"] = rss(
            [("Chatbot harms teen user in court", "https://d.example.com/5", "AI")]
        )
        result = run(store, all_due=True)
        assert result.counts["incidents"] == {"added": 0, "joined": 1}
        assert [c["status"] for c in store.review_candidates(status="rejected")] == ["rejected"]
        assert store.review_candidates(status="rejected")[0]["reports"] == 3


def test_decisions_refuse_what_they_cannot_do(sqlite_url: str, feed_server: FeedServer) -> None:
    from incidentdb import DecisionError, NotFoundError

    with Store(sqlite_url) as store:
        chatbot, face = _two_candidates(store, feed_server)
        with pytest.raises(DecisionError, match="into itself"):
            store.merge_incidents(chatbot, chatbot, author="ed")
        with pytest.raises(NotFoundError, match="no incident f999"):
            store.decide_candidate("f999", "accept", author="ed")
        with pytest.raises(DecisionError, match="does not name an incident"):
            store.merge_incidents("x1", chatbot, author="ed")
        store.merge_incidents(face, chatbot, author="ed")
        with pytest.raises(DecisionError, match="merged"):
            store.decide_candidate(chatbot, "accept", author="ed")


def test_entries_wait_unscored_without_a_filter_and_a_later_run_judges_them(
    db_url: str, feed_server: FeedServer
) -> None:
    with Store(db_url) as store:
        store.add_feeds([(feed_server.url("/gen/u?n=2"), None, False)])
        first = run(store, judge=None)
        assert first.counts["entries"]["unscored"] == 2
        assert any("not installed" in n for n in first.notes)
        assert stored(store, FeedEntryRow, "status") == [("unscored",), ("unscored",)]
        second = run(store)
        assert second.counts["feeds"]["polled"] == 0
        assert second.counts["reports"]["added"] == 2
        assert stored(store, FeedEntryRow, "status") == [("relevant",), ("relevant",)]


def test_an_entry_already_reported_by_aiid_is_linked_not_duplicated(
    sqlite_url: str, feed_server: FeedServer
) -> None:
    with Store(sqlite_url) as store:
        with store.engine.begin() as conn:
            conn.execute(
                Report.__table__.insert().values(
                    report_number=7, canonical_url="https://news.example.com/k/0", title="AIID"
                )
            )
        store.add_feeds([(feed_server.url("/gen/k?n=1"), None, False)])
        result = run(store)
        assert result.counts["reports"] == {"added": 0, "already_known": 1}
        assert len(stored(store, Report, "id")) == 1


def test_leases_keep_a_feed_to_one_worker_until_they_expire(sqlite_url: str) -> None:
    with Store(sqlite_url) as store:
        store.add_feeds([("https://a.example.com/feed", None, False)])
        lease = dt.timedelta(minutes=15)
        assert len(claim_feeds(store.engine, "w1", limit=10, lease=lease)) == 1
        assert claim_feeds(store.engine, "w2", limit=10, lease=lease) == []
        # w1 crashed: once its lease has expired the feed is claimable again.
        later = utc_now() + dt.timedelta(minutes=16)
        (again,) = claim_feeds(store.engine, "w2", limit=10, lease=lease, now=later)
        assert again.url == "https://a.example.com/feed"
        with store.engine.connect() as conn:
            owner = conn.execute(select(Feed.__table__.c.lease_owner)).scalar_one()
        assert owner == "w2"


def test_an_interrupted_poll_releases_its_leases(sqlite_url: str, feed_server: FeedServer) -> None:
    with Store(sqlite_url) as store:
        store.add_feeds([(feed_server.url("/gen/i?n=1"), None, False)])
        with store.engine.begin() as conn:
            conn.execute(update(Feed.__table__).values(lease_owner=None))
        ingester = RssIngester(**FAST, judge=KeywordJudge())

        def boom(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("disk full")

        ingester._write = boom  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            ingester.run(store, store._start_run("rss.v1", "feeds"), progress=_Silent())
        with store.engine.connect() as conn:
            lease = conn.execute(select(Feed.__table__.c.lease_owner)).scalar_one()
        assert lease is None


class _Silent:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, units: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


def test_feed_reports_in_an_aiid_incident_survive_its_reimport(
    db_url: str, feed_server: FeedServer
) -> None:
    from incidentdb import IncidentRecord, IngestWriter

    def aiid_incident(title: str) -> None:
        with store.engine.begin() as conn:
            IngestWriter(conn).incidents(
                [IncidentRecord(incident_id=42, date=dt.date(2026, 5, 30), title=title)]
            )

    feed_server.documents["aiid"] = rss(
        [("Chatbot harms teen user", "https://e.example.com/1", "AI")]
    )
    with Store(db_url) as store:
        aiid_incident("Chatbot harms teen user")
        store.add_feeds([(feed_server.url("/doc/aiid"), None, False)])
        result = run(store)
        assert result.counts["incidents"] == {"added": 0, "joined": 1}
        aiid_incident("Chatbot harms a teenage user")  # AIID edited the incident
        shown = store.get_incident(42)
        assert [r["title"] for r in shown["reports"]] == ["Chatbot harms teen user"]


def test_fulltext_feeds_fetch_the_article_page(sqlite_url: str, feed_server: FeedServer) -> None:
    feed_server.documents["teasers"] = rss(
        [
            ("AI chatbot harms airline customer", feed_server.url("/article.html?a=1"), "Teaser"),
            ("AI chatbot harms another customer", feed_server.url("/status/404?a=2"), "Teaser"),
        ]
    )
    with Store(sqlite_url) as store:
        store.add_feeds([(feed_server.url("/doc/teasers"), None, True)])
        result = run(store)
        (poll,) = store.feed_polls(result.run_id)
        assert (poll["new"], poll["errors"]) == (2, 1)  # the 404 page is an error, entry kept
        rows = dict(stored(store, FeedEntryRow, "canonical_url", "fulltext"))
        assert rows[feed_server.url("/article.html?a=1")].startswith("Chatbot invents a refund")
        assert rows[feed_server.url("/status/404?a=2")] is None
        texts = {t for (t,) in stored(store, Report, "plain_text")}
        assert any(t and "bereavement discount" in t for t in texts)
        assert "Teaser" in texts
        # Already stored entries are not fetched again.
        run(store, all_due=True)
        assert feed_server.hits["/article.html?a=1"] == 1


def test_a_feed_removed_while_polled_is_recorded_without_it(
    sqlite_url: str, feed_server: FeedServer
) -> None:
    from incidentdb._feeds import PollRecord, finish_polls

    with Store(sqlite_url) as store:
        (added,) = store.add_feeds([(feed_server.url("/gen/r?n=1"), None, False)])
        run_id = store._start_run("rss.v1", "feeds")
        store.remove_feed(str(added["id"]))
        with store.engine.begin() as conn:
            record = PollRecord(feed_pk=added["id"], url=added["url"], outcome="not_modified")
            finish_polls(conn, run_id, "w", [(record, 0, True)])
        (poll,) = store.feed_polls(run_id)
        assert (poll["feed"], poll["outcome"]) == (None, "not_modified")


def test_finish_polls_writes_the_same_in_one_batch_as_one_feed_at_a_time(
    db_url: str, feed_server: FeedServer
) -> None:
    from incidentdb._feeds import PollRecord, finish_polls

    def records(pks: list[int], urls: list[str]) -> list[PollRecord]:
        return [
            PollRecord(feed_pk=pks[0], url=urls[0], outcome="not_modified", etag='"e1"'),
            PollRecord(feed_pk=pks[1], url=urls[1], outcome="http_error", http_status=500),
            PollRecord(feed_pk=pks[2], url=urls[2], outcome="ok", entries_seen=3),
            PollRecord(
                feed_pk=pks[3], url=urls[3], outcome="ok", new_url=feed_server.url("/moved")
            ),
        ]

    def state(store: Store, pks: list[int]) -> list[tuple[Any, ...]]:
        feeds = {f["id"]: f for f in store.list_feeds()}
        return [
            (
                # The two runs' feeds differ only by this part of their URLs.
                feeds[pk]["url"].replace("bTrue", "b").replace("bFalse", "b")
                if pk in feeds
                else None,
                feeds[pk]["state"] if pk in feeds else None,
            )
            for pk in pks
        ]

    results = []
    for batched in (False, True):
        with Store(db_url) as store:
            for f in store.list_feeds():
                store.remove_feed(str(f["id"]))
            added = store.add_feeds(
                [(feed_server.url(f"/gen/b{batched}?n={i}"), None, False) for i in range(5)]
            )
            pks, urls = [a["id"] for a in added], [a["url"] for a in added]
            run_id = store._start_run("rss.v1", "feeds")
            store.remove_feed(str(pks[4]))
            recs = [*records(pks, urls), PollRecord(pks[4], urls[4], outcome="not_modified")]
            flags = [
                (r, 2 if r.outcome == "http_error" else 0, r.outcome != "http_error") for r in recs
            ]
            with store.engine.begin() as conn:
                if batched:
                    notes = finish_polls(conn, run_id, "w", flags)
                else:
                    notes = [finish_polls(conn, run_id, "w", [flag])[0] for flag in flags]
            polls = [
                (p["feed"] is None, p["outcome"], p["status"])
                for p in sorted(store.feed_polls(run_id), key=lambda p: p["url"])
            ]
            results.append((notes, state(store, pks), polls))
    assert results[0] == results[1]
    notes, states, polls = results[1]
    assert notes == [[], [], [], [], []]
    assert states[3][0] == feed_server.url("/moved") and states[4] == (None, None)
    assert polls[-1][0] is True and sum(1 for p in polls if p[0]) == 1


def test_renew_leases_extends_only_this_workers_leases(db_url: str) -> None:
    with Store(db_url) as store:
        store.add_feeds([("https://a.example.com/feed", None, False)])
        lease = dt.timedelta(minutes=15)
        (feed,) = claim_feeds(store.engine, "w1", limit=10, lease=lease)
        assert renew_leases(store.engine, "w2", [feed.pk], lease) == []
        later = utc_now() + dt.timedelta(minutes=10)
        assert renew_leases(store.engine, "w1", [feed.pk], lease, now=later) == [feed.pk]
        with store.engine.connect() as conn:
            expires = conn.execute(select(Feed.__table__.c.lease_expires_at)).scalar_one()
        assert expires.replace(tzinfo=None) == (later + lease).replace(tzinfo=None)
        # At 16 minutes the first lease would have expired; the renewed one holds.
        at_16 = utc_now() + dt.timedelta(minutes=16)
        assert claim_feeds(store.engine, "w2", limit=10, lease=lease, now=at_16) == []


def test_leases_are_renewed_while_their_feeds_are_polled(
    db_url: str, feed_server: FeedServer
) -> None:
    """A poll longer than the lease: no other worker may claim the feed meanwhile."""
    slow = feed_server.url("/gen/slowlease?n=3&sleep=3.5")
    with Store(db_url) as store:
        store.add_feeds([(slow, None, False)])
        ingester = RssIngester(
            worker_id="w1",
            lease_seconds=1.2,
            timeout=10.0,
            total_timeout=10.0,
            retries=0,
            judge=KeywordJudge(),
        )
        outcome: list[Any] = []
        poller = threading.Thread(
            target=lambda: outcome.append(
                ingester.run(store, store._start_run("rss.v1", "feeds"), progress=_Silent())
            )
        )
        poller.start()
        stolen: list[str] = []
        checks = 0
        while poller.is_alive():
            time.sleep(0.2)
            lease = dt.timedelta(minutes=5)
            stolen += [f.url for f in claim_feeds(store.engine, "w2", limit=10, lease=lease)]
            checks += 1
        poller.join()
        counts, notes = outcome[0]
        assert checks >= 10  # the poll outlived the 1.2 s lease many times over
        assert stolen == []
        assert counts["feeds"]["ok"] == 1
        assert counts["entries"]["added"] == 3
        assert notes == []
        assert feed_server.hits["/gen/slowlease?n=3&sleep=3.5"] == 1


def test_parser_processes_are_forked_only_for_enough_feeds(sqlite_url: str) -> None:
    ingester = RssIngester(parse_workers=2)
    with ingester._parse_pool(20) as pool:
        assert pool is not None
        assert pool.submit(os.getpid).result() != os.getpid()
    with ingester._parse_pool(3) as pool:
        assert pool is None
    with RssIngester(parse_workers=0)._parse_pool(20) as pool:
        assert pool is None
    with pytest.raises(ValueError, match="parse_workers"):
        RssIngester(parse_workers=-1)


def test_feeds_parsed_in_processes_or_here_are_stored_alike(
    tmp_path: Any, feed_server: FeedServer
) -> None:
    urls = [feed_server.url(f"/gen/p{i}?n=4") for i in range(10)]
    urls.append(feed_server.url("/feeds/rss2.xml"))
    urls.append(feed_server.url("/page.html"))
    found = []
    for workers in (0, 2):
        with Store(f"sqlite:///{tmp_path / f'{workers}.sqlite'}") as store:
            store.add_feeds([(u, None, False) for u in urls])
            result = run(store, parse_workers=workers, judge=None)
            entries = stored(
                store,
                FeedEntryRow,
                "canonical_url",
                "link",
                "guid",
                "title",
                "published_at",
                "authors",
                "summary",
                "content",
            )
            polls = sorted(
                (r["url"].rsplit("/", 1)[1], r["outcome"], r["seen"], r["new"], r["error"])
                for r in store.feed_polls(result.run_id)
            )
        assert result.counts["entries"]["added"] == len(entries) == 40 + 3
        assert polls[-2:] == [
            ("page.html", "not_a_feed", 0, 0, polls[-2][4]),
            ("rss2.xml", "ok", 3, 3, None),
        ]
        assert "HTML page where an RSS or Atom feed was expected" in polls[-2][4]
        found.append((entries, polls))
    assert found[0] == found[1]


@pytest.mark.parametrize(
    ("cpus", "load", "expected"),
    [(2, 0.2, 2), (2, 7.9, 2), (2, 8.0, 0), (2, 11.0, 0), (1, 0.0, 0), (16, 3.0, 8)],
)
def test_default_parser_processes_use_the_idle_cpus(
    monkeypatch: pytest.MonkeyPatch, cpus: int, load: float, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert _idle_cpus() == expected

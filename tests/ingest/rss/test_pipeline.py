"""The adapter over `ingest.relevance` and `ingest.grouping`, with the real libraries."""

from __future__ import annotations

import pytest
from rss_server import FeedServer, rss
from sqlalchemy import select

from incidentdb import Store
from incidentdb._models_feeds import FeedEntryRow
from ingest.rss._pipeline import EntityFinder, load_pipeline


def test_entity_finder_matches_whole_names_case_insensitively() -> None:
    finder = EntityFinder(["Tesla", "Bank of America", "AI", "Open"])
    assert finder.find("TESLA and bank of america; Teslas, opening") == frozenset(
        {"Tesla", "Bank of America"}
    )
    assert EntityFinder([]).find("Tesla") == frozenset()


@pytest.mark.slow
def test_default_filter_and_grouper_file_a_feed(sqlite_url: str, feed_server: FeedServer) -> None:
    pytest.importorskip("ingest.relevance", reason="ingest.relevance is not installed")
    assert load_pipeline([]) is not None
    feed_server.documents["n"] = rss(
        [
            (
                "Man wrongfully arrested after facial recognition error",
                "https://a.example.com/1",
                "Police detained him after the software matched his photo to a suspect.",
            ),
            (
                "Facial recognition error led to wrongful arrest of Detroit man",
                "https://b.example.com/2",
                "Detroit police arrested a man after facial recognition software misidentified him.",
            ),
            ("Apple unveils new iPhone colours", "https://c.example.com/3", "Five colours."),
            (
                "Tesla Autopilot crash kills driver on highway",
                "https://d.example.com/4",
                "The car on Autopilot hit a barrier; the driver died.",
            ),
        ]
    )
    with Store(sqlite_url) as store:
        store.add_feeds([(feed_server.url("/doc/n"), None, False)])
        result = store.ingest_feeds(timeout=5)
        assert result.counts["entries"]["rejected"] == 1
        assert result.counts["incidents"] == {"added": 2, "joined": 1}
        with store.engine.connect() as conn:
            status = dict(
                conn.execute(
                    select(FeedEntryRow.__table__.c.canonical_url, FeedEntryRow.__table__.c.status)
                ).all()
            )
        assert status["https://c.example.com/3"] == "rejected"
        sizes = sorted(c["reports"] for c in store.review_candidates())
        assert sizes == [1, 2]

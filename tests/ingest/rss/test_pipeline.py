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


@pytest.mark.slow
def test_the_pipeline_fits_its_grouper_on_the_candidates_it_is_given() -> None:
    import datetime as dt

    from ingest.rss._pipeline import Match, Pipeline

    pipeline = Pipeline([])
    day = dt.date(2026, 6, 1)

    def item(key: int, title: str, url: str) -> object:
        return pipeline.item(key, title, title, frozenset({url}), day, frozenset())

    candidates = [
        item(1, "Robotaxi drags pedestrian in Harbor City", "https://a.example.com/1"),
        item(2, "Chatbot invents court cases for lawyers", "https://a.example.com/2"),
    ]
    new = item(
        -3, "Harbor City suspends robotaxi that dragged pedestrian", "https://b.example.com/3"
    )
    match = pipeline.decide(new, candidates)
    assert isinstance(match, Match) and match.key == 1
    grouper = pipeline._grouper
    assert grouper.fitted_on_ == 2
    # The same candidates again: no new fit, and the cached vectors serve.
    vectorizer = grouper.vectorizer_
    assert [m.key for m in pipeline.best_matches(new, candidates)] == [1, 2]
    assert grouper.vectorizer_ is vectorizer

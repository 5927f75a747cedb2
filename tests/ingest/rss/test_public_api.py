"""The public API of ingest.rss is exactly what __all__ names; changes to it are deliberate."""

from __future__ import annotations

import ingest.rss
from incidentdb import SourceError


def test_exported_names() -> None:
    assert sorted(ingest.rss.__all__) == [
        "DEFAULT_MAX_BYTES",
        "FeedEntry",
        "FeedError",
        "FeedFormatError",
        "FeedListError",
        "FeedRequest",
        "FeedResult",
        "FeedSpec",
        "FulltextError",
        "ParsedFeed",
        "PollOutcome",
        "RedirectHop",
        "RssIngester",
        "extract_main_text",
        "fetch_fulltext",
        "iter_poll_feeds",
        "parse_feed",
        "parse_json_feed_list",
        "parse_opml",
        "plain_text_from_html",
        "poll_feeds",
        "poll_feeds_sync",
        "read_feed_list",
    ]
    for name in ingest.rss.__all__:
        assert hasattr(ingest.rss, name), name


def test_every_error_is_a_source_error() -> None:
    errors = [
        obj
        for obj in (getattr(ingest.rss, name) for name in ingest.rss.__all__)
        if isinstance(obj, type) and issubclass(obj, BaseException)
    ]
    assert len(errors) == 4
    for error in errors:
        assert issubclass(error, ingest.rss.FeedError) and issubclass(error, SourceError)


def test_outcomes_are_stable() -> None:
    assert [o.value for o in ingest.rss.PollOutcome] == [
        "ok",
        "not_modified",
        "not_found",
        "gone",
        "rate_limited",
        "http_error",
        "timeout",
        "connection_error",
        "too_large",
        "error",
    ]

"""News feeds: reading feed lists, polling feeds over HTTP, parsing RSS and Atom.

Three layers, each usable alone:

- :mod:`ingest.rss.feedlist` reads OPML and AIID's JSON feed list into :class:`FeedSpec`\\ s;
- :mod:`ingest.rss.fetch` polls many feeds at once (:func:`poll_feeds`), politely and with
  conditional GET, giving one :class:`FeedResult` per feed whatever happens to it;
- :mod:`ingest.rss.parse` turns a feed's bytes into a :class:`ParsedFeed` of
  :class:`FeedEntry`\\ s (pure, no I/O).

>>> from ingest.rss import parse_feed, poll_feeds_sync
>>> results = poll_feeds_sync(["https://example.com/feed.xml"])  # doctest: +SKIP
>>> for result in results:  # doctest: +SKIP
...     if result.outcome == "ok":
...         feed = parse_feed(result.content, url=result.final_url,
...                           content_type=result.content_type)
...         print(feed.title, len(feed.entries))

Errors (all :class:`incidentdb.SourceError`)::

    FeedError
    ├── FeedFormatError     the bytes are not an RSS or Atom feed (an HTML page, JSON, empty)
    ├── FeedListError       a feed list (OPML or JSON) is malformed; names the file
    └── FulltextError       no article text could be had (page, extraction, trafilatura)
"""

from ingest.rss._ingester import RssIngester
from ingest.rss.feedlist import FeedSpec, parse_json_feed_list, parse_opml, read_feed_list
from ingest.rss.fetch import (
    DEFAULT_MAX_BYTES,
    FeedRequest,
    FeedResult,
    PollOutcome,
    RedirectHop,
    fetch_fulltext,
    iter_poll_feeds,
    poll_feeds,
    poll_feeds_sync,
)
from ingest.rss.parse import (
    FeedEntry,
    FeedError,
    FeedFormatError,
    FeedListError,
    FulltextError,
    ParsedFeed,
    extract_main_text,
    parse_feed,
    plain_text_from_html,
)

__all__ = [
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

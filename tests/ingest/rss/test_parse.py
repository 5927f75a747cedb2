"""Unit tests of the feed parser on small invented feeds (no network)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentdb import IncidentDBError, SourceError
from ingest.rss import (
    FeedEntry,
    FeedFormatError,
    FulltextError,
    extract_main_text,
    parse_feed,
    plain_text_from_html,
)

FIXTURES = Path(__file__).parent / "fixtures"
UTC = dt.UTC


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_rss2_entries() -> None:
    feed = parse_feed(
        fixture("rss2.xml"), url="https://news.example.com/rss2.xml", content_type=None
    )
    assert (feed.version, feed.title, feed.link, feed.language) == (
        "rss20",
        "Example Tech News",
        "https://news.example.com/",
        "en-gb",
    )
    assert not feed.bozo and feed.error is None and feed.encoding == "utf-8"
    first, second, third = feed.entries
    # feedparser lower-cases the scheme; canonical_url does the rest; &nbsp; is whitespace.
    assert first == FeedEntry(
        url="https://news.example.com/2026/06/chatbot-refund?id=42",
        link="https://News.Example.COM/2026/06/chatbot-refund/?utm_source=rss&utm_medium=feed&id=42#comments",
        title="Chatbot invents a refund policy",
        published=dt.datetime(2026, 6, 2, 8, 15, tzinfo=UTC),
        authors=["Jane Doe"],
        summary="An airline's support bot promised a refund that did not exist.\n\n"
        "The tribunal sided with the passenger.",
        content="Full story: the bot told a grieving passenger he could claim a bereavement "
        "fare later.\n\nFirst point\n\nSecond point",
        guid="example-news-1001",
        source_domain="news.example.com",
        tags=["AI", "Customer service"],
    )
    # A relative link resolves against the feed's URL; fbclid is tracking; -0500 is 5 h behind.
    assert second.link == "https://news.example.com/2026/06/face-recognition?fbclid=abc123"
    assert second.url == "https://news.example.com/2026/06/face-recognition"
    assert second.title == "Face recognition misidentifies shopper & store apologises"
    assert second.published == dt.datetime(2026, 6, 2, 4, 30, tzinfo=UTC)
    assert second.authors == ["Sam Roe"]
    assert second.summary == "A plain description without markup."
    assert second.content is None
    assert third.published is None and third.authors == [] and third.guid is None


def test_atom_entries() -> None:
    feed = parse_feed(
        fixture("atom.xml"),
        url="https://journal.example.org/atom.xml",
        content_type="application/atom+xml",
    )
    assert feed.version == "atom10"
    assert feed.title == "Example Atom Journal"
    assert feed.description == "Reports on automated systems"
    shuttle, content_only = feed.entries
    assert shuttle.title == "Self-driving shuttle hits a bollard"
    assert shuttle.url == "https://journal.example.org/posts/shuttle-bollard?page=2"
    # published wins over updated; +02:00 is two hours ahead of UTC
    assert shuttle.published == dt.datetime(2026, 5, 19, 20, 45, tzinfo=UTC)
    assert shuttle.authors == ["Ana Lima", "Ben Okafor"]
    assert shuttle.summary == "A shuttle misread a bollard."
    assert shuttle.content == "The shuttle's lidar missed the post.\n\nNobody was hurt."
    assert shuttle.guid == "urn:uuid:entry-shuttle"
    assert shuttle.tags == ["Autonomous vehicles"]
    assert shuttle.source_domain == "journal.example.org"
    # No published: updated is used. No summary: content is not copied into it.
    assert content_only.published == dt.datetime(2026, 5, 18, 16, 0, tzinfo=UTC)
    assert content_only.summary is None
    assert content_only.content == "Content without a summary."


def test_rss1_entries() -> None:
    feed = parse_feed(fixture("rss1.rdf"), url="https://rdf.example.net/index.rdf")
    assert feed.version == "rss10"
    assert [e.title for e in feed.entries] == [
        "Loan model denies applicants by postcode",
        "Translation tool garbles asylum interview",
    ]
    loan, translation = feed.entries
    assert loan.published == dt.datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert loan.authors == ["Carol Chen"]
    assert loan.summary == "Regulators open an inquiry."
    # 00:30 at +02:00 is the previous day in UTC
    assert translation.published == dt.datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def test_rss091() -> None:
    feed = parse_feed(fixture("rss091.xml"), url="https://wire.example.com/rss091.xml")
    assert feed.version.startswith("rss091")
    assert [e.url for e in feed.entries] == ["https://wire.example.com/voice-clone"]


def test_published_is_utc_aware() -> None:
    feed = parse_feed(fixture("rss2.xml"), url="https://news.example.com/rss2.xml")
    published = feed.entries[0].published
    assert published is not None and published.utcoffset() == dt.timedelta(0)


def test_parse_is_deterministic() -> None:
    a = parse_feed(fixture("atom.xml"), url="https://journal.example.org/atom.xml")
    b = parse_feed(fixture("atom.xml"), url="https://journal.example.org/atom.xml")
    assert a.model_dump_json() == b.model_dump_json()


def test_broken_xml_keeps_the_entries_that_parse() -> None:
    feed = parse_feed(fixture("broken.xml"), url="https://broken.example.com/feed")
    assert feed.bozo
    assert feed.error is not None and "not well-formed" in feed.error
    titles = [e.title for e in feed.entries]
    assert titles[:2] == ["Recommender & the rabbit hole", "Deepfake call ends in wire transfer"]
    assert feed.entries[0].published == dt.datetime(2026, 6, 3, 12, 0, tzinfo=UTC)


def test_wrong_declared_encoding_falls_back_and_says_so() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Café</title>'
        "<item><title>Résumé bias</title><link>https://cafe.example.fr/r</link></item>"
        "</channel></rss>"
    ).encode("latin-1")
    feed = parse_feed(body, url="https://cafe.example.fr/feed", content_type="application/rss+xml")
    assert feed.title == "Café"
    assert [e.title for e in feed.entries] == ["Résumé bias"]
    assert feed.bozo and feed.encoding in ("windows-1252", "iso-8859-1")
    assert feed.error is not None and "declared as utf-8" in feed.error


def test_http_charset_outranks_the_document() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Ça va</title>'
        "</channel></rss>"
    ).encode("latin-1")
    feed = parse_feed(
        body, url="https://x.example/f", content_type="application/xml; charset=iso-8859-1"
    )
    assert feed.title == "Ça va"
    assert feed.encoding == "iso-8859-1"


def test_html_page_is_a_clear_error_naming_the_feeds_it_links() -> None:
    with pytest.raises(FeedFormatError) as caught:
        parse_feed(
            fixture("page.html"),
            url="https://news.example.com/",
            content_type="text/html; charset=utf-8",
        )
    error = caught.value
    assert str(error) == (
        "https://news.example.com/: the server sent an HTML page where an RSS or Atom feed "
        "was expected"
    )
    assert error.alternates == [
        "https://news.example.com/rss2.xml",
        "https://journal.example.org/atom.xml",
    ]
    assert error.hint is not None and "https://news.example.com/rss2.xml" in error.hint
    assert isinstance(error, SourceError) and isinstance(error, IncidentDBError)


def test_html_page_is_recognised_without_a_content_type() -> None:
    with pytest.raises(FeedFormatError, match="HTML page"):
        parse_feed(b"  <html><body><p>hi</p></body></html>", url="https://x.example/")


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"", None, "the response is empty"),
        (b"  \n ", None, "the response is empty"),
        (b'{"items": []}', "application/json", "the application/json document is not an RSS"),
        (b"just some words", "text/plain", "the text/plain document is not an RSS"),
    ],
)
def test_not_a_feed(body: bytes, content_type: str | None, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message):
        parse_feed(body, url="https://x.example/f", content_type=content_type)


def test_a_feed_served_as_html_is_still_read() -> None:
    feed = parse_feed(fixture("rss091.xml"), url="https://w.example/f", content_type="text/html")
    assert len(feed.entries) == 1


def test_empty_feed_is_a_feed() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>E</title></channel></rss>'
    feed = parse_feed(body, url="https://x.example/f")
    assert (feed.version, feed.entries, feed.bozo) == ("rss20", [], False)


def test_entries_with_nothing_to_key_on_are_skipped_and_counted() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>E</title>'
        b"<item><description>no title, no link</description></item>"
        b"<item><title>kept</title></item></channel></rss>"
    )
    feed = parse_feed(body, url="https://x.example/f")
    assert [e.title for e in feed.entries] == ["kept"]
    assert feed.entries[0].url is None
    assert feed.skipped == 1


def test_guid_permalink_becomes_the_link() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title><item><title>g</title>'
        b"<guid>https://x.example/g1?utm_term=a</guid><pubDate>garbage</pubDate></item>"
        b"</channel></rss>"
    )
    (entry,) = parse_feed(body, url="https://x.example/f").entries
    assert entry.url == "https://x.example/g1"
    assert entry.published is None


def test_feedparser_never_fetches_a_url_given_as_content() -> None:
    with pytest.raises(FeedFormatError):
        parse_feed(b"http://127.0.0.1:9/feed.xml", url="https://x.example/f")


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("plain  words\n here", "plain words here"),
        ("<p>One</p><p>Two &amp; three</p>", "One\n\nTwo & three"),
        ("a<br>b<br/>c", "a\n\nb\n\nc"),
        ("<div>x<script>var a = '<p>';</script><style>p{}</style>y</div>", "xy"),
        ("<ul><li>one</li>\n<li>two</li></ul>", "one\n\ntwo"),
        ("x &lt; y &#233;t&eacute;", "x < y été"),
        ("", ""),
    ],
)
def test_plain_text_from_html(html: str, text: str) -> None:
    assert plain_text_from_html(html) == text


def test_extract_main_text_keeps_the_article_and_drops_the_chrome() -> None:
    pytest.importorskip("trafilatura")
    text = extract_main_text(fixture("article.html"), url="https://news.example.com/a")
    assert "separate legal entity" in text
    assert "Subscribe now" not in text
    assert "Cookie settings" not in text


def test_extract_main_text_of_an_empty_page() -> None:
    pytest.importorskip("trafilatura")
    with pytest.raises(FulltextError, match="no article text"):
        extract_main_text(b"<html><body></body></html>", url="https://x.example/a")


def test_extract_main_text_without_trafilatura(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trafilatura", None)
    with pytest.raises(FulltextError, match="needs trafilatura") as caught:
        extract_main_text(fixture("article.html"), url="https://news.example.com/a")
    assert caught.value.hint is not None and "pip install trafilatura" in caught.value.hint


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.builds(
            lambda items: (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
                + "".join(f"<item>{x}</item>" for x in items)
                + "</channel></rss>"
            ).encode("utf-8", "surrogatepass"),
            st.lists(st.text(max_size=60), max_size=4),
        ),
    )
)
def test_any_bytes_give_a_feed_or_a_feed_format_error(content: bytes) -> None:
    try:
        feed = parse_feed(content, url="https://x.example/feed")
    except FeedFormatError:
        return
    assert all(e.published is None or e.published.tzinfo is dt.UTC for e in feed.entries)
    assert parse_feed(content, url="https://x.example/feed") == feed  # deterministic


# -- the fast paths give exactly what the plain ones give ------------------------------------


def _reference_plain_text(html: str) -> str:
    """plain_text_from_html as it was before its fast paths: HTMLParser and regexes only."""
    import re

    from ingest.rss.parse import _BREAK, _TextCollector

    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    chunks = "".join(collector.parts).split(_BREAK)
    return "\n\n".join(c for c in (re.sub(r"\s+", " ", chunk).strip() for chunk in chunks) if c)


_HTML_TOKENS = [
    "<p>", "</p>", "<P>", "</P>", "<p >", "</p >", "<p/>", "</p/>", "<p\n/>", "<br/>",
    "<br />", "<b>", "</b>", "<script>", "</script>", "<style>", "</style>", "<title>",
    "</title>", "<svg>", "</svg>", "<div>", "</div>", "<li>", "<h1>", "< p>", "<1>", "<a href='x'>",
    "</a>", "<!-- c -->", "<!doctype html>", "<?pi?>", "&amp;", "&", "&#x41;", "<", ">",
    "a", "AI fails", " ", "  ", "\n", "\n\n", "\n \n", "\t", "\r\n", "\xa0", "\u2003", "\x00",
]  # fmt: skip


@given(st.lists(st.one_of(st.sampled_from(_HTML_TOKENS), st.text(max_size=5)), max_size=30))
@settings(max_examples=400)
def test_plain_text_fast_path_agrees_with_htmlparser(tokens: list[str]) -> None:
    html = "".join(tokens)
    assert plain_text_from_html(html) == _reference_plain_text(html)


@given(st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\t", "\xa0", "\u2028", "\x0b"])))
def test_collapse_agrees_with_the_regexes(text: str) -> None:
    import re

    from ingest.rss.parse import _collapse

    chunks = re.split(r"\n\s*\n", text)
    expected = "\n\n".join(c for c in (re.sub(r"\s+", " ", x).strip() for x in chunks) if c)
    assert _collapse(text) == expected


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".xml", ".rdf"))
)
def test_entry_fields_are_parse_feeds_entries(name: str) -> None:
    from ingest.rss.parse import parse_entry_fields

    url = f"https://news.example.com/{name}"
    try:
        feed = parse_feed(fixture(name), url=url)
    except FeedFormatError:
        with pytest.raises(FeedFormatError):
            parse_entry_fields(fixture(name), url=url)
        return
    fields = parse_entry_fields(fixture(name), url=url)
    assert (fields.bozo, fields.error, fields.skipped) == (feed.bozo, feed.error, feed.skipped)
    assert [f._asdict() for f in fields.entries] == [
        e.model_dump(exclude={"source_domain", "tags"}) for e in feed.entries
    ]


def test_tuned_feedparser_changes_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import feedparser.mixin

    from ingest.rss.parse import tune_feedparser

    names = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".xml", ".rdf"))
    before = {}
    for name in names:
        try:
            before[name] = parse_feed(fixture(name), url=f"https://news.example.com/{name}")
        except FeedFormatError as exc:
            before[name] = str(exc)  # type: ignore[assignment]
    for attr in ("_urljoin", "make_safe_absolute_uri", "copy"):
        monkeypatch.setattr(feedparser.mixin, attr, getattr(feedparser.mixin, attr))
    tune_feedparser()
    assert hasattr(feedparser.mixin.make_safe_absolute_uri, "cache_info")
    assert type(feedparser.mixin.copy).__name__ == "_FlatCopy"
    for name in names:
        try:
            after = parse_feed(fixture(name), url=f"https://news.example.com/{name}")
        except FeedFormatError as exc:
            after = str(exc)  # type: ignore[assignment]
        assert after == before[name], name


@given(
    st.tuples(
        st.integers(-5, 12000),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.integers(0, 61),
        st.integers(0, 62),
    )
)
def test_utc_fast_path_agrees_with_timegm(fields: tuple[int, ...]) -> None:
    import calendar
    import time

    from ingest.rss.parse import _utc

    value = time.struct_time((*fields, 0, 1, 0))
    try:
        expected = dt.datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        expected = None
    assert _utc(value) == expected

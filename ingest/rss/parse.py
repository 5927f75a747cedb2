"""Pure parsers for news feeds and article pages: bytes in, pydantic models out.

Nothing here does I/O. :func:`parse_feed` reads RSS 0.9x/1.0/2.0 and Atom with feedparser and
reduces every entry to a :class:`FeedEntry` (canonical URL, UTC time, plain text);
:func:`extract_main_text` pulls the article text out of an HTML page (trafilatura, optional).

The errors of the ``ingest.rss`` package live here, so that every module can import them without
a cycle; the tree (all under :class:`incidentdb.SourceError`)::

    SourceError
    └── FeedError                  something about a news feed went wrong
        ├── FeedFormatError        the bytes are not an RSS or Atom feed (an HTML page, JSON, empty)
        ├── FeedListError          a feed list (OPML or JSON) is malformed; names the file
        └── FulltextError          no article text could be had (page, extraction, trafilatura)
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import functools
import io
import re
import time
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Any, NamedTuple

import feedparser
from pydantic import BaseModel, ConfigDict, Field

from incidentdb import SourceError
from incidentdb._text import canonical_url, source_domain

__all__ = [
    "EntryFields",
    "FeedEntry",
    "FeedError",
    "FeedFields",
    "FeedFormatError",
    "FeedListError",
    "FulltextError",
    "ParsedFeed",
    "extract_main_text",
    "parse_entry_fields",
    "parse_feed",
    "plain_text_from_html",
    "tune_feedparser",
]


# -- errors ----------------------------------------------------------------------------------


class FeedError(SourceError):
    """Something about a news feed, a feed list or an article page went wrong."""


class FeedFormatError(FeedError):
    """The bytes are not an RSS or Atom feed: an HTML page, JSON, plain text, nothing.

    Attributes:
        url: the address the bytes came from.
        alternates: feed addresses an HTML page advertises (``<link rel="alternate">``), so a
            caller can suggest the right one.
    """

    def __init__(
        self,
        url: str,
        message: str,
        *,
        alternates: Iterable[str] = (),
        hint: str | None = None,
    ) -> None:
        self.url = url
        self.alternates = list(alternates)
        if hint is None and self.alternates:
            hint = "The page names these feeds: " + ", ".join(self.alternates)
        super().__init__(f"{url}: {message}", hint=hint)


class FeedListError(FeedError):
    """A feed list (OPML or AIID's JSON) is malformed.

    Attributes:
        file: the file's name or path, as given.
    """

    def __init__(self, file: str, message: str, *, hint: str | None = None) -> None:
        self.file = file
        super().__init__(f"{file}: {message}", hint=hint)


class FulltextError(FeedError):
    """No article text could be had: the page failed, held no text, or trafilatura is missing."""


# -- models ----------------------------------------------------------------------------------


class FeedEntry(BaseModel):
    """One item of a feed, reduced to what an incident report needs.

    Attributes:
        url: the entry's link, canonical (lower-case scheme and host, no fragment, no tracking
            parameters); the natural key of a report. None when the entry has no link.
        link: the link exactly as the feed gave it (relative links resolved against the feed).
        title: plain text.
        published: when it was published (else last updated), in UTC, timezone-aware.
        authors: names in feed order, without duplicates.
        summary: the description or summary as plain text.
        content: the full content, when the feed carries it, as plain text.
        guid: the feed's own id for the entry (RSS ``guid``, Atom ``id``).
        source_domain: the link's host without ``www.``.
        tags: category terms in feed order, without duplicates.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    link: str | None = None
    title: str | None = None
    published: dt.datetime | None = None
    authors: list[str] = Field(default_factory=list)
    summary: str | None = None
    content: str | None = None
    guid: str | None = None
    source_domain: str | None = None
    tags: list[str] = Field(default_factory=list)


class ParsedFeed(BaseModel):
    """A feed document as parsed.

    Attributes:
        url: the address the document came from (the base for relative links).
        version: feedparser's name for the format: ``rss20``, ``rss10``, ``rss091u``, ``atom10``…;
            empty when a broken document could not be told apart.
        title, link, description, language: the channel's own fields, plain text.
        encoding: the character encoding the document was read with.
        bozo: the document is not well-formed (or its declared encoding was wrong); the entries
            that could be read are kept all the same.
        error: what was wrong with it, when ``bozo``.
        entries: the entries, in document order.
        skipped: entries dropped for having no link, id or title (a broken document yields them).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    version: str
    title: str | None = None
    link: str | None = None
    description: str | None = None
    language: str | None = None
    encoding: str | None = None
    bozo: bool = False
    error: str | None = None
    entries: list[FeedEntry] = Field(default_factory=list)
    skipped: int = 0


# -- feeds -----------------------------------------------------------------------------------

# What the caller knows when it knows nothing: an XML document, whose own declaration (or BOM)
# names its encoding. Without any type, feedparser flags every feed as "no Content-type".
_DEFAULT_CONTENT_TYPE = "application/xml"
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
_FEED_LINK_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
)


def parse_feed(content: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse an RSS 0.9x/1.0/2.0 or Atom document.

    A malformed ("bozo") document keeps the entries that parse and says what was wrong in
    ``error``; so does one whose declared encoding is wrong (feedparser falls back to another
    encoding, named in ``encoding``).

    Args:
        content: the document's bytes, as received (after HTTP content decoding).
        url: where it came from; relative links in it are resolved against this.
        content_type: the HTTP ``Content-Type`` header, whose charset outranks the document's.

    Raises:
        FeedFormatError: the bytes are empty, an HTML page, or not a feed at all.
    """
    parsed = _feedparse(content, url, content_type)
    feed = parsed.get("feed") or {}
    kept, skipped = _kept_entries(parsed)
    entries = [
        FeedEntry(
            **fields._asdict(),
            source_domain=source_domain(fields.link),
            tags=_unique(
                _clean(tag.get("label")) or _clean(tag.get("term")) for tag in raw.get("tags") or []
            ),
        )
        for raw, fields in kept
    ]
    bozo, error = _bozo(parsed)
    return ParsedFeed(
        url=url,
        version=parsed.get("version") or "",
        title=_text_field(feed, "title"),
        link=_clean(feed.get("link")),
        description=_text_field(feed, "subtitle"),
        language=_clean(feed.get("language")),
        encoding=parsed.get("encoding") or None,
        bozo=bozo,
        error=error,
        entries=entries,
        skipped=skipped,
    )


class EntryFields(NamedTuple):
    """The fields of a :class:`FeedEntry` that are stored, as a plain tuple (no validation).

    What :func:`parse_entry_fields` gives: the same values :func:`parse_feed` puts in its
    models, at a fraction of the cost, and cheap to send from a parser process.
    """

    url: str | None
    link: str | None
    title: str | None
    published: dt.datetime | None
    authors: list[str]
    summary: str | None
    content: str | None
    guid: str | None


class FeedFields(NamedTuple):
    """What :func:`parse_entry_fields` gives: a feed's entries as :class:`EntryFields`."""

    bozo: bool
    error: str | None
    entries: list[EntryFields]
    skipped: int


def parse_entry_fields(content: bytes, *, url: str, content_type: str | None = None) -> FeedFields:
    """:func:`parse_feed` for a caller that stores entries: the same entry values (and
    ``bozo``, ``error``, ``skipped``), without the channel's fields, tags or models.

    Raises:
        FeedFormatError: as :func:`parse_feed`.
    """
    parsed = _feedparse(content, url, content_type)
    kept, skipped = _kept_entries(parsed)
    bozo, error = _bozo(parsed)
    return FeedFields(bozo, error, [fields for _raw, fields in kept], skipped)


def _kept_entries(
    parsed: Mapping[str, Any],
) -> tuple[list[tuple[dict[str, Any], EntryFields]], int]:
    """The entries worth keeping, raw and as fields, and how many were skipped: an entry with
    neither link, id nor title cannot be stored or told apart from another."""
    kept: list[tuple[dict[str, Any], EntryFields]] = []
    skipped = 0
    for entry in parsed.get("entries") or []:
        raw = dict(entry)
        fields = _entry_fields(raw)
        if fields.url is None and fields.guid is None and fields.title is None:
            skipped += 1
        else:
            kept.append((raw, fields))
    return kept, skipped


def _feedparse(content: bytes, url: str, content_type: str | None) -> Any:
    if not content.strip():
        raise FeedFormatError(url, "the response is empty, not a feed")
    headers = {"content-location": url, "content-type": content_type or _DEFAULT_CONTENT_TYPE}
    # A file-like object, never the bytes themselves: feedparser fetches strings that look like
    # URLs and opens strings that name files, and this function must stay pure.
    # Neither sanitising nor rewriting links inside the HTML of summaries and content changes
    # the plain text we keep (scripts and styles are dropped by our own reduction to text), and
    # both cost a pass of an HTML parser over every field: about a fifth of the parse.
    parsed = feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.get("version") and not parsed.get("entries"):
        raise _not_a_feed(content, url, content_type, parsed)
    return parsed


def _bozo(parsed: Mapping[str, Any]) -> tuple[bool, str | None]:
    bozo = bool(parsed.get("bozo"))
    exc = parsed.get("bozo_exception")
    return bozo, _describe(exc) if bozo and exc is not None else None


def tune_feedparser(maxsize: int = 1024) -> None:
    """Spare feedparser two costs that change none of its results, in this process, for good.

    - For every element it opens, feedparser joins the current base URL with the element's
      own (``xml:base``, else the same base again): a urljoin per element, about a third of
      the CPU of parsing a typical feed. The joins are pure functions of their arguments (and
      of feedparser's scheme whitelist, a constant), so they are remembered (an LRU cache).
    - For every text element it deep-copies the element's content parameters (type, language,
      base), a small dict of strings: a plain copy gives an equal dict, several times faster.
      Anything else is still deep-copied.

    Meant for processes that only parse feeds, such as the ingester's parser processes: the
    changes are process-wide, and are not made in a caller's process.
    """
    import feedparser.mixin

    for name in ("_urljoin", "make_safe_absolute_uri"):
        join = getattr(feedparser.mixin, name)
        if not hasattr(join, "cache_info"):
            setattr(feedparser.mixin, name, functools.lru_cache(maxsize)(join))
    if feedparser.mixin.copy is copy:
        feedparser.mixin.copy = _FlatCopy()


_ATOMIC = (str, int, bool, type(None))


class _FlatCopy:
    """Stands for the `copy` module inside feedparser.mixin (see :func:`tune_feedparser`)."""

    @staticmethod
    def deepcopy(obj: Any, memo: dict[int, Any] | None = None) -> Any:
        if (
            type(obj) is feedparser.FeedParserDict
            and not obj.__dict__
            and all(type(v) in _ATOMIC for v in dict.values(obj))
        ):
            return feedparser.FeedParserDict(obj)
        return copy.deepcopy(obj, memo)


def _not_a_feed(
    content: bytes, url: str, content_type: str | None, parsed: Mapping[str, Any]
) -> FeedFormatError:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in ("text/html", "application/xhtml+xml") or _HTML_START.match(content[:4096]):
        links = (parsed.get("feed") or {}).get("links") or []
        alternates = [
            link["href"]
            for link in links
            if link.get("rel") == "alternate"
            and (link.get("type") or "").lower() in _FEED_LINK_TYPES
            and link.get("href")
        ]
        return FeedFormatError(
            url,
            "the server sent an HTML page where an RSS or Atom feed was expected",
            alternates=alternates,
            hint=None if alternates else "Check the address: it is a web page, not its feed.",
        )
    exc = parsed.get("bozo_exception")
    detail = f" ({_describe(exc)})" if exc is not None else ""
    what = f"{mime} document" if mime else "document"
    return FeedFormatError(url, f"the {what} is not an RSS or Atom feed{detail}")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _entry_fields(raw: dict[str, Any]) -> EntryFields:
    # A plain dict: feedparser's own maps legacy keys onto others (updated_parsed falls back to
    # published_parsed, with a DeprecationWarning); only the keys actually parsed are wanted.
    link = _clean(raw.get("link"))
    content_text = _content_text(raw.get("content") or [])
    # feedparser copies an Atom entry's content into `summary` when it has no summary of its own;
    # only a summary with its own detail was written as one.
    if "summary_detail" in raw:
        summary = _text_field(raw, "summary")
    else:
        summary = None if content_text else _plain(raw.get("summary"), "text/html")
    return EntryFields(
        url=canonical_url(link),
        link=link,
        title=_text_field(raw, "title"),
        published=_utc(raw.get("published_parsed") or raw.get("updated_parsed")),
        authors=_authors(raw),
        summary=summary,
        content=content_text,
        guid=_clean(raw.get("id")),
    )


def _text_field(obj: Mapping[str, Any], key: str) -> str | None:
    detail = obj.get(f"{key}_detail") or {}
    return _plain(obj.get(key), detail.get("type") or "text/plain")


def _plain(value: Any, mime: str) -> str | None:
    if not isinstance(value, str):
        return None
    text = plain_text_from_html(value) if "html" in mime else _collapse(value)
    return text or None


def _content_text(parts: Iterable[Mapping[str, Any]]) -> str | None:
    texts = _unique(_plain(part.get("value"), part.get("type") or "text/html") for part in parts)
    return "\n\n".join(texts) or None


_EMAIL_THEN_NAME = re.compile(r"^\S+@\S+\s*\((?P<name>[^)]+)\)$")
_NAME_THEN_EMAIL = re.compile(r"^(?P<name>[^<]+?)\s*<\S+@\S+>$")


def _authors(raw: Mapping[str, Any]) -> list[str]:
    found: list[str | None] = []
    for author in raw.get("authors") or []:
        found.append(_clean(author.get("name")) or _clean(author.get("email")))
    if not found:
        found.append(_clean(raw.get("author")))
    names = []
    for name in found:
        if name:
            # RSS 2.0 <author> is "email (Name)"; some feeds write "Name <email>".
            match = _EMAIL_THEN_NAME.match(name) or _NAME_THEN_EMAIL.match(name)
            names.append(_collapse(match["name"]) if match else name)
    return _unique(names)


def _utc(value: Any) -> dt.datetime | None:
    """feedparser's parsed dates are struct_time already converted to UTC."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        # The fields as they are when they are a valid time (the usual case, a third of the
        # cost); timegm also normalises the others (a leap second, 31 June) as before.
        return dt.datetime(*value[:6], tzinfo=dt.UTC)
    except ValueError:
        pass
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(value), tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return _collapse(value) or None


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# -- HTML to text ----------------------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_BREAK = "\x00"  # stands for a paragraph break until the text is collapsed
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "iframe"})
_BLOCK = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append(_BREAK)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append(_BREAK)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append(_BREAK)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text_from_html(html: str) -> str:
    """The words of an HTML fragment: tags dropped, entities decoded, whitespace collapsed.

    Block elements (``p``, ``li``, headings, ``br``…) become paragraph breaks (a blank line);
    every other run of whitespace becomes one space. Scripts and styles are dropped whole.

    >>> plain_text_from_html("<p>AI  <b>fails</b> &amp;\\n\\nfalls</p><p>Two</p>")
    'AI fails & falls\\n\\nTwo'
    """
    collector = _TextCollector()
    if not _feed_simple(collector, html):
        collector.feed(html)
        collector.close()
    return _join_paragraphs("".join(collector.parts).split(_BREAK))


# Most feed summaries are text with a few bare tags (`<p>`, `</b>`, `<br/>`) and nothing else.
# For those, the tags are found by one regex and handed to the collector as HTMLParser would
# (same names, same calls, same text), at a fraction of its cost; anything else (attributes,
# entities, comments, a stray `<`, a script or style, whose contents HTMLParser reads as raw
# text) goes through HTMLParser. A property test checks both paths agree.
_SIMPLE_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(\s*/)?>")
_RAW_TEXT_TAGS = frozenset({"script", "style"})


def _feed_simple(collector: _TextCollector, html: str) -> bool:
    """Feed `html` to `collector` without HTMLParser if it is simple; False if it is not."""
    if "&" in html:
        return False
    if "<" not in html:
        if html:
            collector.handle_data(html)
        return True
    tags = list(_SIMPLE_TAG.finditer(html))
    if len(tags) != html.count("<"):
        return False
    for tag in tags:
        if tag[1] and tag[3]:  # `</p/>`: leave HTMLParser to make sense of it
            return False
        if tag[2].lower() in _RAW_TEXT_TAGS:
            return False
    end = 0
    for tag in tags:
        if tag.start() > end:
            collector.handle_data(html[end : tag.start()])
        name = tag[2].lower()
        if tag[1]:
            collector.handle_endtag(name)
        elif tag[3]:
            collector.handle_startendtag(name, [])
        else:
            collector.handle_starttag(name, [])
        end = tag.end()
    if end < len(html):
        collector.handle_data(html[end:])
    return True


def _collapse(text: str) -> str:
    """Plain text with each run of whitespace made one space, blank lines kept as breaks."""
    if text.count("\n") < 2:  # no blank line: one paragraph
        return " ".join(text.split())
    return _join_paragraphs(_PARAGRAPH_BREAK.split(text))


def _join_paragraphs(chunks: Iterable[str]) -> str:
    # `" ".join(c.split())` is `re.sub(r"\s+", " ", c).strip()`: str.split, strip and the
    # regex's \s use the same Unicode whitespace (checked over every code point), and
    # splitting is several times faster.
    return "\n\n".join(c for c in (" ".join(chunk.split()) for chunk in chunks) if c)


# -- article pages ---------------------------------------------------------------------------


def extract_main_text(html: bytes, *, url: str) -> str:
    """The main text of an article page, without menus, footers and comments.

    Uses trafilatura, an optional dependency (``pip install trafilatura``).

    Raises:
        FulltextError: trafilatura is not installed, or the page holds no article text.
    """
    trafilatura = _trafilatura()
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, deduplicate=True
    )
    text = _collapse(text) if isinstance(text, str) else ""
    if not text:
        raise FulltextError(f"{url}: no article text found in the page")
    return text


def _trafilatura() -> Any:
    try:
        import trafilatura
    except ImportError as exc:
        raise FulltextError(
            f"full-text extraction needs trafilatura, which cannot be imported ({exc})",
            hint="Install it with `pip install trafilatura`, or poll without full text.",
        ) from exc
    return trafilatura

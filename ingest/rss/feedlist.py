"""Reading lists of feeds: OPML, and the JSON list AIID's news monitor uses.

AIID's list is a JSON array of objects, ``[{"url": "https://…/rss", "fulltext": true}, …]``,
where ``fulltext`` marks feeds whose entries carry only a teaser, so the article page must be
fetched. OPML is what feed readers export: ``<outline xmlUrl="…" title="…">`` elements, nested
in folders to any depth.

:func:`parse_opml` and :func:`parse_json_feed_list` are pure functions over bytes;
:func:`read_feed_list` reads a file and tells the format from its first character.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from incidentdb._text import canonical_url
from ingest.rss.parse import FeedListError

__all__ = ["FeedSpec", "parse_json_feed_list", "parse_opml", "read_feed_list"]


class FeedSpec(BaseModel):
    """One feed named by a list.

    Attributes:
        url: the feed's address, as the list gives it (trimmed).
        name: a human name for it, when the list has one.
        fulltext: its entries are teasers; fetch each article page for the text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    name: str | None = None
    fulltext: bool = False


def read_feed_list(path: str | os.PathLike[str]) -> list[FeedSpec]:
    """The feeds a list file names, in file order, each address once.

    The format is told from the content: ``<`` starts OPML, ``[`` starts a JSON list.

    Raises:
        FeedListError: the file cannot be read, or is neither well-formed OPML nor a JSON list
            of feeds (the message names the file, and the item when one is at fault).
    """
    name = os.fspath(path)
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise FeedListError(name, f"cannot be read ({exc.strerror or exc})") from exc
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"<":
        return parse_opml(content, source=name)
    if start in (b"[", b"{"):
        return parse_json_feed_list(content, source=name)
    raise FeedListError(
        name,
        "is neither OPML nor a JSON feed list" if start else "is empty",
        hint='Give an OPML file, or a JSON list like [{"url": "https://example.com/feed"}].',
    )


def parse_json_feed_list(content: bytes, *, source: str = "<json>") -> list[FeedSpec]:
    """Feeds from AIID's JSON list: an array of ``{"url", "fulltext"?, "name"?}`` or of URLs.

    Keys other than ``url``, ``name`` (or ``title``) and ``fulltext`` are ignored, so a list
    that carries more about each feed still reads.

    Raises:
        FeedListError: not JSON, not an array, or an item without a usable URL (named by its
            1-based position).
    """
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedListError(source, f"is not valid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise FeedListError(
            source,
            f"must hold a JSON array of feeds, not a {type(data).__name__}",
            hint='Write it as [{"url": "https://example.com/feed"}, …].',
        )
    return _unique(_json_items(data, source))


def _json_items(data: list[Any], source: str) -> Iterator[FeedSpec]:
    for number, item in enumerate(data, start=1):
        where = f"item {number}"
        if isinstance(item, str):
            yield FeedSpec(url=_checked_url(item, source, where))
            continue
        if not isinstance(item, dict):
            raise FeedListError(
                source, f"{where}: expected an object or a URL, found {type(item).__name__}"
            )
        if "url" not in item:
            raise FeedListError(source, f'{where}: has no "url"')
        fulltext = item.get("fulltext", False)
        if not isinstance(fulltext, bool):
            raise FeedListError(source, f'{where}: "fulltext" must be true or false')
        name = item.get("name", item.get("title"))
        if name is not None and not isinstance(name, str):
            raise FeedListError(source, f'{where}: "name" must be a string')
        yield FeedSpec(
            url=_checked_url(item["url"], source, where),
            name=(name or "").strip() or None,
            fulltext=fulltext,
        )


def parse_opml(content: bytes, *, source: str = "<opml>") -> list[FeedSpec]:
    """Feeds from an OPML document: every ``outline`` with an ``xmlUrl``, at any depth.

    The name is the outline's ``title`` (else its ``text``); ``fulltext="true"`` on an outline
    marks a teaser feed as in AIID's list. Folder outlines (no ``xmlUrl``) are walked through.

    Raises:
        FeedListError: not well-formed XML, not OPML, or an outline whose ``xmlUrl`` is not an
            http(s) address.
    """
    # Entity declarations are how XML bombs expand; a feed list never needs one.
    if b"<!ENTITY" in content:
        raise FeedListError(source, "declares XML entities, which a feed list never needs")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise FeedListError(source, f"is not well-formed XML ({exc})") from exc
    if _local(root.tag).lower() != "opml":
        raise FeedListError(
            source, f"is not OPML: its root element is <{_local(root.tag)}>, not <opml>"
        )
    return _unique(_opml_items(root, source))


def _opml_items(root: ET.Element, source: str) -> Iterator[FeedSpec]:
    for number, outline in enumerate(
        (e for e in root.iter() if _local(e.tag) == "outline"), start=1
    ):
        attrs = {key.lower(): value for key, value in outline.attrib.items()}
        url = attrs.get("xmlurl", "").strip()
        if not url:
            continue
        name = (attrs.get("title") or attrs.get("text") or "").strip() or None
        yield FeedSpec(
            url=_checked_url(url, source, f"outline {number} ({name or url})"),
            name=name,
            fulltext=attrs.get("fulltext", "").strip().lower() in ("true", "1", "yes"),
        )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _checked_url(url: Any, source: str, where: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise FeedListError(source, f"{where}: the URL is missing or not a string")
    url = url.strip()
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise FeedListError(source, f"{where}: {url!r} is not an http(s) URL")
    return url


def _unique(specs: Iterable[FeedSpec]) -> list[FeedSpec]:
    """Each feed once (the first mention wins), two spellings of one URL counting as one."""
    seen: dict[str | None, FeedSpec] = {}
    for spec in specs:
        seen.setdefault(canonical_url(spec.url), spec)
    return list(seen.values())

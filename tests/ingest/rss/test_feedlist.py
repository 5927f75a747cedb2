"""Feed lists: OPML (nested folders) and AIID's JSON list, and what a malformed one says."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentdb import SourceError
from ingest.rss import (
    FeedListError,
    FeedSpec,
    parse_json_feed_list,
    parse_opml,
    read_feed_list,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_opml_nested_outlines_in_document_order() -> None:
    specs = read_feed_list(FIXTURES / "feeds.opml")
    assert specs == [
        FeedSpec(url="https://news.example.com/rss2.xml", name="Example Tech News"),
        FeedSpec(url="https://journal.example.org/atom.xml", name="Atom Journal", fulltext=True),
        FeedSpec(url="https://rdf.example.net/index.rdf", name="RDF Digest"),
        # "HTTPS://NEWS.example.com/rss2.xml#x" is the first feed again: dropped
    ]


def test_aiid_json_list() -> None:
    specs = read_feed_list(str(FIXTURES / "aiid_feeds.json"))
    assert specs == [
        FeedSpec(url="https://news.example.com/rss2.xml"),
        FeedSpec(url="http://journal.example.org/atom.xml", fulltext=True),
        FeedSpec(url="https://rdf.example.net/index.rdf", name="RDF Digest"),
        FeedSpec(url="https://wire.example.com/rss091.xml"),
    ]


def test_opml_with_a_namespace_and_no_feeds() -> None:
    content = (
        b'<opml xmlns="http://example.com/ns" version="1.0"><body><outline text="x"/></body></opml>'
    )
    assert parse_opml(content) == []


def test_empty_json_list() -> None:
    assert parse_json_feed_list(b"[]") == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "broken.opml",
            b"<opml><body><outline xmlUrl='https://a/f'></body>",
            "is not well-formed XML",
        ),
        ("page.opml", b"<html><body/></html>", "is not OPML: its root element is <html>"),
        (
            "bad-url.opml",
            b"<opml><body><outline text='Mail' xmlUrl='mailto:x@example.com'/></body></opml>",
            "outline 1 \\(Mail\\): 'mailto:x@example.com' is not an http\\(s\\) URL",
        ),
        (
            "bomb.opml",
            b'<!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>',
            "declares XML entities",
        ),
        ("broken.json", b'[{"url": "https://a/f"},', "is not valid JSON"),
        ("object.json", b'{"url": "https://a/f"}', "must hold a JSON array of feeds, not a dict"),
        ("nourl.json", b'[{"url": "https://a/f"}, {"fulltext": true}]', 'item 2: has no "url"'),
        ("number.json", b"[42]", "item 1: expected an object or a URL, found int"),
        (
            "relative.json",
            b'[{"url": "/feed.xml"}]',
            "item 1: '/feed.xml' is not an http\\(s\\) URL",
        ),
        ("null.json", b'[{"url": null}]', "item 1: the URL is missing or not a string"),
        (
            "fulltext.json",
            b'[{"url": "https://a/f", "fulltext": "yes"}]',
            'item 1: "fulltext" must be true or false',
        ),
        ("words.txt", b"https://a/f\n", "is neither OPML nor a JSON feed list"),
        ("empty.json", b"  \n", "is empty"),
    ],
)
def test_malformed_lists_name_the_file(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FeedListError, match=message) as caught:
        read_feed_list(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert caught.value.file == str(path)
    assert isinstance(caught.value, SourceError)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.opml"
    with pytest.raises(FeedListError, match="cannot be read") as caught:
        read_feed_list(path)
    assert str(caught.value).startswith(str(path))


@pytest.mark.shared
def test_the_real_aiid_feed_list(shared_dir: Path) -> None:
    path = shared_dir / "aiid_data/responsible-ai-collaborative+nlp-monitoring/data_feeds.json"
    specs = read_feed_list(path)
    assert len(specs) == 26
    assert [s.url for s in specs if s.fulltext] == [
        "http://feeds.feedburner.com/IeeeSpectrumFullText"
    ]
    assert all(s.url.startswith(("http://", "https://")) for s in specs)

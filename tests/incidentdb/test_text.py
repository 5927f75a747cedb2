from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidentdb._text import canonical_url, name_from_slug, plain_text_from_markdown, source_domain


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Example.com:443/a/b/?utm_source=x&id=3#top",
            "https://www.example.com/a/b?id=3",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x?fbclid=1", "http://example.com:8080/x"),
        ("https://news.site/story?b=2&a=1", "https://news.site/story?b=2&a=1"),
        ("ftp://example.com/file", "ftp://example.com/file"),
        ("", None),
        (None, None),
    ],
)
def test_canonical_url(url: str | None, expected: str | None) -> None:
    assert canonical_url(url) == expected


@given(st.text())
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


def test_source_domain() -> None:
    assert source_domain("https://www.BBC.co.uk/news/1") == "bbc.co.uk"
    assert source_domain("not a url") is None


def test_plain_text_from_markdown() -> None:
    text = (
        "# Title\n\nA **bold** claim with a [link](https://x.y) and ![img](a.png).\n\n\n\n> quoted"
    )
    assert plain_text_from_markdown(text) == "Title\n\nA bold claim with a link and img.\n\nquoted"


def test_name_from_slug() -> None:
    assert name_from_slug("air-canada") == "Air Canada"
    assert name_from_slug("openai") == "Openai"

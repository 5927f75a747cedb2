"""Small text helpers every source needs: URL canonicalisation, markdown to plain text, slugs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["canonical_url", "name_from_slug", "plain_text_from_markdown", "source_domain"]

# Query parameters that only track the reader; dropping them makes two links to one article equal.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref_src",
        "cmpid",
        "ocid",
        "smid",
        "smtyp",
        "ncid",
        "sr_share",
        "_ga",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
    }
)
_TRACKING_PREFIXES = ("utm_", "mkt_", "pk_", "hsa_", "at_")
# Lower-case http(s) host without port, query, fragment or trailing slash: nothing to change.
_ALREADY_CANONICAL = re.compile(r"^https?://[a-z0-9.\-]+/([^?#\s]*[^/?#\s])?$")


def canonical_url(url: str | None) -> str | None:
    """The URL with scheme and host lower-cased, default port, fragment and tracking removed.

    >>> canonical_url("HTTPS://WWW.Example.com:443/a/b/?utm_source=x&id=3#top")
    'https://www.example.com/a/b?id=3'
    """
    url = (url or "").strip()
    if not url:
        return None
    if _ALREADY_CANONICAL.match(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_PARAMS and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def source_domain(url: str | None) -> str | None:
    """The host of `url`, lower-case, without a leading `www.`."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)
_MD_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"\*\*|__|~~|`+|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_BLANKS = re.compile(r"\n{3,}")


def plain_text_from_markdown(text: str | None) -> str | None:
    """Report text (AIID stores markdown) reduced to the words, for search and NLP.

    Each rewrite runs only when its marker character occurs: most report texts carry little
    markdown, and this runs once per report of a million-report import.
    """
    if text is None:
        return None
    out = text
    if "](" in out:
        out = _MD_LINK.sub(r"\1", _MD_IMAGE.sub(r"\1", out))
    if "#" in out:
        out = _MD_HEADING.sub("", out)
    if ">" in out:
        out = _MD_QUOTE.sub("", out)
    if "*" in out or "_" in out or "`" in out or "~~" in out:
        out = _MD_EMPHASIS.sub("", out)
    if "\n\n\n" in out:
        out = _BLANKS.sub("\n\n", out)
    return out.strip()


def name_from_slug(slug: str) -> str:
    """A stand-in name for an entity known only by its slug: `"air-canada"` → `"Air Canada"`."""
    return " ".join(
        word[:1].upper() + word[1:] for word in slug.replace("_", "-").split("-") if word
    )

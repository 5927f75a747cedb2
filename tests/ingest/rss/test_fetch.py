"""Polling through real sockets: a server on 127.0.0.1 that serves the fixtures and misbehaves.

The server and its routes are in ``tests/rss_server.py`` (shared with the ingester's tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import gzip
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from rss_server import LAST_MODIFIED, FeedServer

from ingest.rss import (
    FeedFormatError,
    FeedRequest,
    FeedResult,
    FulltextError,
    PollOutcome,
    RedirectHop,
    fetch_fulltext,
    iter_poll_feeds,
    parse_feed,
    poll_feeds,
    poll_feeds_sync,
)
from ingest.rss.fetch import _PerHostTransport, _retry_after_seconds

FIXTURES = Path(__file__).parent / "fixtures"

# -- helpers ----------------------------------------------------------------------------------
# Short limits keep the misbehaving endpoints fast: 0.5 s per wait, one retry, 1 MB bodies.
FAST: dict[str, Any] = {
    "timeout": 0.5,
    "total_timeout": 3.0,
    "retries": 1,
    "backoff": 0.05,
    "retry_after_cap": 5.0,
    "max_bytes": 1_000_000,
}


def poll_one(request: FeedRequest | str, **options: Any) -> FeedResult:
    (result,) = poll_feeds_sync([request], **{**FAST, **options})
    return result


def titles(result: FeedResult) -> list[str | None]:
    assert result.content is not None
    feed = parse_feed(result.content, url=result.final_url, content_type=result.content_type)
    return [e.title for e in feed.entries]


RSS2_TITLES = [
    "Chatbot invents a refund policy",
    "Face recognition misidentifies shopper & store apologises",
    "Undated item",
]


# -- one behaviour at a time ------------------------------------------------------------------
def test_ok(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/feeds/rss2.xml"))
    assert result.outcome == PollOutcome.OK == "ok"
    assert (result.status, result.attempts, result.redirects, result.error) == (200, 1, [], None)
    assert result.final_url == result.url and result.permanent_url is None
    assert result.etag == '"rss2.xml-v1"' and result.last_modified == LAST_MODIFIED
    assert result.content == (FIXTURES / "rss2.xml").read_bytes()
    assert result.content_type == "application/rss+xml"
    assert not result.failed
    assert titles(result) == RSS2_TITLES
    headers = feed_server.request_headers["/feeds/rss2.xml"][0]
    assert headers["User-Agent"].startswith("incidentdb/")
    assert "application/rss+xml" in headers["Accept"]
    assert "If-None-Match" not in headers


def test_conditional_get_with_etag_gives_304(feed_server: FeedServer) -> None:
    first = poll_one(feed_server.url("/feeds/atom.xml"))
    again = poll_one(FeedRequest(url=first.url, etag=first.etag, last_modified=first.last_modified))
    assert again.outcome == "not_modified"
    assert (again.status, again.content, again.error) == (304, None, None)
    assert again.etag == first.etag and again.last_modified == first.last_modified
    assert again.bytes_downloaded == 0 < first.bytes_downloaded
    sent = feed_server.request_headers["/feeds/atom.xml"][1]
    assert sent["If-None-Match"] == '"atom.xml-v1"'
    assert sent["If-Modified-Since"] == LAST_MODIFIED


def test_conditional_get_with_last_modified_only(feed_server: FeedServer) -> None:
    result = poll_one(
        FeedRequest(url=feed_server.url("/feeds/rss1.rdf"), last_modified=LAST_MODIFIED)
    )
    assert result.outcome == "not_modified"
    assert result.last_modified == LAST_MODIFIED


def test_stale_etag_gets_the_new_body(feed_server: FeedServer) -> None:
    result = poll_one(FeedRequest(url=feed_server.url("/feeds/rss1.rdf"), etag='"old"'))
    assert result.outcome == "ok" and result.etag == '"rss1.rdf-v1"'


def test_301_and_308_chain_marks_the_permanent_url(feed_server: FeedServer) -> None:
    second = feed_server.url("/redirect/308?to=/feeds/rss2.xml")
    first = feed_server.url(f"/redirect/301?to={second}")
    result = poll_one(first)
    assert result.outcome == "ok"
    assert result.final_url == feed_server.url("/feeds/rss2.xml")
    assert result.permanent_url == feed_server.url("/feeds/rss2.xml")
    assert result.redirects == [
        RedirectHop(url=first, status=301, location=second),
        RedirectHop(url=second, status=308, location=feed_server.url("/feeds/rss2.xml")),
    ]
    assert result.attempts == 3
    assert titles(result) == RSS2_TITLES


def test_302_is_followed_but_not_permanent(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/redirect/302?to=/feeds/atom.xml"))
    assert result.outcome == "ok"
    assert result.final_url == feed_server.url("/feeds/atom.xml")
    assert result.permanent_url is None
    assert [hop.status for hop in result.redirects] == [302]


def test_permanent_then_temporary_redirect_keeps_the_permanent_part(
    feed_server: FeedServer,
) -> None:
    temporary = feed_server.url("/redirect/307?to=/feeds/atom.xml")
    result = poll_one(feed_server.url(f"/redirect/301?to={temporary}"))
    assert result.outcome == "ok"
    assert result.permanent_url == temporary
    assert [hop.status for hop in result.redirects] == [301, 307]


def test_permanent_redirect_to_a_missing_feed_is_not_reported_as_permanent(
    feed_server: FeedServer,
) -> None:
    result = poll_one(feed_server.url("/redirect/301?to=/status/404"))
    assert result.outcome == "not_found" and result.permanent_url is None


def test_redirect_loop(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/loop"), max_redirects=5)
    assert result.outcome == "error"
    assert result.error == "more than 5 redirects"
    assert len(result.redirects) == 5


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(404, "not_found"), (410, "gone"), (403, "http_error"), (501, "http_error")],
)
def test_client_errors_are_not_retried(feed_server: FeedServer, status: int, outcome: str) -> None:
    result = poll_one(feed_server.url(f"/status/{status}"), retries=3)
    assert (result.outcome, result.status, result.attempts) == (outcome, status, 1)
    assert result.error is not None and result.error.startswith(f"the server answered {status}")
    assert result.failed and result.content is None


def test_429_waits_for_retry_after_seconds(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/flaky/429?fail=1&retry_after=1"))
    assert (result.outcome, result.status, result.attempts) == ("ok", 200, 2)
    assert result.elapsed >= 1.0
    assert titles(result) == RSS2_TITLES


def test_503_waits_for_retry_after_date(feed_server: FeedServer) -> None:
    when = email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1), usegmt=True
    )
    result = poll_one(feed_server.url(f"/flaky/503?fail=1&retry_after={when}"))
    assert (result.outcome, result.attempts) == ("ok", 2)


def test_retry_after_beyond_the_cap_gives_up_at_once(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/status/429?retry_after=120"), retries=3)
    assert (result.outcome, result.status, result.attempts) == ("rate_limited", 429, 1)
    assert result.retry_after == 120.0


def test_429_still_limited_after_the_retries(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/status/429"), retries=2)
    assert (result.outcome, result.attempts, result.retry_after) == ("rate_limited", 3, None)


def test_500_then_success(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/flaky/500?fail=1"))
    assert (result.outcome, result.status, result.attempts) == ("ok", 200, 2)


def test_500_every_time(feed_server: FeedServer) -> None:
    start = time.monotonic()
    result = poll_one(feed_server.url("/status/500"), retries=2, backoff=0.1)
    assert (result.outcome, result.status, result.attempts) == ("http_error", 500, 3)
    assert result.error == "the server answered 500 Internal Server Error"
    # backoff doubles: 0.1 s then 0.2 s
    assert time.monotonic() - start >= 0.3


def test_slow_server_times_out(feed_server: FeedServer) -> None:
    start = time.monotonic()
    result = poll_one(feed_server.url("/slow"))
    took = time.monotonic() - start
    assert (result.outcome, result.status, result.attempts) == ("timeout", None, 2)
    assert result.error == "ReadTimeout after 0.5 s"
    assert 1.0 <= took < 1.9


def test_trickling_body_hits_the_total_timeout(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/trickle"), total_timeout=0.8, retries=0)
    assert (result.outcome, result.attempts) == ("timeout", 1)
    assert result.error == "no complete answer within 0.8 s"


def test_connection_refused(feed_server: FeedServer) -> None:
    # A port that was just free: nothing listens there.
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = poll_one(f"http://127.0.0.1:{port}/feed.xml")
    assert (result.outcome, result.status, result.attempts) == ("connection_error", None, 2)
    assert result.error is not None and result.error.startswith("ConnectError")


def test_gzip_is_decoded(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/gzip.xml"))
    assert result.outcome == "ok"
    assert result.content == (FIXTURES / "rss2.xml").read_bytes()
    assert result.bytes_downloaded < len(result.content)
    assert result.bytes_downloaded >= len(gzip.compress(result.content)) - 64
    assert titles(result) == RSS2_TITLES


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_never_fully_read(
    feed_server: FeedServer, with_length: bool
) -> None:
    size = 64 * 1024 * 1024
    path = f"/large?size={size}&length={int(with_length)}"
    result = poll_one(feed_server.url(path), max_bytes=1_000_000)
    assert (result.outcome, result.status, result.attempts, result.content) == (
        "too_large",
        200,
        1,
        None,
    )
    if with_length:
        assert result.error == "the body is 67,108,864 bytes, over the limit of 1,000,000"
    else:
        assert result.error == "the body passed the limit of 1,000,000 bytes; stopped reading"
    assert result.bytes_downloaded < 8 * 1024 * 1024
    deadline = time.monotonic() + 5
    while path not in feed_server.sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert feed_server.sent[path] < size // 2  # the client hung up long before the end


def test_a_body_just_under_the_limit_is_read(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/large?size=999999&length=0"), max_bytes=1_000_000)
    assert result.outcome == "ok" and result.content is not None
    assert len(result.content) == 999_999


def test_html_page_instead_of_a_feed(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/page.html"))
    assert result.outcome == "ok" and result.content_type == "text/html; charset=utf-8"
    assert result.content is not None
    with pytest.raises(FeedFormatError, match="HTML page") as caught:
        parse_feed(result.content, url=result.final_url, content_type=result.content_type)
    assert caught.value.alternates[0] == feed_server.url("/rss2.xml")


def test_wrong_declared_encoding_over_http(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/latin1.xml"))
    assert result.outcome == "ok" and result.content is not None
    feed = parse_feed(result.content, url=result.final_url, content_type=result.content_type)
    assert feed.title == "Café Technique"
    assert [e.title for e in feed.entries] == ["Résumé screening bias à Paris"]
    assert feed.bozo and feed.encoding in ("windows-1252", "iso-8859-1")
    assert feed.error is not None and "but parsed as" in feed.error


def test_broken_xml_over_http(feed_server: FeedServer) -> None:
    result = poll_one(feed_server.url("/feeds/broken.xml"))
    assert result.outcome == "ok"
    assert titles(result)[:2] == [
        "Recommender & the rabbit hole",
        "Deepfake call ends in wire transfer",
    ]


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "http://", "not a url"])
def test_not_an_http_url(url: str) -> None:
    result = poll_one(url)
    assert (result.outcome, result.attempts) == ("error", 0)
    assert result.error == f"{url!r} is not an http(s) URL"


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="per_host must be at least 1"):
        poll_feeds_sync(["http://127.0.0.1/"], per_host=0)


# -- limits on concurrency --------------------------------------------------------------------
def test_per_host_limit(feed_server: FeedServer) -> None:
    urls = [feed_server.url(f"/counted?k=a{i}") for i in range(8)]
    start = time.monotonic()
    results = poll_feeds_sync(urls, concurrency=8, per_host=2)
    took = time.monotonic() - start
    assert [r.outcome for r in results] == ["ok"] * 8
    assert feed_server.max_in_flight["127.0.0.1"] == 2
    assert took >= 0.6  # 8 requests of 0.15 s, two at a time


def test_per_host_limit_applies_to_each_host_and_overall_limit_to_all(
    feed_server: FeedServer,
) -> None:
    urls = [
        feed_server.url(f"/counted?k={host[0]}{i}", host=host)
        for host in ("127.0.0.1", "localhost")
        for i in range(6)
    ]
    results = poll_feeds_sync(urls, concurrency=8, per_host=2)
    assert [r.outcome for r in results] == ["ok"] * 12
    assert feed_server.max_in_flight["127.0.0.1"] == 2
    assert feed_server.max_in_flight["localhost"] == 2
    assert feed_server.max_total_in_flight == 4

    feed_server.max_total_in_flight = 0
    results = poll_feeds_sync(urls, concurrency=3, per_host=2)
    assert feed_server.max_total_in_flight == 3


def test_each_host_keeps_its_own_connections_alive(feed_server: FeedServer) -> None:
    urls = [
        feed_server.url(f"/counted?k=keep{host[0]}{i}", host=host)
        for host in ("127.0.0.1", "localhost")
        for i in range(6)
    ]
    results = poll_feeds_sync(urls, concurrency=8, per_host=2)
    assert [r.outcome for r in results] == ["ok"] * 12
    # Two connections per host, each used for one host only, three requests each on average.
    hosts = sorted(
        (sorted(set(h.split(":")[0] for h in seen)), len(seen))
        for seen in feed_server.connections.values()
    )
    assert [h for h, _ in hosts] == [["127.0.0.1"]] * 2 + [["localhost"]] * 2
    assert sum(n for _, n in hosts) == 12


def test_idle_host_pools_beyond_the_bound_are_closed(feed_server: FeedServer) -> None:
    async def fetch(max_idle_hosts: int) -> None:
        transport = _PerHostTransport(per_host=2, max_idle_hosts=max_idle_hosts)
        async with httpx.AsyncClient(transport=transport) as client:
            for i in range(3):
                for host in ("127.0.0.1", "localhost"):
                    response = await client.get(feed_server.url(f"/gen/idle{i}?n=1", host=host))
                    assert response.status_code == 200

    asyncio.run(fetch(2))
    assert len(feed_server.connections) == 2  # one per host, reused
    feed_server.connections.clear()
    asyncio.run(fetch(1))
    assert len(feed_server.connections) == 6  # each switch of host closed the other's pool


# -- everything at once -----------------------------------------------------------------------
def test_every_misbehaviour_at_once_loses_no_good_entry(feed_server: FeedServer) -> None:
    """All endpoints in one poll: each gets its outcome, and the good feeds all come through."""
    url = feed_server.url
    expected = {
        url("/feeds/rss2.xml"): "ok",
        url("/feeds/atom.xml"): "ok",
        url("/feeds/rss1.rdf"): "ok",
        url("/feeds/rss091.xml"): "ok",
        url("/feeds/broken.xml"): "ok+bozo",
        url("/latin1.xml"): "ok+bozo",
        url("/gzip.xml"): "ok",
        url("/page.html"): "not_a_feed",
        url("/large?size=3000000&length=1"): "too_large",
        url("/large?size=3000000&length=0"): "too_large",
        url("/slow"): "timeout",
        url("/redirect/301?to=/feeds/rss2.xml&k=all"): "ok",
        url("/redirect/302?to=/feeds/atom.xml&k=all"): "ok",
        url("/status/404"): "not_found",
        url("/status/410"): "gone",
        url("/flaky/429?fail=1&retry_after=1&k=all"): "ok",
        url("/status/429?retry_after=600"): "rate_limited",
        url("/flaky/500?fail=1&k=all"): "ok",
        url("/status/500"): "http_error",
        url("/loop"): "error",
    }
    conditional = FeedRequest(url=url("/feeds/rss2.xml?k=cond"), etag='"rss2.xml-v1"')
    requests: list[FeedRequest | str] = [*expected, conditional]
    start = time.monotonic()
    results = poll_feeds_sync(requests, concurrency=8, per_host=8, **FAST)
    took = time.monotonic() - start

    assert [r.url for r in results] == [*expected, conditional.url]  # request order
    got: dict[str, str] = {}
    entries: dict[str, list[str | None]] = {}
    for result in results[:-1]:
        outcome = str(result.outcome)
        if result.outcome == "ok":
            assert result.content is not None
            try:
                feed = parse_feed(
                    result.content, url=result.final_url, content_type=result.content_type
                )
            except FeedFormatError:
                outcome = "not_a_feed"
            else:
                outcome = "ok+bozo" if feed.bozo else "ok"
                entries[result.url] = [e.title for e in feed.entries]
        got[result.url] = outcome
    assert got == expected
    assert results[-1].outcome == "not_modified"

    for feed_url in (
        url("/feeds/rss2.xml"),
        url("/gzip.xml"),
        url("/redirect/301?to=/feeds/rss2.xml&k=all"),
        url("/flaky/429?fail=1&retry_after=1&k=all"),
        url("/flaky/500?fail=1&k=all"),
    ):
        assert entries[feed_url] == RSS2_TITLES, feed_url
    assert len(entries[url("/feeds/atom.xml")]) == 2
    assert len(entries[url("/feeds/rss1.rdf")]) == 2
    assert entries[url("/feeds/rss091.xml")] == ["Voice clone fools bank"]
    assert entries[url("/latin1.xml")] == ["Résumé screening bias à Paris"]
    assert entries[url("/feeds/broken.xml")][:2] == [
        "Recommender & the rabbit hole",
        "Deepfake call ends in wire transfer",
    ]
    assert took < 4.0  # the slow and rate-limited feeds overlap with the rest


# -- the async API -------------------------------------------------------------------------


def test_iter_poll_feeds_yields_each_result_once(feed_server: FeedServer) -> None:
    urls = [feed_server.url(f"/counted?k=i{i}") for i in range(5)] + [
        feed_server.url("/status/404")
    ]

    async def collect() -> list[FeedResult]:
        return [r async for r in iter_poll_feeds(urls, per_host=3, **FAST)]

    results = asyncio.run(collect())
    assert sorted(r.url for r in results) == sorted(urls)
    assert sorted(str(r.outcome) for r in results) == ["not_found"] + ["ok"] * 5


def test_iter_poll_feeds_stopping_early_cancels_the_rest(feed_server: FeedServer) -> None:
    urls = [feed_server.url("/feeds/rss2.xml")] + [feed_server.url("/slow")] * 3

    async def first() -> tuple[FeedResult, float]:
        start = time.monotonic()
        async with contextlib.aclosing(iter_poll_feeds(urls, per_host=4, **FAST)) as results:
            result = await anext(results)
        return result, time.monotonic() - start

    result, took = asyncio.run(first())
    assert result.outcome == "ok"
    # The slow feeds answer after 2 s: they were cancelled, not waited for (the margin is for
    # loaded CI machines).
    assert took < 1.5


def test_poll_feeds_with_a_callers_client(feed_server: FeedServer) -> None:
    async def run() -> list[FeedResult]:
        async with httpx.AsyncClient(headers={"User-Agent": "tester/1"}) as client:
            results = await poll_feeds([feed_server.url("/feeds/rss091.xml")], client=client)
            assert not client.is_closed  # left open for its owner
            return results

    (result,) = asyncio.run(run())
    assert result.outcome == "ok"
    assert feed_server.request_headers["/feeds/rss091.xml"][0]["User-Agent"] == "tester/1"


def test_poll_feeds_sync_refuses_a_running_loop() -> None:
    async def inside() -> None:
        poll_feeds_sync([])

    with pytest.raises(RuntimeError, match="await poll_feeds"):
        asyncio.run(inside())


def test_nothing_to_poll() -> None:
    assert poll_feeds_sync([]) == []


# -- request logic, without a server ----------------------------------------------------------
def test_retry_after_values() -> None:
    now = dt.datetime(2026, 6, 2, 8, 0, 0, tzinfo=dt.UTC)
    assert _retry_after_seconds("120", now=now) == 120.0
    assert _retry_after_seconds(" 0 ", now=now) == 0.0
    assert _retry_after_seconds("Tue, 02 Jun 2026 08:00:30 GMT", now=now) == 30.0
    assert _retry_after_seconds("Tue, 02 Jun 2026 07:59:00 GMT", now=now) == 0.0
    assert _retry_after_seconds("-5", now=now) is None
    assert _retry_after_seconds("soon", now=now) is None
    assert _retry_after_seconds(None, now=now) is None


def test_an_unexpected_error_stays_with_its_feed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/boom":
            raise RuntimeError("handler bug")
        return httpx.Response(200, content=b"<rss/>", headers={"Content-Type": "text/xml"})

    async def run() -> list[FeedResult]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await poll_feeds(
                ["http://a.example/boom", "http://a.example/fine"], client=client
            )

    boom, fine = asyncio.run(run())
    assert (boom.outcome, boom.error) == ("error", "unexpected RuntimeError: handler bug")
    assert (fine.outcome, fine.content) == ("ok", b"<rss/>")


def test_broken_gzip_is_an_error_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})

    async def run() -> FeedResult:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            (result,) = await poll_feeds(["http://a.example/f"], client=client)
            return result

    result = asyncio.run(run())
    assert (result.outcome, result.attempts) == ("error", 1)
    assert result.error is not None and result.error.startswith("the body could not be decoded")


# -- full text --------------------------------------------------------------------------------
def test_fetch_fulltext(feed_server: FeedServer) -> None:
    pytest.importorskip("trafilatura")
    text = asyncio.run(fetch_fulltext(feed_server.url("/article.html")))
    assert "separate legal entity" in text
    assert "Subscribe now" not in text
    assert "text/html" in feed_server.request_headers["/article.html"][0]["Accept"]


def test_fetch_fulltext_of_a_missing_page(feed_server: FeedServer) -> None:
    pytest.importorskip("trafilatura")
    with pytest.raises(FulltextError, match="could not be fetched: the server answered 404"):
        asyncio.run(fetch_fulltext(feed_server.url("/status/404")))


def test_fetch_fulltext_without_trafilatura_makes_no_request(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "trafilatura", None)
    with pytest.raises(FulltextError, match="needs trafilatura"):
        asyncio.run(fetch_fulltext(feed_server.url("/article.html")))
    assert feed_server.hits["/article.html"] == 0


def test_the_pollers_own_client_sends_what_any_client_sends(feed_server: FeedServer) -> None:
    """Our client's requests skip `AsyncClient.send` but carry the same headers and answers."""
    from ingest.rss.fetch import USER_AGENT, new_client

    request = FeedRequest(url=feed_server.url("/feeds/atom.xml"), etag='"atom.xml-v1"')

    async def both() -> list[FeedResult]:
        async with (
            new_client(concurrency=2, per_host=2) as ours,
            httpx.AsyncClient(headers={"User-Agent": USER_AGENT}) as theirs,
        ):
            out = []
            for client in (ours, theirs, ours):
                for req in (request, FeedRequest(url=request.url)):
                    out.extend(await poll_feeds([req], client=client, **FAST))
            return out

    results = asyncio.run(both())
    sent = feed_server.request_headers["/feeds/atom.xml"]
    assert len(sent) == 6
    assert sent[0] == sent[2] == sent[4] and sent[1] == sent[3] == sent[5]
    assert sent[0]["If-None-Match"] == '"atom.xml-v1"' and "If-None-Match" not in sent[1]
    assert [r.outcome for r in results] == ["not_modified", "ok"] * 3
    assert results[1].content == results[3].content == results[5].content
    assert [r.model_dump(exclude={"elapsed"}) for r in results[:2]] == [
        r.model_dump(exclude={"elapsed"}) for r in results[2:4]
    ]

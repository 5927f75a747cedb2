"""Polling feeds over HTTP: many at once, politely, and never failing the batch for one feed.

:func:`poll_feeds` fetches every requested feed with one ``httpx.AsyncClient`` and returns one
:class:`FeedResult` per request, in request order; whatever goes wrong with a feed (timeouts,
refused connections, 404, 410, endless redirects, a body over the size limit) becomes that feed's
``outcome``, never an exception. How it behaves:

- at most ``concurrency`` requests at once, and at most ``per_host`` to any one host name;
  feeds are started host by host in turn, so one host's backlog does not hold up the others;
- timeouts (``timeout`` for connecting and for each wait on the server, ``total_timeout`` for a
  whole attempt, body included), connection errors and 5xx answers are retried up to ``retries``
  times, waiting ``backoff``, then twice that, and so on;
- on 429 and 503 the server's ``Retry-After`` (seconds or an HTTP date) is waited for instead,
  unless it exceeds ``retry_after_cap``: then the feed gives up at once and reports the wait in
  ``retry_after`` so the caller can schedule the next poll;
- redirects are followed one hop at a time (each hop counts against its own host's limit) and
  recorded; when the chain starts with permanent redirects (301, 308), ``permanent_url`` is where
  they lead, for the caller to store instead of the old address;
- a stored ``etag`` / ``last_modified`` is sent as ``If-None-Match`` / ``If-Modified-Since``,
  and a 304 answer is the outcome ``not_modified`` with no body;
- gzip and deflate are decoded by httpx; the decoded body is streamed and abandoned as soon as
  it passes ``max_bytes`` (the outcome ``too_large``), so a huge feed is never held in memory.

:func:`iter_poll_feeds` yields the same results as they complete, with at most a few times
``concurrency`` feeds in flight, for callers that store each feed as it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import math
import ssl
import time
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from incidentdb._progress import SILENT, Progress
from ingest._http import USER_AGENT
from ingest.rss.parse import FulltextError, _trafilatura, extract_main_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FeedRequest",
    "FeedResult",
    "PollOutcome",
    "RedirectHop",
    "fetch_fulltext",
    "iter_poll_feeds",
    "poll_feeds",
    "poll_feeds_sync",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.8"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_STATUSES = frozenset({301, 308})


class PollOutcome(StrEnum):
    """What polling one feed came to. A ``StrEnum``: ``result.outcome == "ok"`` works."""

    OK = "ok"  # 2xx, body in `content`
    NOT_MODIFIED = "not_modified"  # 304 to a conditional GET: nothing new, no body
    NOT_FOUND = "not_found"  # 404
    GONE = "gone"  # 410: the feed is gone for good; stop polling it
    RATE_LIMITED = "rate_limited"  # 429 after the retries, or a Retry-After beyond the cap
    HTTP_ERROR = "http_error"  # any other non-2xx answer (5xx after the retries, 401, 403…)
    TIMEOUT = "timeout"  # no (complete) answer in time, after the retries
    CONNECTION_ERROR = "connection_error"  # refused, reset, DNS failure… after the retries
    TOO_LARGE = "too_large"  # the body passed `max_bytes`; it was not read further
    ERROR = "error"  # anything else: not an http(s) URL, endless redirects, undecodable body


class FeedRequest(BaseModel):
    """A feed to poll, with the validators stored from its last poll.

    Attributes:
        url: the feed's address.
        etag: the ``ETag`` it last answered with, sent back as ``If-None-Match``.
        last_modified: its last ``Last-Modified``, sent back as ``If-Modified-Since``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    etag: str | None = None
    last_modified: str | None = None


class RedirectHop(BaseModel):
    """One redirect followed: ``url`` answered ``status`` pointing at ``location``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    status: int
    location: str


class FeedResult(BaseModel):
    """What polling one feed gave.

    Attributes:
        url: the address requested.
        final_url: the address that answered last, after redirects.
        permanent_url: where the chain of permanent redirects (301/308) at the start of the
            redirects leads, when there is one and the poll succeeded; the caller should store it
            in place of ``url``.
        status: the last HTTP status received, or None when no answer came.
        outcome: see :class:`PollOutcome`.
        etag, last_modified: the validators to send next time: the server's, or, on 304 and on
            failures, those of the request.
        content_type: the ``Content-Type`` of a successful answer, for :func:`parse_feed`.
        content: the body (decoded from gzip/deflate) when the outcome is ``ok``.
        error: what went wrong, in words, for every outcome but ``ok`` and ``not_modified``.
        attempts: requests made, retries and redirect hops included.
        elapsed: seconds from the first request to the end, retry waits included.
        redirects: each redirect followed, in order.
        retry_after: the wait the server asked for on the last 429/503, in seconds.
        bytes_downloaded: body bytes received over the wire (before decoding), all attempts
            together; headers are not counted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    final_url: str
    permanent_url: str | None = None
    status: int | None = None
    outcome: PollOutcome
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    content: bytes | None = Field(default=None, repr=False)
    error: str | None = None
    attempts: int = 0
    elapsed: float = 0.0
    redirects: list[RedirectHop] = Field(default_factory=list)
    retry_after: float | None = None
    bytes_downloaded: int = 0

    @property
    def failed(self) -> bool:
        """Neither ``ok`` nor ``not_modified``: the feed should count a failure."""
        return self.outcome not in (PollOutcome.OK, PollOutcome.NOT_MODIFIED)


# -- public functions ------------------------------------------------------------------------


async def poll_feeds(
    requests: Iterable[FeedRequest | str],
    *,
    concurrency: int = 8,
    per_host: int = 2,
    timeout: float = 10.0,
    total_timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 0.5,
    retry_after_cap: float = 120.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = 10,
    client: httpx.AsyncClient | None = None,
    progress: Progress = SILENT,
) -> list[FeedResult]:
    """Poll every feed; one result per request, in request order. Never raises for a feed.

    Args:
        requests: feeds to poll; a plain URL stands for a request without validators.
        concurrency: requests in flight at once, over all hosts.
        per_host: requests in flight at once to one host name.
        timeout: seconds to connect, and the longest wait for the next bytes of an answer.
        total_timeout: seconds one attempt may take from start to the last byte of the body.
        retries: further attempts after a timeout, a connection error, 429 or 5xx.
        backoff: seconds before the first retry; each later retry waits twice as long.
        retry_after_cap: the longest ``Retry-After`` waited for; a longer one ends the poll.
        max_bytes: the largest body read (after decoding); a larger one is ``too_large``.
        max_redirects: redirect hops followed before giving up with ``error``.
        client: an ``httpx.AsyncClient`` to use (left open) instead of a new one.
        progress: told of each feed done.

    Raises:
        ValueError: a limit is out of range (``concurrency`` < 1, ``max_bytes`` < 1…).
    """
    settings = _Settings(
        concurrency=concurrency,
        per_host=per_host,
        timeout=timeout,
        total_timeout=total_timeout,
        retries=retries,
        backoff=backoff,
        retry_after_cap=retry_after_cap,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
    )
    items = list(requests)
    results: list[FeedResult | None] = [None] * len(items)
    async for index, result in _run(items, settings, client, progress):
        results[index] = result
    return [r for r in results if r is not None]


async def iter_poll_feeds(
    requests: Iterable[FeedRequest | str],
    *,
    concurrency: int = 8,
    per_host: int = 2,
    timeout: float = 10.0,
    total_timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 0.5,
    retry_after_cap: float = 120.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = 10,
    client: httpx.AsyncClient | None = None,
    progress: Progress = SILENT,
) -> AsyncGenerator[FeedResult, None]:
    """Like :func:`poll_feeds`, but yield each result as it completes.

    At most ``max(4 * concurrency, 32)`` feeds are in flight, so memory stays bounded however
    slowly the results are consumed. Stopping early cancels the feeds in flight; wrap the
    iterator in ``contextlib.aclosing`` so that happens at once.
    """
    settings = _Settings(
        concurrency=concurrency,
        per_host=per_host,
        timeout=timeout,
        total_timeout=total_timeout,
        retries=retries,
        backoff=backoff,
        retry_after_cap=retry_after_cap,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
    )
    async with contextlib.aclosing(_run(list(requests), settings, client, progress)) as results:
        async for _, result in results:
            yield result


def poll_feeds_sync(
    requests: Iterable[FeedRequest | str],
    *,
    concurrency: int = 8,
    per_host: int = 2,
    timeout: float = 10.0,
    total_timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 0.5,
    retry_after_cap: float = 120.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = 10,
    progress: Progress = SILENT,
) -> list[FeedResult]:
    """:func:`poll_feeds` for callers without an event loop (it runs one until done).

    Raises:
        RuntimeError: called from inside a running event loop; ``await poll_feeds(…)`` there.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "poll_feeds_sync() cannot run inside an event loop; await poll_feeds() instead"
        )
    return asyncio.run(
        poll_feeds(
            requests,
            concurrency=concurrency,
            per_host=per_host,
            timeout=timeout,
            total_timeout=total_timeout,
            retries=retries,
            backoff=backoff,
            retry_after_cap=retry_after_cap,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            progress=progress,
        )
    )


async def fetch_fulltext(
    url: str,
    *,
    timeout: float = 10.0,
    total_timeout: float = 30.0,
    retries: int = 1,
    max_bytes: int = 5 * 1024 * 1024,
    client: httpx.AsyncClient | None = None,
) -> str:
    """The main text of the article page at ``url``, best effort (needs trafilatura).

    For many pages, poll them together with :func:`poll_feeds` (same limits per host) and pass
    each ``ok`` body to :func:`~ingest.rss.parse.extract_main_text`.

    Raises:
        FulltextError: trafilatura is not installed (checked before any request), the page
            could not be fetched, or it holds no article text.
    """
    _trafilatura()
    settings = _Settings(
        concurrency=1,
        per_host=1,
        timeout=timeout,
        total_timeout=total_timeout,
        retries=retries,
        backoff=0.5,
        retry_after_cap=30.0,
        max_bytes=max_bytes,
        max_redirects=10,
        accept=PAGE_ACCEPT,
    )
    (result,) = [r async for _, r in _run([FeedRequest(url=url)], settings, client, SILENT)]
    if result.outcome != PollOutcome.OK or result.content is None:
        why = result.error or result.outcome
        raise FulltextError(f"{url}: the article page could not be fetched: {why}")
    # Extraction parses the whole page with lxml: off the event loop, so other polls go on.
    return await asyncio.to_thread(extract_main_text, result.content, url=result.final_url)


# -- the machinery ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    concurrency: int
    per_host: int
    timeout: float
    total_timeout: float
    retries: int
    backoff: float
    retry_after_cap: float
    max_bytes: int
    max_redirects: int
    accept: str = FEED_ACCEPT

    def __post_init__(self) -> None:
        for name in ("concurrency", "per_host", "max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        for name in ("retries", "max_redirects", "backoff", "retry_after_cap"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, not {getattr(self, name)}")
        for name in ("timeout", "total_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")


async def _run(
    requests: Sequence[FeedRequest | str],
    settings: _Settings,
    client: httpx.AsyncClient | None,
    progress: Progress,
) -> AsyncGenerator[tuple[int, FeedResult], None]:
    """Yield (request index, result) pairs as feeds complete."""
    items = [
        (i, r if isinstance(r, FeedRequest) else FeedRequest(url=r)) for i, r in enumerate(requests)
    ]
    progress.stage("polling feeds", len(items))
    async with _client(client, settings) as http:
        poller = _Poller(http, settings)
        queue = iter(_interleave_hosts(items))
        window = max(4 * settings.concurrency, 32)
        pending: dict[asyncio.Task[FeedResult], int] = {}
        try:
            while True:
                while len(pending) < window and (item := next(queue, None)) is not None:
                    pending[asyncio.create_task(poller.poll(item[1]))] = item[0]
                if not pending:
                    break
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=pending.__getitem__):
                    index = pending.pop(task)
                    progress.advance(1)
                    yield index, task.result()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


@contextlib.asynccontextmanager
async def _client(
    client: httpx.AsyncClient | None, settings: _Settings
) -> AsyncIterator[httpx.AsyncClient]:
    if client is not None:
        yield client
        return
    async with new_client(concurrency=settings.concurrency, per_host=settings.per_host) as new:
        yield new


def new_client(*, concurrency: int, per_host: int) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for polling: one small connection pool per host, kept alive.

    One pool shared by all hosts would be rescanned on every request (httpcore walks all its
    connections and queued requests each time) and, with more hosts than its limit allows,
    would close one host's idle connection to open another's; a pool per host, sized to the
    per-host bound, reuses each host's connections and scans only those.
    """
    return _PollingClient(
        headers={"User-Agent": USER_AGENT},
        # Room for every host a batch of feeds names (the poller interleaves hosts), within a
        # bound on idle sockets: at most 2 × 64 at the defaults.
        transport=_PerHostTransport(per_host=per_host, max_idle_hosts=max(4 * concurrency, 64)),
        follow_redirects=False,
    )


class _PollingClient(httpx.AsyncClient):
    """The poller's own client: its requests may go straight to its transport.

    ``AsyncClient.send`` wraps each request in layers the poller never uses (auth flows,
    redirect handling, event hooks, the cookie jar, a timed stream): a quarter of the CPU of
    a 304. The poller builds its requests with this client's headers and timeout and hands
    them to the transport itself. Cookies are not kept between feeds (a poller has no use for
    them); a client a caller passes in is used through ``send`` as usual.
    """

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self.direct_transport = transport


class _PerHostTransport(httpx.AsyncBaseTransport):
    """Routes each request to the connection pool of its (scheme, host, port).

    Pools are made on first use, with one TLS context shared by all (making one loads the CA
    bundle: tens of milliseconds). At most ``max_idle_hosts`` pools are kept while idle, so the
    open connections stay bounded however many hosts a feed list names: the least recently used
    idle pool is closed first.
    """

    def __init__(self, *, per_host: int, max_idle_hosts: int) -> None:
        self._limits = httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host)
        self._max_idle_hosts = max(1, max_idle_hosts)
        self._ssl: ssl.SSLContext | None = None
        self._plain: ssl.SSLContext | None = None
        self._pools: OrderedDict[tuple[str, str, int | None], httpx.AsyncHTTPTransport] = (
            OrderedDict()
        )
        self._busy: Counter[tuple[str, str, int | None]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.scheme, request.url.host, request.url.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(
                verify=self._ssl_context(key[0]), limits=self._limits
            )
            await self._trim()
        else:
            self._pools.move_to_end(key)
        self._busy[key] += 1
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            self._release(key)
            raise
        # The pool is busy until the body is closed; only then may it be trimmed.
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, lambda: self._release(key)),
            extensions=response.extensions,
        )

    def _ssl_context(self, scheme: str) -> ssl.SSLContext:
        if scheme != "https":
            # Never used for TLS; a bare context spares loading the CA bundle (0.1 s of CPU)
            # when no feed is on https.
            if self._plain is None:
                self._plain = httpx.create_ssl_context(verify=False)
            return self._plain
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def _release(self, key: tuple[str, str, int | None]) -> None:
        self._busy[key] -= 1
        if self._busy[key] <= 0:
            del self._busy[key]

    async def _trim(self) -> None:
        excess = len(self._pools) - self._max_idle_hosts
        if excess <= 0:
            return
        for key in [k for k in self._pools if k not in self._busy][:excess]:
            await self._pools.pop(key).aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    def __init__(self, stream: Any, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._release is not None:
                release, self._release = self._release, None
                release()


def _interleave_hosts(
    items: Sequence[tuple[int, FeedRequest]],
) -> list[tuple[int, FeedRequest]]:
    """The requests reordered one host at a time, round-robin, each host's in request order."""
    by_host: dict[str, deque[tuple[int, FeedRequest]]] = {}
    for item in items:
        by_host.setdefault(_host(item[1].url), deque()).append(item)
    ordered: list[tuple[int, FeedRequest]] = []
    queues = list(by_host.values())
    while queues:
        ordered.extend(q.popleft() for q in queues)
        queues = [q for q in queues if q]
    return ordered


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


@dataclass(frozen=True)
class _Done:
    outcome: PollOutcome
    status: int | None = None
    headers: Mapping[str, str] | None = None
    content: bytes | None = None
    error: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class _Redirect:
    status: int
    location: str


@dataclass(frozen=True)
class _Retry:
    give_up: _Done  # the result if no retry is left
    wait: float | None = None  # what the server asked for (Retry-After), if anything


@dataclass
class _Trace:
    """What one feed's poll has done so far."""

    request: FeedRequest
    url: str
    attempts: int = 0
    hops: list[RedirectHop] = field(default_factory=list)
    bytes_downloaded: int = 0
    started: float | None = None

    def result(self, done: _Done) -> FeedResult:
        headers = done.headers or {}
        fresh = done.outcome == PollOutcome.OK
        succeeded = done.outcome in (PollOutcome.OK, PollOutcome.NOT_MODIFIED)
        return FeedResult(
            url=self.request.url,
            final_url=self.url,
            permanent_url=self._permanent_url() if succeeded else None,
            status=done.status,
            outcome=done.outcome,
            etag=headers.get("etag") or (None if fresh else self.request.etag),
            last_modified=headers.get("last-modified")
            or (None if fresh else self.request.last_modified),
            content_type=headers.get("content-type") if fresh else None,
            content=done.content,
            error=done.error,
            attempts=self.attempts,
            elapsed=time.monotonic() - self.started if self.started is not None else 0.0,
            redirects=list(self.hops),
            retry_after=done.retry_after,
            bytes_downloaded=self.bytes_downloaded,
        )

    def _permanent_url(self) -> str | None:
        target = None
        for hop in self.hops:
            if hop.status not in _PERMANENT_STATUSES:
                break
            target = hop.location
        return target


class _Poller:
    def __init__(self, client: httpx.AsyncClient, settings: _Settings) -> None:
        self._client = client
        self._settings = settings
        self._direct = client.direct_transport if isinstance(client, _PollingClient) else None
        # As the client spells them (`Accept`, `User-Agent`…), so the poller's own `Accept`
        # replaces the client's when merged.
        self._headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in client.headers.raw}
        self._timeout = {"timeout": httpx.Timeout(settings.timeout).as_dict()}
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}

    async def poll(self, request: FeedRequest) -> FeedResult:
        trace = _Trace(request=request, url=request.url)
        try:
            done = await self._poll(trace)
        except Exception as exc:  # one feed's surprise must not sink the batch
            done = _Done(PollOutcome.ERROR, error=f"unexpected {_describe(exc)}")
        return trace.result(done)

    async def _poll(self, trace: _Trace) -> _Done:
        settings = self._settings
        if not _is_http_url(trace.url):
            return _Done(PollOutcome.ERROR, error=f"{trace.url!r} is not an http(s) URL")
        retried = 0
        while True:
            step = await self._attempt(trace)
            if isinstance(step, _Done):
                return step
            if isinstance(step, _Redirect):
                if len(trace.hops) >= settings.max_redirects:
                    return _Done(
                        PollOutcome.ERROR,
                        status=step.status,
                        error=f"more than {settings.max_redirects} redirects",
                    )
                if not _is_http_url(step.location):
                    return _Done(
                        PollOutcome.ERROR,
                        status=step.status,
                        error=f"redirected to {step.location!r}, not an http(s) URL",
                    )
                trace.hops.append(
                    RedirectHop(url=trace.url, status=step.status, location=step.location)
                )
                trace.url = step.location
                continue
            if step.wait is not None and step.wait > settings.retry_after_cap:
                return step.give_up
            if retried >= settings.retries:
                return step.give_up
            delay = step.wait if step.wait is not None else settings.backoff * 2**retried
            retried += 1
            await asyncio.sleep(delay)

    async def _attempt(self, trace: _Trace) -> _Done | _Redirect | _Retry:
        settings = self._settings
        headers = {"Accept": settings.accept}
        if trace.request.etag:
            headers["If-None-Match"] = trace.request.etag
        if trace.request.last_modified:
            headers["If-Modified-Since"] = trace.request.last_modified
        host = _host(trace.url)
        host_slots = self._host_slots.setdefault(host, asyncio.Semaphore(settings.per_host))
        trace.attempts += 1
        try:
            # The host's slot first: waiting for it must not hold one of the shared slots.
            async with host_slots, self._slots:
                if trace.started is None:
                    trace.started = time.monotonic()
                async with asyncio.timeout(settings.total_timeout):
                    if self._direct is not None:
                        request = httpx.Request(
                            "GET",
                            trace.url,
                            headers={**self._headers, **headers},
                            extensions=self._timeout,
                        )
                        response = await self._direct.handle_async_request(request)
                        response.request = request
                    else:
                        request = self._client.build_request(
                            "GET", trace.url, headers=headers, timeout=settings.timeout
                        )
                        response = await self._client.send(
                            request, stream=True, follow_redirects=False
                        )
                    try:
                        return await self._answer(response)
                    finally:
                        await response.aclose()
                        trace.bytes_downloaded += response.num_bytes_downloaded
        except TimeoutError:
            error = f"no complete answer within {settings.total_timeout:g} s"
            return _Retry(_Done(PollOutcome.TIMEOUT, error=error))
        except httpx.TimeoutException as exc:
            error = f"{type(exc).__name__} after {settings.timeout:g} s"
            return _Retry(_Done(PollOutcome.TIMEOUT, error=error))
        except httpx.UnsupportedProtocol as exc:
            return _Done(PollOutcome.ERROR, error=_describe(exc))
        except httpx.TransportError as exc:
            return _Retry(_Done(PollOutcome.CONNECTION_ERROR, error=_describe(exc)))
        except httpx.DecodingError as exc:
            error = f"the body could not be decoded ({_describe(exc)})"
            return _Done(PollOutcome.ERROR, error=error)
        except httpx.InvalidURL as exc:
            return _Done(PollOutcome.ERROR, error=_describe(exc))

    async def _answer(self, response: httpx.Response) -> _Done | _Redirect | _Retry:
        status = response.status_code
        if not 200 <= status < 300:
            await _drain(response)
        location = response.headers.get("location", "").strip()
        if status in _REDIRECT_STATUSES and location:
            return _Redirect(status, urljoin(str(response.url), location))
        if status == 304:
            return _Done(PollOutcome.NOT_MODIFIED, status=status, headers=response.headers)
        if 200 <= status < 300:
            return await self._body(response)
        error = f"the server answered {status} {response.reason_phrase}".rstrip()
        if status == 429 or (status >= 500 and status != 501):
            wait = None
            if status in (429, 503):
                wait = _retry_after_seconds(response.headers.get("retry-after"))
            outcome = PollOutcome.RATE_LIMITED if status == 429 else PollOutcome.HTTP_ERROR
            return _Retry(_Done(outcome, status=status, error=error, retry_after=wait), wait)
        if status == 404:
            return _Done(PollOutcome.NOT_FOUND, status=status, error=error)
        if status == 410:
            return _Done(PollOutcome.GONE, status=status, error=error)
        return _Done(PollOutcome.HTTP_ERROR, status=status, error=error)

    async def _body(self, response: httpx.Response) -> _Done:
        limit = self._settings.max_bytes
        status = response.status_code
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            error = f"the body is {int(length):,} bytes, over the limit of {limit:,}"
            return _Done(PollOutcome.TOO_LARGE, status=status, error=error)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                error = f"the body passed the limit of {limit:,} bytes; stopped reading"
                return _Done(PollOutcome.TOO_LARGE, status=status, error=error)
            chunks.append(chunk)
        return _Done(
            PollOutcome.OK, status=status, headers=response.headers, content=b"".join(chunks)
        )


async def _drain(response: httpx.Response, limit: int = 65_536) -> None:
    """Read a small body (304, redirect, error page) to its end before closing the response.

    httpx keeps a connection alive only when the answer was read to its end; without this every
    304 of a conditional poll would cost a new TCP connection. A body over `limit` is left
    unread, and its connection closed.
    """
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                return
    except httpx.HTTPError:
        return


def _retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: a number of seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if 0 <= seconds < math.inf else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

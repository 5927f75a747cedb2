"""A misbehaving feed server on 127.0.0.1 for the feed tests (a thread running http.server).

The routes (the query string keeps per-test state apart, e.g. ``/flaky/500?fail=1&k=a``):

- ``/feeds/NAME``: a fixture file of ``tests/ingest/rss/fixtures``, with an ETag and
  Last-Modified; 304 when the request carries either validator and it matches;
- ``/gen/NAME?n=N&v=V&sleep=S``: a generated RSS feed of N items (links
  ``https://news.example.com/NAME/I``), ETag ``"NAME-N-V"``, 304 on a matching
  ``If-None-Match``; answers after S seconds, counting requests in flight per path;
- ``/doc/KEY``: ``server.documents[KEY]`` as RSS, its hash as ETag, 304 when it matches;
- ``/latin1.xml``: an RSS feed that declares UTF-8 but is encoded in Latin-1;
- ``/gzip.xml``: ``rss2.xml`` gzip-encoded (``Content-Encoding: gzip``);
- ``/page.html``, ``/article.html``: HTML pages;
- ``/slow``: answers after 2 s; ``/trickle``: sends headers, then one byte every 0.1 s;
- ``/status/CODE?retry_after=V``: that status (with ``Retry-After: V``);
- ``/flaky/CODE?fail=N&retry_after=V``: CODE for the first N requests, then ``rss2.xml``;
- ``/redirect/CODE?to=PATH``: a redirect; ``/loop``: a redirect to itself;
- ``/large?size=N&length=0|1``: an N-byte body, with or without Content-Length (else
  chunked), counting the bytes it manages to send in ``server.sent``;
- ``/counted?k=…``: sleeps 0.15 s, counting requests in flight per Host header and overall.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "ingest" / "rss" / "fixtures"

LAST_MODIFIED = "Tue, 02 Jun 2026 08:00:00 GMT"

LATIN1_FEED = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<rss version="2.0"><channel><title>Café Technique</title>'
    "<link>https://cafe.example.fr/</link>"
    "<item><title>Résumé screening bias à Paris</title>"
    "<link>https://cafe.example.fr/resume-bias</link>"
    "<description>Un algorithme écarte des candidates.</description></item>"
    "</channel></rss>"
).encode("latin-1")


def small_feed(title: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><item><title>{title} item</title>"
        f"<link>https://counted.example.com/{title}</link></item></channel></rss>"
    ).encode()


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        # Each TCP connection's client address, with the Host each request on it named.
        self.connections: dict[tuple[str, int], list[str]] = defaultdict(list)
        self.sent: dict[str, int] = {}
        self.request_headers: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.total_in_flight = 0
        self.max_total_in_flight = 0
        # /doc/KEY serves documents[KEY] (set by the test), with its hash as ETag.
        self.documents: dict[str, bytes] = {}
        self.path_in_flight: Counter[str] = Counter()
        self.max_path_in_flight: Counter[str] = Counter()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up on purpose (timeouts, size limits) are not errors here."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FeedServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.server.lock:
            self.server.hits[self.path] += 1
            hit = self.server.hits[self.path]
            self.server.request_headers[self.path].append(dict(self.headers.items()))
            self.server.connections[self.client_address].append(self.headers.get("Host", ""))
        route = parts.path.strip("/").split("/")
        try:
            self._route(route, query, hit)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _route(self, route: list[str], query: dict[str, str], hit: int) -> None:
        head = route[0]
        if head == "feeds":
            self._fixture(route[1])
        elif head == "doc":
            self._document(route[1])
        elif head == "gen":
            self._generated(route[1], query)
        elif head == "latin1.xml":
            self._send(200, LATIN1_FEED, "application/rss+xml")
        elif head == "gzip.xml":
            body = gzip.compress((FIXTURES / "rss2.xml").read_bytes())
            self._send(200, body, "application/rss+xml", {"Content-Encoding": "gzip"})
        elif head in ("page.html", "article.html"):
            self._send(200, (FIXTURES / head).read_bytes(), "text/html; charset=utf-8")
        elif head == "slow":
            if self.server.stopping.wait(2.0):
                return
            self._send(200, small_feed("slow"), "application/rss+xml")
        elif head == "trickle":
            self._trickle()
        elif head == "status":
            self._status(int(route[1]), query)
        elif head == "flaky":
            if hit <= int(query.get("fail", "1")):
                self._status(int(route[1]), query)
            else:
                self._fixture("rss2.xml")
        elif head == "redirect":
            self._send(int(route[1]), b"", "text/plain", {"Location": query["to"]})
        elif head == "loop":
            self._send(302, b"", "text/plain", {"Location": self.path})
        elif head == "large":
            self._large(int(query["size"]), query.get("length") == "1")
        elif head == "counted":
            self._counted(query)
        else:
            self._send(404, b"no such route", "text/plain")

    def _document(self, key: str) -> None:
        body = self.server.documents.get(key)
        if body is None:
            self._send(404, b"no such document", "text/plain")
            return
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, "application/rss+xml", {"ETag": etag})

    def _generated(self, name: str, query: dict[str, str]) -> None:
        server = self.server
        path = urlsplit(self.path).path
        with server.lock:
            server.path_in_flight[path] += 1
            server.max_path_in_flight[path] = max(
                server.max_path_in_flight[path], server.path_in_flight[path]
            )
        try:
            time.sleep(float(query.get("sleep", "0")))
        finally:
            with server.lock:
                server.path_in_flight[path] -= 1
        n = int(query.get("n", "3"))
        etag = f'"{name}-{n}-{query.get("v", "1")}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, generated_feed(name, n), "application/rss+xml", {"ETag": etag})

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _fixture(self, name: str) -> None:
        etag = f'"{name}-v1"'
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-None-Match") is None
            and self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        mime = "application/atom+xml" if name.startswith("atom") else "application/rss+xml"
        body = (FIXTURES / name).read_bytes()
        self._send(200, body, mime, {"ETag": etag, "Last-Modified": LAST_MODIFIED})

    def _status(self, status: int, query: dict[str, str]) -> None:
        headers = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
        self._send(status, f"status {status}".encode(), "text/plain", headers)

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(100):
            if self.server.stopping.wait(0.1):
                return
            self.wfile.write(b" ")
            self.wfile.flush()

    def _large(self, size: int, with_length: bool) -> None:
        chunk = b"<!-- padding padding padding padding padding padding padding -->\n" * 1024
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        if with_length:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        try:
            while sent < size and not self.server.stopping.is_set():
                part = chunk[: size - sent]
                if with_length:
                    self.wfile.write(part)
                else:
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                sent += len(part)
            if not with_length:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            with self.server.lock:
                self.server.sent[self.path] = sent
            self.close_connection = True

    def _counted(self, query: dict[str, str]) -> None:
        host = self.headers.get("Host", "").rsplit(":", 1)[0]
        server = self.server
        with server.lock:
            server.in_flight[host] += 1
            server.total_in_flight += 1
            server.max_in_flight[host] = max(server.max_in_flight[host], server.in_flight[host])
            server.max_total_in_flight = max(server.max_total_in_flight, server.total_in_flight)
        try:
            time.sleep(0.15)
        finally:
            with server.lock:
                server.in_flight[host] -= 1
                server.total_in_flight -= 1
        self._send(200, small_feed(query.get("k", "x")), "application/rss+xml")


def generated_feed(name: str, n: int, *, domain: str = "news.example.com") -> bytes:
    """An RSS 2.0 feed of `n` items about an AI system harming someone."""
    items = "".join(
        f"<item><title>{name} story {i}: AI chatbot harms user</title>"
        f"<link>https://{domain}/{name}/{i}?utm_source=rss</link>"
        f"<guid>{name}-{i}</guid>"
        f"<pubDate>Mon, 01 Jun 2026 {i % 24:02d}:00:00 GMT</pubDate>"
        f"<description>Report {i} of {name}: an AI system failed.</description></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>https://{domain}/{name}</link>{items}</channel></rss>"
    ).encode()


@contextmanager
def running_server() -> Iterator[FeedServer]:
    """A fresh server on a thread for the duration of the block."""
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def rss(items: list[tuple[str, str, str]], *, title: str = "Test feed") -> bytes:
    """An RSS 2.0 document of (title, link, description) items, published 1 June 2026."""
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>{d}</description>"
        "<pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate></item>"
        for t, link, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title>{body}</channel></rss>"
    ).encode()

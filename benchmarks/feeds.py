"""Poll 500 feeds of 50 entries from local servers: `ingest feeds` against a plain feedparser loop.

The feeds are served by HTTP servers on loopback addresses 127.0.0.1 … 127.0.0.N (one per
"site", several feeds each), in a separate process, which answer every request after
``--latency`` seconds, like a real site across the internet, with an ETag, and 304 to a
matching ``If-None-Match``. In one run, in turn:

1. **naive**: the loop a user would write, ``feedparser.parse(url)`` for each feed in turn
   (feedparser fetches and parses; nothing is stored);
2. **first poll**: ``Store.ingest_feeds()`` on a fresh SQLite store: fetch concurrently, parse,
   store every entry, record each feed's poll (entries stay unscored unless ``--judge``);
3. **second poll**: the same again with every feed made due (``all_due``) and nothing changed
   on the servers: conditional GET, so every feed answers 304.

Bytes are counted by the servers (status line, headers and body, as written to the socket).
Goals (issue 3): first poll ≥ 10× faster than the naive loop; second poll ≥ 50× faster than
the first and under 5% of its bytes.

Usage::

    python benchmarks/feeds.py [--feeds 500] [--entries 50] [--latency 0.1] [--sites 20]
                               [--concurrency 32] [--per-host 2] [--parse-workers N] [--judge]

CPU seconds are those of this process plus, for ``ingest feeds``, its parser processes
(collected when they exit); the server process is not counted there, but its own CPU seconds
during each run are shown beside them (Linux: read from /proc), as it shares the same cores.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
from _util import check_code_unchanged, code_state, machine, print_table

from incidentdb import SILENT, Store


def make_feed(name: str, entries: int) -> bytes:
    items = "".join(
        f"<item><title>{name}: report {i} on an automated system</title>"
        f"<link>https://{name}.example.com/articles/{i}?utm_source=rss</link>"
        f"<guid isPermaLink='false'>{name}-{i}</guid>"
        f"<pubDate>Mon, 01 Jun 2026 {i % 24:02d}:{i % 60:02d}:00 GMT</pubDate>"
        f"<author>desk@{name}.example.com (News desk)</author>"
        f"<description>&lt;p&gt;Paragraph {i} of {name}: a deployed model made a decision "
        "that its operators later reversed after complaints from the people affected; "
        "regulators asked for the audit logs.&lt;/p&gt;</description></item>"
        for i in range(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>https://{name}.example.com/</link>"
        f"<description>Feed {name}</description>{items}</channel></rss>"
    ).encode()


class Site(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, feeds: dict[str, bytes], latency: float, counter: Any) -> None:
        super().__init__((host, 0), Handler)
        self.feeds = {
            path: (body, f'"{hashlib.md5(body).hexdigest()}"') for path, body in feeds.items()
        }
        self.latency = latency
        self.counter = counter  # bytes written to sockets, shared with the benchmark process


class _Counting:
    def __init__(self, raw: Any, site: Site) -> None:
        self._raw = raw
        self._site = site

    def write(self, data: bytes) -> int:
        with self._site.counter.get_lock():
            self._site.counter.value += len(data)
        return int(self._raw.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Site

    def setup(self) -> None:
        super().setup()
        self.wfile = _Counting(self.wfile, self.server)  # type: ignore[assignment]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        time.sleep(self.server.latency)
        found = self.server.feeds.get(self.path)
        if found is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, etag = found
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_sites(
    n_feeds: int, n_entries: int, n_sites: int, latency: float, counter: Any, conn: Any
) -> None:
    """The server process: start the sites, send their feed URLs, serve until told to stop."""
    per_site: list[dict[str, bytes]] = [{} for _ in range(n_sites)]
    for i in range(n_feeds):
        per_site[i % n_sites][f"/feed/{i}.xml"] = make_feed(f"site{i}", n_entries)
    urls = []
    for k, feeds in enumerate(per_site):
        site = Site(f"127.0.0.{k + 1}", feeds, latency, counter)
        threading.Thread(
            target=site.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        urls.extend(f"http://127.0.0.{k + 1}:{site.server_address[1]}{path}" for path in feeds)
    conn.send(urls)
    conn.recv()  # any message: stop


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have exited (the parser processes)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def process_cpu(pid: int | None) -> float:
    """CPU seconds a live process has used so far (all its threads), or NaN where unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--sites", type=int, default=20, help="loopback hosts serving the feeds")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument(
        "--parse-workers", type=int, default=None, help="default: one per CPU (0: in process)"
    )
    parser.add_argument("--judge", action="store_true", help="also score and group the entries")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    state = code_state(root)
    print("machine:", machine())
    print(
        f"{args.feeds} feeds × {args.entries} entries on {args.sites} loopback sites, "
        f"{args.latency:g} s latency per request; concurrency {args.concurrency}, "
        f"{args.per_host} per host, parse workers "
        f"{'default' if args.parse_workers is None else args.parse_workers}"
    )
    context = multiprocessing.get_context("fork")  # before this process starts any thread
    counter = context.Value("q", 0)
    ours, theirs = context.Pipe()
    server = context.Process(
        target=serve_sites,
        args=(args.feeds, args.entries, args.sites, args.latency, counter, theirs),
        daemon=True,
    )
    server.start()
    if not ours.poll(120):
        raise SystemExit("the feed servers did not start")
    urls = ours.recv()

    def sent() -> int:
        return int(counter.value)

    before = sent()
    cpu = time.process_time()
    server_cpu = process_cpu(server.pid)
    started = time.perf_counter()
    naive_entries = sum(len(feedparser.parse(url).entries) for url in urls)
    naive = time.perf_counter() - started
    naive_cpu = time.process_time() - cpu
    naive_server = process_cpu(server.pid) - server_cpu
    naive_bytes = sent() - before

    options: dict[str, Any] = {
        "concurrency": args.concurrency,
        "per_host": args.per_host,
        "parse_workers": args.parse_workers,
        "worker_id": "bench",
    }
    if not args.judge:
        options["judge"] = None
    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{tmp}/feeds.sqlite") as store:
        store.add_feeds([(u, None, False) for u in urls])
        before = sent()
        cpu = cpu_seconds()
        server_cpu = process_cpu(server.pid)
        started = time.perf_counter()
        first = store.ingest_feeds(progress=SILENT, **options)
        first_s = time.perf_counter() - started
        first_cpu = cpu_seconds() - cpu
        first_server = process_cpu(server.pid) - server_cpu
        first_bytes = sent() - before
        load_first = os.getloadavg()[0]

        before = sent()
        cpu = cpu_seconds()
        server_cpu = process_cpu(server.pid)
        started = time.perf_counter()
        second = store.ingest_feeds(progress=SILENT, all_due=True, **options)
        second_s = time.perf_counter() - started
        second_cpu = cpu_seconds() - cpu
        second_server = process_cpu(server.pid) - server_cpu
        second_bytes = sent() - before

    assert naive_entries == args.feeds * args.entries, naive_entries
    assert first.counts["entries"]["added"] == args.feeds * args.entries, first.counts
    assert second.counts["feeds"]["not_modified"] == args.feeds, second.counts
    n = args.feeds
    rows = [
        (
            "naive feedparser.parse(url) loop",
            naive,
            naive_cpu,
            1000 * naive_cpu / n,
            naive_server,
            naive_bytes,
            naive_entries,
            1.0,
        ),
        (
            "ingest feeds, first poll (stored)",
            first_s,
            first_cpu,
            1000 * first_cpu / n,
            first_server,
            first_bytes,
            first.counts["entries"]["added"],
            naive / first_s,
        ),
        (
            "ingest feeds, second poll (304s)",
            second_s,
            second_cpu,
            1000 * second_cpu / n,
            second_server,
            second_bytes,
            second.counts["entries"]["added"],
            naive / second_s,
        ),
    ]
    print_table(
        [
            "run",
            "seconds",
            "CPU seconds",
            "CPU ms per feed",
            "server CPU-s",
            "bytes sent",
            "entries",
            "× faster than naive",
        ],
        rows,
    )
    print(f"first poll vs naive loop: {naive / first_s:.1f}× faster (goal ≥ 10×)")
    print(
        f"second poll vs first: {first_s / second_s:.1f}× faster (goal ≥ 50×), "
        f"{100 * second_bytes / first_bytes:.2f}% of its bytes (goal < 5%)"
    )
    print(f"CPU per 304 (second poll): {1000 * second_cpu / args.feeds:.2f} ms")
    print(f"load average after the first poll: {load_first:.2f}; at the end: {os.getloadavg()}")
    ours.send("stop")
    server.join(5)
    check_code_unchanged(root, state)


if __name__ == "__main__":
    main()

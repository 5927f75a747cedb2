"""Scale-out: four worker processes share one feed list on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from rss_server import FeedServer, rss
from sqlalchemy import func, select
from tests_support import PROJECT_ROOT

from incidentdb import Store
from incidentdb._models import Incident, IncidentReport, Report
from incidentdb._models_feeds import Feed, FeedEntryRow, FeedPoll

WORKERS = 4
GENERATED = 40  # feeds of 10 entries each, every link its own
SHARED = 8  # feeds that all carry the same 5 entries


def count(store: Store, model: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model.__table__)).scalar_one())  # type: ignore[attr-defined]


@pytest.mark.slow
def test_four_workers_store_every_entry_once_and_never_poll_a_feed_twice(
    postgres_url: str, feed_server: FeedServer
) -> None:
    shared_items = [
        (f"AI chatbot harms user, wire story {i}", f"https://wire.example.com/{i}", "AI harm")
        for i in range(5)
    ]
    urls = [feed_server.url(f"/gen/w{i}?n=10&sleep=0.2") for i in range(GENERATED)]
    for i in range(SHARED):
        feed_server.documents[f"s{i}"] = rss(shared_items)
        urls.append(feed_server.url(f"/doc/s{i}"))
    with Store(postgres_url) as store:
        store.add_feeds([(u, None, False) for u in urls])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "tests"), str(PROJECT_ROOT)]),
    }
    code = "import sys; from feed_judges import run_worker; run_worker(sys.argv[1], sys.argv[2], 2)"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, postgres_url, f"worker-{n}"],
            env=env,
            cwd=PROJECT_ROOT,
            stderr=subprocess.PIPE,
        )
        for n in range(WORKERS)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()

    # No feed was polled twice, nor by two workers at once.
    for url in urls[:GENERATED]:
        path = url.split(str(feed_server.port), 1)[1]
        assert feed_server.hits[path] == 1, path
    assert max(feed_server.max_path_in_flight.values()) == 1
    with Store(postgres_url) as store:
        with store.engine.connect() as conn:
            polls = conn.execute(
                select(FeedPoll.__table__.c.feed_pk, FeedPoll.__table__.c.worker_id)
            ).all()
            leases = conn.execute(select(Feed.__table__.c.lease_owner).distinct()).scalars().all()
            unique_urls = conn.execute(
                select(func.count(func.distinct(FeedEntryRow.__table__.c.canonical_url)))
            ).scalar_one()
        assert len(polls) == len(urls)
        assert len({feed for feed, _ in polls}) == len(urls)
        assert len({worker for _, worker in polls}) >= 2  # the work was shared
        assert leases == [None]  # every lease released
        # Every entry stored exactly once, and each became exactly one report.
        expected = GENERATED * 10 + len(shared_items)
        assert count(store, FeedEntryRow) == unique_urls == expected
        assert count(store, Report) == expected
        assert count(store, IncidentReport) == expected
        # Grouping is serialised: the one story was opened once, and every report joined it.
        assert count(store, Incident) == 1

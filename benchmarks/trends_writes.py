"""What migration 0008 costs a writer: role rows inserted with and without its trigger and index.

Writes ``--rows`` rows into ``incident_entities`` of a new SQLite store (``--incidents``
incidents, ``--entities`` entities, the incident's date given as the importer gives it), three
ways, each ``--repeat`` times in a fresh store, and prints the median process CPU and wall:

- ``trigger``: ``entity_name`` left out, so 0008's insert trigger copies it (any writer that
  does not know the name, e.g. the importer today);
- ``name given``: the writer sets ``entity_name``; only the new index ``ix_trend_roles`` costs;
- ``0007 layout``: name given and ``ix_trend_roles`` dropped first: the cost before 0008.

Usage::

    python benchmarks/trends_writes.py [--rows 300000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def one_run(
    variant: str, rows: int, incidents: int, entities: int, seed: int
) -> tuple[float, float]:
    from incidentdb import Store

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'w.sqlite'}")
        try:
            raw = store.engine.raw_connection()
            cur = raw.cursor()
            day0 = dt.date(2012, 1, 1)
            cur.execute("BEGIN")
            cur.executemany(
                "INSERT INTO incidents (id, incident_id, source, title, date, created_at, "
                "updated_at) VALUES (?, ?, 'aiid', 't', ?, '2026-01-01', '2026-01-01')",
                [
                    (i, i, (day0 + dt.timedelta(days=rng.randrange(5000))).isoformat())
                    for i in range(1, incidents + 1)
                ],
            )
            cur.executemany(
                "INSERT INTO entities (id, slug, name, name_known) VALUES (?, ?, ?, 1)",
                [(e, f"e{e}", f"Name {e % 215}") for e in range(1, entities + 1)],
            )
            cur.execute("COMMIT")
            dates = dict(cur.execute("SELECT id, date FROM incidents").fetchall())
            if variant == "0007 layout":
                cur.execute("DROP INDEX ix_trend_roles")
            names = {e: f"Name {e % 215}" for e in range(1, entities + 1)}
            batch: list[tuple[Any, ...]] = []
            seen: set[tuple[int, int, str]] = set()
            roles = ("deployer", "developer", "harmed")
            while len(batch) < rows:
                key = (
                    rng.randrange(1, incidents + 1),
                    rng.randrange(1, entities + 1),
                    rng.choice(roles),
                )
                if key in seen:
                    continue
                seen.add(key)
                batch.append(key)
            if variant == "trigger":
                sql = (
                    "INSERT INTO incident_entities (incident_pk, entity_pk, role, position, "
                    "incident_date) VALUES (?, ?, ?, 0, ?)"
                )
                params = [(i, e, r, dates[i]) for i, e, r in batch]
            else:
                sql = (
                    "INSERT INTO incident_entities (incident_pk, entity_pk, role, position, "
                    "incident_date, entity_name) VALUES (?, ?, ?, 0, ?, ?)"
                )
                params = [(i, e, r, dates[i], names[e]) for i, e, r in batch]
            started, started_cpu = time.perf_counter(), time.process_time()
            cur.execute("BEGIN")
            cur.executemany(sql, params)
            cur.execute("COMMIT")
            wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            missing = cur.execute(
                "SELECT count(*) FROM incident_entities WHERE entity_name IS NULL"
            ).fetchone()[0]
            assert missing == 0, missing
            raw.close()
        finally:
            store.close()
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--entities", type=int, default=33_348)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import os

    print(f"{args.rows:,} role rows into incident_entities (SQLite), median of {args.repeat}")
    for variant in ("0007 layout", "name given", "trigger"):
        runs = [
            one_run(variant, args.rows, args.incidents, args.entities, seed)
            for seed in range(args.repeat)
        ]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(
            f"{variant:12s}: CPU {cpu:6.2f} s ({cpu / args.rows * 1e6:5.2f} µs/row), "
            f"wall {wall:6.2f} s; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

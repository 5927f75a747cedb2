"""Time every trends query on the synthetic store of ``scale.py``, against pandas over a CSV export.

Steps, for each database asked for:

1. the store: an existing one (``--sqlite PATH`` / ``--pg-url URL``, e.g. one kept by
   ``scale.py --keep``) or a fresh import of the synthetic snapshot (``scale.py``'s functions);
2. synthetic failure-mode labels, since no classifier has run there: one classifier run per
   incident (0–2 modes, 0–2 techniques; 10 % "found nothing", 20 % of incidents a second, newer
   run with other tags), human decisions on 3 % of incidents, 5 % of incidents never classified;
   written once (a store that has them is reused as it is), then ``ANALYZE``;
3. every trends query (each dimension × year/quarter/month, plus filtered and ranged ones):
   one warm-up call, then median and minimum of ``--repeat`` calls of ``store.trends(...)``;
4. what a researcher would do by hand: ``export incidents --format csv`` (timed), then per query
   ``pandas.read_csv`` + the same aggregation (explode the label lists, bucket the dates,
   ``groupby().size()``), timed the same way, both with and without the read; the pandas result
   is checked equal to the SQL result, so the ratio compares two correct answers.

Goal (issue 6): every trends query under 200 ms on SQLite and PostgreSQL at 1,000,000 reports.

Usage::

    python benchmarks/trends.py [--incidents 100000] [--reports 1000000] [--db sqlite|postgres|both]
    python benchmarks/trends.py --incidents 10000 --reports 100000      # quick run
    python benchmarks/trends.py --sqlite benchmarks/out/scale-100000-1000000.sqlite --db sqlite
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import scale
from _util import code_state, machine, median_min, print_table, time_calls

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
GOAL_MS = 200
MODEL = "synthetic-fm"
T0 = dt.datetime(2026, 1, 1)

# (label, trends kwargs, pandas-comparable?)
QUERIES: list[tuple[str, dict[str, Any]]] = [
    *[
        (f"{by} per {period}", {"by": by, "period": period})
        for by in ("failure_mode", "technique", "deployer", "developer", "harmed")
        for period in ("year", "quarter", "month")
    ],
    *[
        (f"taxonomy:MIT:Risk Domain per {period}", {"by": "taxonomy:MIT:Risk Domain", "period": p})
        for period, p in (("year", "year"), ("quarter", "quarter"), ("month", "month"))
    ],
    (
        "failure_mode per quarter since 2023",
        {"by": "failure_mode", "period": "quarter", "since": dt.date(2023, 1, 1)},
    ),
    (
        "deployer per quarter, where failure_mode=agentic",
        {"by": "deployer", "period": "quarter", "where": {"failure_mode": ["agentic"]}},
    ),
    (
        "failure_mode per year, where taxonomy MIT Entity=AI",
        {"by": "failure_mode", "period": "year", "where": {"taxonomy": ["MIT:Entity=AI"]}},
    ),
]


# --------------------------------------------------------------------------------------------
# Stores


@contextlib.contextmanager
def fresh_store(db: str, args: argparse.Namespace) -> Iterator[str]:
    """Import the synthetic snapshot into a new store (kept when --keep) and yield its URL."""
    snapshot = scale.ensure_snapshot(args.incidents, args.reports, args.seed)
    tag = f"trends-{args.incidents}-{args.reports}"
    target = (
        scale.sqlite_target(tag, args.keep)
        if db == "sqlite"
        else scale.postgres_target(args.pg_base_url, args.keep)
    )
    with target as (url, _size):
        print(f"[{db}] importing {snapshot.name} in a child process ...", flush=True)
        imported = scale.run_import(url, snapshot, None)
        cpu = imported["user_seconds"] + imported["system_seconds"]
        print(
            f"[{db}] imported in {imported['wall_seconds']:,.0f} s, child CPU {cpu:,.0f} s "
            f"({args.reports / imported['wall_seconds']:,.0f} reports/s; load "
            f"{os.getloadavg()[0]:.1f}) ({url})",
            flush=True,
        )
        yield url


def add_labels(url: str, seed: int) -> dict[str, Any]:
    """Write synthetic classifier runs and human decisions, unless the store has them."""
    from sqlalchemy import func, insert, select

    from incidentdb import Store
    from incidentdb._labels import LABEL_NAMESPACE, refresh_current_labels
    from incidentdb._models import Classification, Incident, table_of
    from taxonomy import load_taxonomy

    tax = load_taxonomy()
    modes = [m.id for m in tax.modes]
    techniques = [t.id for t in tax.techniques]
    class_t = table_of(Classification)
    rng = random.Random(seed)
    with Store(url, migrate=False) as store:
        with store.engine.connect() as conn:
            have = conn.execute(
                select(func.count())
                .select_from(class_t)
                .where(class_t.c.namespace == LABEL_NAMESPACE)
            ).scalar_one()
            pks = list(conn.execute(select(table_of(Incident).c.id).order_by("id")).scalars())
        if have:
            return {"labels_written": 0, "labels_present": have, "seconds": 0.0}
        started = time.perf_counter()
        written = 0
        batch: list[dict[str, Any]] = []

        def row(pk: int, attribute: str, value: str | None, **extra: Any) -> dict[str, Any]:
            return {
                "incident_pk": pk,
                "namespace": LABEL_NAMESPACE,
                "attribute": attribute,
                "value": value,
                "value_index": 0,
                "model_name": None,
                "model_version": None,
                "confidence": None,
                "author": None,
                **extra,
            }

        with store.engine.begin() as conn:
            for pk in pks:
                if rng.random() < 0.05:
                    continue  # never classified
                for attribute, values in (("mode", modes), ("technique", techniques)):
                    runs = 2 if rng.random() < 0.2 else 1
                    for run in range(runs):
                        k = 0 if rng.random() < 0.1 else rng.choice((1, 1, 2))
                        tags = rng.sample(values, k) or [None]
                        for index, tag in enumerate(tags):
                            batch.append(
                                row(
                                    pk,
                                    attribute,
                                    tag,
                                    value_index=index,
                                    source_kind="model",
                                    model_name=MODEL,
                                    model_version=str(run + 1),
                                    confidence=round(rng.uniform(0.5, 1.0), 3),
                                    created_at=T0 + dt.timedelta(days=run),
                                )
                            )
                    if rng.random() < 0.03:
                        batch.append(
                            row(
                                pk,
                                attribute,
                                rng.choice(values),
                                source_kind="human",
                                confidence=rng.choice((0.0, 1.0)),
                                author="bench",
                                created_at=T0 + dt.timedelta(days=5),
                            )
                        )
                if len(batch) >= 20_000:
                    conn.execute(insert(class_t), batch)
                    written += len(batch)
                    batch = []
            if batch:
                conn.execute(insert(class_t), batch)
                written += len(batch)
        # Statistics first: without them PostgreSQL plans the refresh's window functions over
        # 300,000 new rows as if the table were empty (nested loops, no end in sight).
        postgres = store.dialect == "postgresql"
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE classifications" if postgres else "ANALYZE")
        with store.engine.begin() as conn:
            refresh_current_labels(conn)
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE current_labels" if postgres else "ANALYZE")
        return {"labels_written": written, "seconds": time.perf_counter() - started}


# Read by the trends: VACUUM sets their visibility maps, so that PostgreSQL's index-only
# scans need no heap fetches (autovacuum does the same some time after an import).
TREND_TABLES = (
    "incidents",
    "incident_entities",
    "entities",
    "classifications",
    "current_labels",
    "duplicates",
    "ingest_runs",
)


def vacuum(url: str) -> float:
    """VACUUM ANALYZE the tables trends read (this store's schema only); returns seconds."""
    from incidentdb import Store

    started = time.perf_counter()
    with (
        Store(url, migrate=False) as store,
        store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
    ):
        for table in TREND_TABLES:
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    seconds = time.perf_counter() - started
    print(f"[postgres] VACUUM ANALYZE of the trend tables: {seconds:.1f} s", flush=True)
    return seconds


# --------------------------------------------------------------------------------------------
# pandas, by hand


def pandas_trend(df: Any, kwargs: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The same aggregation in pandas over the CSV export; None where the export lacks it."""
    import pandas as pd

    column = {
        "failure_mode": "failure_modes",
        "technique": "techniques",
        "deployer": "deployers",
        "developer": "developers",
        "harmed": "harmed",
    }.get(kwargs["by"])
    if column is None:
        return None  # imported taxonomy values are not in the incidents export
    frame = df
    if kwargs.get("since"):
        frame = frame[frame["date"] >= kwargs["since"].isoformat()]
    for key, values in (kwargs.get("where") or {}).items():
        filter_column = {"failure_mode": "failure_modes", "deployer": "deployers"}.get(key)
        if filter_column is None:
            return None
        for value in values:
            frame = frame[frame[filter_column].str.split("; ").apply(lambda v, x=value: x in v)]
    frame = frame[frame["date"].notna()]
    period = kwargs["period"]
    if period == "year":
        bucket = frame["date"].str[:4]
    elif period == "month":
        bucket = frame["date"].str[:7]
    else:
        quarter = (frame["date"].str[5:7].astype(int) + 2) // 3
        bucket = frame["date"].str[:4] + "-Q" + quarter.astype(str)
    exploded = pd.DataFrame({"period": bucket, "group": frame[column].str.split("; ")}).explode(
        "group"
    )
    exploded = exploded[exploded["group"].notna() & (exploded["group"] != "")]
    # Two entities may share a name (synthetic slugs "x" and "x-57"): an incident counts once.
    exploded = exploded.reset_index().drop_duplicates(["index", "group"])
    counts = exploded.groupby(["period", "group"]).size().reset_index(name="incidents")
    return [
        {"period": p, "group": g, "incidents": int(n)} for p, g, n in counts.itertuples(index=False)
    ]


def read_export(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(
        path,
        usecols=["date", "deployers", "developers", "harmed", "failure_modes", "techniques"],
        dtype=str,
        keep_default_na=False,
        na_values={"date": [""]},
    ).fillna(
        dict.fromkeys(("deployers", "developers", "harmed", "failure_modes", "techniques"), "")
    )


# --------------------------------------------------------------------------------------------
# One database


def bench(db: str, url: str, repeat: int) -> dict[str, Any]:
    from incidentdb import Store

    results: dict[str, Any] = {"queries": []}
    export_path = OUT / f"trends-export-{db}.csv"
    with Store(url, migrate=False) as store:
        backends = watch_backends(store)
        started = time.perf_counter()
        with export_path.open("wb") as out:
            exported = store.export_incidents(out, "csv")
        results["export_seconds"] = time.perf_counter() - started
        results["export_rows"] = exported
        results["export_mb"] = export_path.stat().st_size / 1e6
        started = time.perf_counter()
        df = read_export(export_path)
        results["read_csv_seconds"] = time.perf_counter() - started
        print(
            f"[{db}] export: {exported:,} incidents in {results['export_seconds']:.1f} s "
            f"({results['export_mb']:.0f} MB); pandas.read_csv {results['read_csv_seconds']:.2f} s",
            flush=True,
        )
        for label, kwargs in QUERIES:
            trend = store.trends(**kwargs)
            sql_times, cpu_times, server_times = time_calls_cpu(
                lambda kw=kwargs: store.trends(**kw), repeat, backends
            )
            sql_med, sql_min = median_min(sql_times)
            entry: dict[str, Any] = {
                "query": label,
                "rows": len(trend.rows),
                "unclassified": trend.unclassified,
                "sql_median_ms": sql_med * 1000,
                "sql_min_ms": sql_min * 1000,
                # This process's CPU: all of the query on SQLite, the client's share on PostgreSQL.
                "cpu_median_ms": statistics.median(cpu_times) * 1000,
                # PostgreSQL: CPU of this store's server processes (from /proc, same machine).
                "server_cpu_median_ms": statistics.median(server_times) * 1000
                if server_times
                else None,
                "load_1min": os.getloadavg()[0],
            }
            expected = pandas_trend(df, kwargs)
            if expected is not None:
                entry["pandas_agrees"] = expected == trend.rows
                agg_times = time_calls(lambda kw=kwargs: pandas_trend(df, kw), repeat)
                agg_med, _ = median_min(agg_times)
                entry["pandas_agg_ms"] = agg_med * 1000
                entry["pandas_read_agg_ms"] = (results["read_csv_seconds"] + agg_med) * 1000
                entry["ratio_agg"] = agg_med / sql_med
                entry["ratio_read_agg"] = (results["read_csv_seconds"] + agg_med) / sql_med
            results["queries"].append(entry)
            print(
                f"[{db}] {label}: {sql_med * 1000:,.0f} ms, CPU {entry['cpu_median_ms']:,.0f} ms "
                + (
                    f"+ server {entry['server_cpu_median_ms']:,.0f} ms "
                    if entry["server_cpu_median_ms"] is not None
                    else ""
                )
                + f"(load {entry['load_1min']:.1f}) "
                f"({len(trend.rows):,} rows)"
                + (
                    f"; pandas agg {entry['pandas_agg_ms']:,.0f} ms, "
                    f"agrees: {entry['pandas_agrees']}"
                    if "pandas_agg_ms" in entry
                    else ""
                ),
                flush=True,
            )
    export_path.unlink(missing_ok=True)
    return results


def time_calls_cpu(
    call: Any, repeat: int, backends: set[int] | None = None
) -> tuple[list[float], list[float], list[float]]:
    """(wall, process CPU, server CPU) seconds of each of `repeat` calls, after one warm-up.

    Server CPU: the summed CPU of the PostgreSQL backends in `backends` (this store's pooled
    connections), read from /proc; empty for SQLite.
    """
    call()
    wall, cpu, server = [], [], []
    for _ in range(repeat):
        before = _backend_cpu(backends)
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        if backends:
            server.append(_backend_cpu(backends) - before)
    return wall, cpu, server


def _backend_cpu(pids: set[int] | None) -> float:
    total = 0
    for pid in pids or ():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def watch_backends(store: Any) -> set[int]:
    """The server process ids of `store`'s PostgreSQL connections, filled as they connect."""
    from sqlalchemy import event

    pids: set[int] = set()
    if store.dialect != "postgresql":
        return pids

    @event.listens_for(store.engine, "connect")
    def remember(dbapi_conn: Any, _record: Any) -> None:
        pids.add(dbapi_conn.info.backend_pid)

    store.engine.dispose()  # connections made before the listener reconnect through it
    return pids


def report(db: str, results: dict[str, Any]) -> None:
    print(f"\n== {db}: trends queries (1 warm-up, median/min of timed runs) ==")
    print(
        f"export incidents --format csv: {results['export_rows']:,} incidents, "
        f"{results['export_seconds']:.1f} s, {results['export_mb']:.0f} MB; "
        f"pandas.read_csv: {results['read_csv_seconds']:.2f} s"
    )
    print_table(
        [
            "query",
            "rows",
            "SQL median ms",
            "SQL min ms",
            "CPU median ms",
            "server CPU ms",
            "load",
            "pandas agg ms",
            "x (agg / SQL)",
            "x (read+agg / SQL)",
            "same result",
        ],
        [
            [
                q["query"],
                q["rows"],
                q["sql_median_ms"],
                q["sql_min_ms"],
                q["cpu_median_ms"],
                q.get("server_cpu_median_ms") if q.get("server_cpu_median_ms") is not None else "-",
                q["load_1min"],
                q.get("pandas_agg_ms", "-"),
                q.get("ratio_agg", "-"),
                q.get("ratio_read_agg", "-"),
                q.get("pandas_agrees", "-"),
            ]
            for q in results["queries"]
        ],
    )
    slowest = max(results["queries"], key=lambda q: q["sql_median_ms"])
    over = [q["query"] for q in results["queries"] if q["sql_median_ms"] >= GOAL_MS]
    print(
        f"slowest: {slowest['query']} {slowest['sql_median_ms']:,.0f} ms; goal < {GOAL_MS} ms "
        + ("met by every query" if not over else f"NOT met by {len(over)}: {', '.join(over)}")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sqlite", help="use this existing SQLite store instead of importing")
    parser.add_argument("--pg-url", help="use this existing PostgreSQL store instead of importing")
    parser.add_argument(
        "--pg-base-url",
        default=os.environ.get("INCIDENTDB_BENCH_PG_URL", scale.PG_URL),
        help="server for a fresh PostgreSQL store (a new schema, dropped afterwards)",
    )
    parser.add_argument("--keep", action="store_true", help="keep freshly imported stores")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    info = machine()
    code = code_state(HERE.parent)
    print(
        f"trends benchmark: {args.incidents:,} incidents, {args.reports:,} reports "
        f"(seed {args.seed}); {info['cpu']}, {info['nproc']} cores; SQLite {info['sqlite']}; "
        f"commit {code['commit']}"
    )
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    all_results: dict[str, Any] = {"machine": info, "args": vars(args), "databases": {}}
    for db in dbs:
        given = args.sqlite if db == "sqlite" else args.pg_url
        if given and db == "sqlite" and "://" not in given:
            given = f"sqlite:///{Path(given).resolve()}"
        store_cm = contextlib.nullcontext(given) if given else fresh_store(db, args)
        with store_cm as url:
            labels = add_labels(url, args.seed)
            print(f"[{db}] labels: {labels}", flush=True)
            vacuumed = vacuum(url) if db == "postgres" else None
            results = bench(db, url, args.repeat)
            results["labels"] = labels
            results["vacuum_seconds"] = vacuumed
        all_results["databases"][db] = results
        report(db, results)
    path = OUT / f"trends-{args.incidents}-{args.reports}-{int(time.time())}.json"
    path.write_text(json.dumps(all_results, indent=2, default=str))
    print(f"\nfigures saved to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

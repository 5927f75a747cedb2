"""Import a large synthetic AIID snapshot and time queries on the result, on SQLite and PostgreSQL.

Steps, for each database asked for:

1. generate the snapshot with ``synth.write_snapshot`` (or reuse the copy cached under
   ``benchmarks/out/``, which is git-ignored);
2. import it into a fresh store (a new SQLite file; a new PostgreSQL schema, dropped afterwards)
   in a child process, timing the child's wall clock and reading its CPU time from
   ``os.wait4``; the child reports its own peak resident memory (``VmHWM``), that of the
   process that parses a big reports file (the goal counts the sum of the two), the CPU time
   of the PostgreSQL server processes that served it, the ingest's own seconds and the
   seconds spent in each stage;
3. time ``store.search(q, limit=20)`` for a common word, a phrase and rare words, plus
   ``store.stats()`` and ``store.list_incidents(limit=20)``: one warm-up call, then the median
   and minimum of ``--repeat`` calls.

Goals (issue 2): at least 20,000 reports/s into SQLite, peak memory under 500 MB, search and
stats under 200 ms. For PostgreSQL the peak memory is that of our client process only; the
server's is not counted.

Usage::

    python benchmarks/scale.py [--incidents 100000] [--reports 1000000] [--db sqlite|postgres|both]
    python benchmarks/scale.py --incidents 10000 --reports 100000 --db sqlite   # quick check
    python benchmarks/scale.py --profile out.pstats ...  # run the import child under cProfile
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import synth
from _util import check_code_unchanged, code_state, machine, median_min, print_table, time_calls

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GOAL_RATE = 20_000
GOAL_RSS_MB = 500
GOAL_MS = 200


# --------------------------------------------------------------------------------------------
# The snapshot


def ensure_snapshot(incidents: int, reports: int, seed: int) -> Path:
    """The cached snapshot folder for these parameters, written first if missing."""
    name = f"snapshot-{incidents}-{reports}-seed{seed}"
    folder = OUT / name
    marker = OUT / f"{name}.json"  # written last, so a half-written folder is never reused
    if folder.is_dir() and marker.exists():
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"snapshot: reusing {folder} ({size / 1e6:,.0f} MB)")
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    print(f"snapshot: writing {folder} ...", flush=True)
    started = time.perf_counter()
    counts = synth.write_snapshot(folder, incidents, reports, seed)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    marker.write_text(json.dumps({"counts": counts, "seconds": seconds, "bytes": size}))
    print(f"snapshot: written in {seconds:,.0f} s ({size / 1e6:,.0f} MB): {counts}")
    return folder


# --------------------------------------------------------------------------------------------
# Databases


@contextlib.contextmanager
def sqlite_target(tag: str, keep: bool) -> Iterator[tuple[str, Any]]:
    path = OUT / f"scale-{tag}.sqlite"
    _remove_sqlite(path)

    def size() -> int:
        return sum(
            p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
        )

    try:
        yield f"sqlite:///{path}", size
    finally:
        if not keep:
            _remove_sqlite(path)


def _remove_sqlite(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


@contextlib.contextmanager
def postgres_target(base_url: str, keep: bool) -> Iterator[tuple[str, Any]]:
    import psycopg

    dsn = base_url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def size() -> int:
        with psycopg.connect(dsn) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                (schema,),
            ).fetchone()
        return int(row[0]) if row else 0

    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}", size
    finally:
        if not keep:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# --------------------------------------------------------------------------------------------
# The import, in a child process


class _StageClock:
    """A Progress that records when each stage starts, to split the ingest time by stage."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []
        self.units: dict[str, int] = {}
        self.memory: dict[str, dict[str, int | None]] = {}

    def stage(self, name: str, total: int | None = None) -> None:
        self.marks.append((name, time.perf_counter()))
        self.units.setdefault(name, 0)
        self.memory[f"{name} start"] = _memory_kb()

    def advance(self, units: int = 1) -> None:
        if self.marks:
            self.units[self.marks[-1][0]] += units

    def done(self) -> None:
        self.marks.append(("<end>", time.perf_counter()))
        self.memory["end"] = _memory_kb()

    def seconds(self) -> dict[str, float]:
        spans: dict[str, float] = {}
        for (name, start), (_, end) in zip(self.marks, self.marks[1:], strict=False):
            spans[name] = spans.get(name, 0.0) + end - start
        return spans


def child_import(url: str, snapshot: str, profile: str | None) -> int:
    """Run in the child: create the store, ingest, print a JSON summary on stdout."""
    importing = time.perf_counter()
    import resource

    from sqlalchemy import Engine, event

    from incidentdb import Store

    backends: list[int] = []

    def remember_backend(dbapi_conn: Any, _record: Any) -> None:
        pid = getattr(getattr(dbapi_conn, "info", None), "backend_pid", None)
        if isinstance(pid, int):
            backends.append(pid)

    # PostgreSQL does most of the work of a PostgreSQL import: the server processes serving
    # this child's connections are read from /proc (same machine) before they close.
    event.listen(Engine, "connect", remember_backend)
    started = time.perf_counter()
    store = Store(url)
    schema_seconds = time.perf_counter() - started
    clock = _StageClock()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(store.ingest, "aiid.v1", snapshot, progress=clock)
        profiler.dump_stats(profile)
    else:
        result = store.ingest("aiid.v1", snapshot, progress=clock)
    server_cpu = _server_cpu_seconds(backends)
    # The process that parses a big reports file (ingest/_prefetch.py) ended and was reaped.
    parser = resource.getrusage(resource.RUSAGE_CHILDREN)
    closing = time.perf_counter()
    store.close()
    finished = time.perf_counter()
    json.dump(
        {
            "outcome": result.outcome,
            "counts": result.counts,
            "ingest_seconds": result.seconds,
            "schema_seconds": schema_seconds,
            "import_library_seconds": started - importing,
            "close_seconds": finished - closing,
            "child_total_seconds": finished - importing,
            "stages": clock.seconds(),
            "vm_hwm_kb": _memory_kb()["VmHWM"],
            "parser_max_rss_kb": parser.ru_maxrss,
            "parser_cpu_seconds": parser.ru_utime + parser.ru_stime,
            "server_cpu_seconds": server_cpu,
            "memory_at_stages_kb": clock.memory,
        },
        sys.stdout,
    )
    return 0


def _server_cpu_seconds(pids: list[int]) -> float | None:
    """CPU seconds (user + system) of these server processes so far; None if unreadable."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in set(pids):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total if pids else None


def _memory_kb() -> dict[str, int | None]:
    """Current (VmRSS) and peak (VmHWM) resident memory of this process, in kB."""
    found: dict[str, int | None] = {"VmRSS": None, "VmHWM": None}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                key = line.split(":", 1)[0]
                if key in found:
                    found[key] = int(line.split()[1])
    except OSError:
        pass
    return found


def run_import(url: str, snapshot: Path, profile: str | None) -> dict[str, Any]:
    """Import in a child process; its wall time and peak RSS come from this side."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child-import", url, str(snapshot)]
    if profile:
        command += ["--profile", profile]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    # wait4 gives this child's own rusage, not the maximum over every child so far.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"import child failed with exit code {proc.returncode}")
    summary = json.loads(output)
    summary["wall_seconds"] = wall
    summary["max_rss_kb"] = usage.ru_maxrss  # kilobytes on Linux
    summary["user_seconds"] = usage.ru_utime
    summary["system_seconds"] = usage.ru_stime
    return summary


# --------------------------------------------------------------------------------------------
# Queries


QUERIES = (
    ("common word", synth.COMMON_WORD),
    ("two-word phrase", synth.PHRASE),
    ("rare word (1 in 5,000)", synth.RARE_WORD),
    ("rarest word (1 in 100,000)", "xylograph"),
    ("no match", "nonexistentterm"),
)


def run_queries(url: str, repeat: int) -> list[dict[str, Any]]:
    from incidentdb import Store  # already imported by main(), so the code of the run's start

    rows = []
    with Store(url, migrate=False) as store:
        calls: list[tuple[str, str, Any]] = [
            (f"search {label}", f"search({text!r}, limit=20)", _search(store, text))
            for label, text in QUERIES
        ]
        calls.append(("stats", "stats()", store.stats))
        calls.append(("list incidents", "list_incidents(limit=20)", _listing(store)))
        for label, call_text, call in calls:
            returned = call()
            seconds = time_calls(call, repeat, warmup=0)
            med, low = median_min(seconds)
            rows.append(
                {
                    "query": label,
                    "call": call_text,
                    "rows": len(returned) if isinstance(returned, list) else None,
                    "median_ms": med * 1000,
                    "min_ms": low * 1000,
                    "runs_ms": [round(s * 1000, 1) for s in seconds],
                }
            )
    return rows


def _search(store: Any, text: str) -> Any:
    return lambda: store.search(text, limit=20)


def _listing(store: Any) -> Any:
    return lambda: store.list_incidents(limit=20)


# --------------------------------------------------------------------------------------------
# Main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query (warm)")
    parser.add_argument("--pg-url", default=os.environ.get("INCIDENTDB_BENCH_PG_URL", PG_URL))
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--profile", help="write the import child's cProfile stats here")
    parser.add_argument(
        "--child-import", nargs=2, metavar=("URL", "SNAPSHOT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child_import:
        url, snapshot_folder = args.child_import
        return child_import(url, snapshot_folder, args.profile)

    OUT.mkdir(parents=True, exist_ok=True)
    # Import the library now: the queries then run on the code as it is at the start.
    import incidentdb  # noqa: F401

    code = code_state(ROOT)
    info = machine()
    print(
        f"scale benchmark: {args.incidents:,} incidents, "
        f"{args.reports:,} reports (seed {args.seed})"
    )
    print(
        f"machine: {info['cpu']}, {info['nproc']} cores; Python {info['python']}; "
        f"SQLite {info['sqlite']}"
    )
    print(f"code: commit {code['commit']}, changed files {code['dirty'] or 'none'}")
    snapshot = ensure_snapshot(args.incidents, args.reports, args.seed)
    tag = f"{args.incidents}-{args.reports}"
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    results: dict[str, Any] = {
        "machine": info,
        "incidents": args.incidents,
        "reports": args.reports,
        "seed": args.seed,
        "code": code,
        "databases": {},
    }
    for db in dbs:
        target = (
            sqlite_target(tag, args.keep)
            if db == "sqlite"
            else postgres_target(args.pg_url, args.keep)
        )
        with target as (url, size):
            if db == "postgres":
                results["postgres_version"] = _pg_version(args.pg_url)
            print(f"\n[{db}] importing in a child process ...", flush=True)
            imported = run_import(url, snapshot, args.profile)
            check_code_unchanged(ROOT, code)
            imported["db_bytes"] = size()
            imported["url"] = url
            print(f"[{db}] import done in {imported['wall_seconds']:,.1f} s; timing queries ...")
            queries = run_queries(url, args.repeat)
        results["databases"][db] = {"import": imported, "queries": queries}
        report(db, imported, queries, args.reports)

    summary(results, args.reports)
    results["code_at_end"] = check_code_unchanged(ROOT, code)
    path = OUT / f"scale-{tag}-{int(time.time())}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nfigures saved to {path}")
    return 0


def _pg_version(base_url: str) -> str:
    import psycopg

    with psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def report(db: str, imported: dict[str, Any], queries: list[dict[str, Any]], reports: int) -> None:
    wall = imported["wall_seconds"]
    print(f"\n== {db}: import ==")
    print_table(
        ["measure", "value"],
        [
            ["outcome", imported["outcome"]],
            ["child wall time (s), start-up + schema + ingest", wall],
            ["  of which importing incidentdb (s)", imported["import_library_seconds"]],
            ["  of which Store() creating the schema (s)", imported["schema_seconds"]],
            ["  of which store.ingest (s)", imported["ingest_seconds"]],
            ["  of which store.close() (s)", imported["close_seconds"]],
            ["reports/s (reports / child wall time)", round(reports / wall)],
            ["reports/s (reports / ingest time)", round(reports / imported["ingest_seconds"])],
            [
                "peak RSS, the larger of child and parsing process (MB, ru_maxrss)",
                round(imported["max_rss_kb"] / 1024, 1),
            ],
            [
                "  peak RSS of the child's own process (MB, VmHWM)",
                round(imported["vm_hwm_kb"] / 1024, 1),
            ],
            [
                "  peak RSS of its parsing process (MB; 0 when parsed in a thread)",
                round(imported.get("parser_max_rss_kb", 0) / 1024, 1),
            ],
            [
                "child CPU user + system (s), parsing process included",
                imported["user_seconds"] + imported["system_seconds"],
            ],
            ["  of which the parsing process (s)", imported.get("parser_cpu_seconds", 0.0)],
            [
                "PostgreSQL server CPU for the child's connections (s)",
                imported.get("server_cpu_seconds") or "-",
            ],
            ["database size after import (MB)", round(imported["db_bytes"] / 1e6, 1)],
        ],
    )
    print("\nstages of the ingest (the last one also holds the final COMMIT):")
    print_table(
        ["stage", "seconds", "share"],
        [
            [name, secs, f"{secs / imported['ingest_seconds']:.1%}"]
            for name, secs in imported["stages"].items()
        ],
    )
    memory = imported.get("memory_at_stages_kb")
    if memory:
        print("\nresident memory of the child when each stage starts (MB):")
        print_table(
            ["point", "RSS", "peak so far"],
            [
                [point, round((m["VmRSS"] or 0) / 1024, 1), round((m["VmHWM"] or 0) / 1024, 1)]
                for point, m in memory.items()
            ],
        )
    print("\ncounts:")
    print_table(
        ["kind", "counts"],
        [[k, ", ".join(f"{a} {n:,}" for a, n in v.items())] for k, v in imported["counts"].items()],
    )
    print(f"\n== {db}: queries (1 warm-up, then median/min of timed runs) ==")
    print_table(
        ["query", "call", "rows", "median ms", "min ms"],
        [[q["query"], q["call"], q["rows"], q["median_ms"], q["min_ms"]] for q in queries],
    )


def _import_peak_kb(imported: dict[str, Any]) -> int:
    """An upper bound of the memory of child and parsing process together.

    The parsing process lives during the reports stage only, so its peak is added to the
    child's peak up to the end of that stage (its high-water mark when the next stage starts),
    and the child's overall peak may come later, alone.
    """
    child = int(imported["vm_hwm_kb"])
    parser = int(imported.get("parser_max_rss_kb", 0))
    if not parser:
        return child
    points = list(imported.get("memory_at_stages_kb", {}).items())
    after_reports = [
        values.get("VmHWM")
        for (name, _), (_, values) in itertools.pairwise(points)
        if name == "reports start"
    ]
    during = after_reports[0] if after_reports and after_reports[0] else child
    return max(child, int(during) + parser)


def summary(results: dict[str, Any], reports: int) -> None:
    print("\n== goals ==")
    rows = []
    for db, figures in results["databases"].items():
        imported = figures["import"]
        rate = reports / imported["wall_seconds"]
        rss = _import_peak_kb(imported) / 1024
        slowest = max(figures["queries"], key=lambda q: q["median_ms"])
        rows.append(
            [
                db,
                f"{rate:,.0f} reports/s",
                "met" if rate >= GOAL_RATE else "NOT met",
                f"{rss:,.0f} MB",
                "met" if rss < GOAL_RSS_MB else "NOT met",
                f"{slowest['median_ms']:,.0f} ms ({slowest['query']})",
                "met" if slowest["median_ms"] < GOAL_MS else "NOT met",
            ]
        )
    print_table(
        [
            "db",
            f"import (goal >= {GOAL_RATE:,}/s)",
            "",
            f"peak RSS (goal < {GOAL_RSS_MB} MB)",
            "",
            f"slowest query median (goal < {GOAL_MS} ms)",
            "",
        ],
        rows,
    )


if __name__ == "__main__":
    raise SystemExit(main())

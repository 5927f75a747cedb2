"""Full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL, behind one query builder.

Neither FTS5 virtual tables nor generated tsvector columns are portable, so they are raw DDL in
migration 0001 rather than models; this module names them (for `alembic check`) and queries them.
"""

from __future__ import annotations

import contextlib
import queue
import re
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "ReportIndexBuilder",
    "index_new_reports",
    "is_search_object",
    "last_report_pk",
    "restore_report_index",
    "search_rows",
    "suspend_report_index",
]

_SQLITE_FTS_TABLES = ("incidents_fts", "reports_fts")
_PG_COLUMN = "search_vector"


def is_search_object(name: str | None, type_: str) -> bool:
    """True for the full-text tables, columns and indexes that migration 0001 creates."""
    if name is None:
        return False
    if type_ == "table":
        return name.startswith(_SQLITE_FTS_TABLES)
    if type_ == "column":
        return name == _PG_COLUMN
    if type_ == "index":
        return name in ("ix_incidents_search", _PG_REPORTS_INDEX)
    return False


def last_report_pk(conn: Connection) -> int:
    """The highest report primary key so far; pass it to :func:`index_new_reports` later."""
    return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM reports")).scalar_one())


def index_new_reports(conn: Connection, after_pk: int) -> None:
    """Add reports with a primary key above `after_pk` to the SQLite full-text index.

    SQLite has no insert trigger on reports (see migration 0001): every code path that inserts
    reports calls this in the same transaction. PostgreSQL's generated column needs nothing.
    """
    if conn.dialect.name != "sqlite":
        return
    conn.execute(
        text(
            "INSERT INTO reports_fts(rowid, title, plain_text) "
            "SELECT id, title, plain_text FROM reports WHERE id > :after ORDER BY id"
        ),
        {"after": after_pk},
    )


class ReportIndexBuilder:
    """Builds the SQLite full-text index of a first import of reports beside the store.

    FTS5 tokenising is most of the CPU time of writing a report (about 40 µs each), and the
    store's connection can only do one thing at a time. Into an empty index, a thread fills the
    same FTS5 table in a private temporary SQLite file instead, while the writer goes on storing
    rows (and incidents); :meth:`finish` then copies its shadow tables (`reports_fts_data`,
    `_idx`, `_docsize`) into the store, inside the caller's transaction, so a failed import
    still leaves the store as it was. The rows' primary keys must be the ones the caller
    stores them under.

    Only for an empty `reports_fts` on SQLite: :meth:`start` returns None otherwise, or when
    the scratch file cannot be made. Always :meth:`close` it (it stops the thread and deletes
    the file), after :meth:`finish` or not.
    """

    # Batches waiting for the thread; bounds memory when tokenising falls behind.
    DEPTH = 4
    # A scratch file: no journal, no syncing. A modest page cache: the thread lives on through
    # the incidents stage, and a 64 MB one measured no faster (100,000 reports: 3.7-6.0 CPU-s
    # against 3.8-5.8 with 8 MB, noise either way).
    PRAGMAS = "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -8192;"

    def __init__(self, ddl: str, config: list[tuple[Any, Any]]) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="incidentdb-fts-"))
        try:
            self._db = sqlite3.connect(
                self._folder / "reports_fts.sqlite", isolation_level=None, check_same_thread=False
            )
        except BaseException:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        try:
            self._db.executescript(self.PRAGMAS)
            # The store's own definition and settings, so the copied segments fit its table.
            self._db.execute(ddl)
            self._db.execute("DELETE FROM reports_fts_config")
            self._db.executemany("INSERT INTO reports_fts_config (k, v) VALUES (?, ?)", config)
            self._db.execute("BEGIN")
        except BaseException:
            self._db.close()
            shutil.rmtree(self._folder, ignore_errors=True)
            raise
        self._queue: queue.Queue[list[tuple[int, Any, Any]] | None] = queue.Queue(self.DEPTH)
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="incidentdb-fts", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, conn: Connection) -> ReportIndexBuilder | None:
        """A builder for the reports about to go into `conn`'s empty SQLite store, or None."""
        if conn.dialect.name != "sqlite":
            return None
        if conn.exec_driver_sql("SELECT 1 FROM reports_fts_docsize LIMIT 1").first() is not None:
            return None
        ddl = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'reports_fts'"
        ).scalar_one()
        config = [tuple(row) for row in conn.exec_driver_sql("SELECT k, v FROM reports_fts_config")]
        try:
            return cls(ddl, config)
        except (OSError, sqlite3.Error):  # no room or no rights for the scratch file
            return None

    def add(self, rows: list[tuple[int, Any, Any]]) -> None:
        """Index these (primary key, title, plain text) rows; they are tokenised meanwhile.

        A failure to build shows only in what :meth:`finish` returns."""
        self._queue.put(rows)

    def _run(self) -> None:
        # SQLite releases the interpreter lock while it tokenises a row, so this overlaps with
        # the writer's work. (Handing a batch over as one JSON text, one statement per batch,
        # cost 13-26 % more CPU here for the JSON, and overlapped no better.)
        sql = "INSERT INTO reports_fts (rowid, title, plain_text) VALUES (?, ?, ?)"
        while (rows := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain what the writer still sends until finish() asks
            try:
                self._db.executemany(sql, rows)
            except BaseException as exc:  # e.g. the scratch file's disk is full; see finish()
                self._error = exc

    @property
    def error(self) -> BaseException | None:
        """Why building failed, if it did."""
        return self._error

    def finish(self, conn: Connection) -> bool:
        """Wait for the index and copy it into `conn`'s (still empty) `reports_fts`.

        Returns False, leaving `reports_fts` empty, when the scratch index could not be built
        (its disk filled up, say): the caller then indexes the reports in the store itself.
        """
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and not isinstance(self._error, sqlite3.Error):
            raise self._error
        if self._error is None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._error = exc
        # 'delete-all' resets the table and, unlike writing its shadow tables directly, makes
        # this connection's FTS5 forget the structure it may have cached: without it, the
        # next insert into reports_fts (stub reports, say) would write over the copy.
        conn.exec_driver_sql("INSERT INTO reports_fts (reports_fts) VALUES ('delete-all')")
        if self._error is not None:
            return False
        for table, columns in (
            ("reports_fts_data", "id, block"),
            ("reports_fts_idx", "segid, term, pgno"),
            ("reports_fts_docsize", "id, sz"),
        ):
            conn.exec_driver_sql(f"DELETE FROM {table}")
            marks = ", ".join("?" * len(columns.split(", ")))
            insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
            rows = self._db.execute(f"SELECT {columns} FROM {table}")
            while chunk := rows.fetchmany(1000):
                conn.exec_driver_sql(insert, chunk)
        return True

    def close(self) -> None:
        """Stop the thread if it still runs and delete the temporary file."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._error = self._error or RuntimeError("closed before finish()")
            self._db.interrupt()
            while True:  # make room for the stop marker whatever the writer left queued
                try:
                    self._queue.put_nowait(None)
                    break
                except queue.Full:
                    with contextlib.suppress(queue.Empty):
                        self._queue.get_nowait()
            self._thread.join()
        self._db.close()
        shutil.rmtree(self._folder, ignore_errors=True)


# Migration 0001 creates it; restore_report_index must create it exactly the same way.
_PG_REPORTS_INDEX = "ix_reports_search"
_PG_REPORTS_INDEX_DDL = f"CREATE INDEX {_PG_REPORTS_INDEX} ON reports USING gin ({_PG_COLUMN})"


def suspend_report_index(conn: Connection) -> bool:
    """Drop PostgreSQL's full-text index of reports until :func:`restore_report_index`.

    Building a GIN index once over a million rows is much cheaper than maintaining it row by
    row. Only for a bulk load into an empty table, inside the load's transaction: a failure
    rolls the drop back too, and meanwhile other sessions wait for the table. Returns whether
    the index was dropped (never on SQLite, whose index is built batch by batch).
    """
    if conn.dialect.name != "postgresql":
        return False
    conn.execute(text(f"DROP INDEX IF EXISTS {_PG_REPORTS_INDEX}"))
    return True


def restore_report_index(conn: Connection) -> None:
    """Build the index :func:`suspend_report_index` dropped, in the same transaction."""
    # GIN builds in memory up to this much, then merges runs; the default 64 MB means many.
    conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    conn.execute(text(_PG_REPORTS_INDEX_DDL))


_WORD = re.compile(r"\w+", re.UNICODE)


def _sqlite_match(query: str, *, any_word: bool) -> str:
    # Quote every word so user input can never be read as FTS5 syntax (AND, NEAR, column:…).
    words = _WORD.findall(query)
    return (" OR " if any_word else " ").join(f'"{w}"' for w in words)


def _postgres_query(query: str, *, any_word: bool) -> str:
    # Words only, joined with & or |, so to_tsquery never sees user syntax.
    words = _WORD.findall(query)
    return (" | " if any_word else " & ").join(f"'{w}'" for w in words)


# With a result limit, only this many best texts of each kind are ranked further: ranking every
# text that contains a common word would cost seconds on a million reports.
CANDIDATES_PER_RESULT = 25
MIN_CANDIDATES = 500
# With a result limit, a word found in more texts than this is ranked among its most recently
# stored matches only (SQLite's FTS5 walks a term's matches newest first and stops there;
# PostgreSQL walks the primary key backwards). Ranking every match of a common word would
# cost seconds on a million reports.
SCAN_PER_QUERY = 10_000


def search_rows(conn: Connection, query: str, limit: int | None) -> list[dict[str, Any]]:
    """Incidents ranked by how well they, or their reports, match `query`.

    Texts holding every word of the query are found first; only when none does, texts holding
    any of them are ranked instead (more matching words rank higher).

    Each row: incident primary key, the best score (higher is better), the number of the
    best-matching report (None when the incident's own title or description matched best), and
    how many of the ranked texts matched. With a `limit`, the best max(500, 25 × limit)
    incident texts and report texts are the candidates, and a very common word is ranked among
    its newest 10,000 matches of each kind (see SCAN_PER_QUERY): exact for selective queries,
    fast for all.
    """
    if not _WORD.search(query):
        return []
    rows = _search(conn, query, limit, any_word=False)
    if not rows and len(_WORD.findall(query)) > 1:
        rows = _search(conn, query, limit, any_word=True)
    return rows


def _search(
    conn: Connection, query: str, limit: int | None, *, any_word: bool
) -> list[dict[str, Any]]:
    candidates = -1 if limit is None else max(MIN_CANDIDATES, CANDIDATES_PER_RESULT * limit)
    params: dict[str, Any] = {
        "k": candidates,
        "scan": -1 if limit is None else max(SCAN_PER_QUERY, candidates),
        "limit": -1 if limit is None else limit,
    }
    if conn.dialect.name == "sqlite":
        params["q"] = _sqlite_match(query, any_word=any_word)
        sql = """
        WITH incident_hits AS (
            SELECT incident_pk, s FROM (
                SELECT rowid AS incident_pk, bm25(incidents_fts, 10.0, 5.0) AS s
                FROM incidents_fts WHERE incidents_fts MATCH :q ORDER BY rowid DESC LIMIT :scan
            ) ORDER BY s LIMIT :k
        ), report_hits AS (
            SELECT report_pk, s FROM (
                SELECT rowid AS report_pk, bm25(reports_fts, 10.0, 1.0) AS s
                FROM reports_fts WHERE reports_fts MATCH :q ORDER BY rowid DESC LIMIT :scan
            ) ORDER BY s LIMIT :k
        ), hits AS (
            SELECT incident_pk, -s AS score, NULL AS report_pk FROM incident_hits
            UNION ALL
            SELECT ir.incident_pk, -h.s * 0.5 AS score, h.report_pk
            FROM report_hits h JOIN incident_reports ir ON ir.report_pk = h.report_pk
        ), ranked AS (
            SELECT incident_pk, score, report_pk,
                   ROW_NUMBER() OVER (PARTITION BY incident_pk ORDER BY score DESC) AS rn,
                   COUNT(*) OVER (PARTITION BY incident_pk) AS matches
            FROM hits
        )
        SELECT ranked.incident_pk, ranked.score, r.report_number, ranked.matches
        FROM ranked LEFT JOIN reports r ON r.id = ranked.report_pk
        WHERE ranked.rn = 1
        ORDER BY ranked.score DESC, ranked.incident_pk LIMIT :limit"""
    else:
        params["q"] = _postgres_query(query, any_word=any_word)
        if limit is None:
            params["k"] = params["scan"] = params["limit"] = None
        # to_tsquery(:q) stays inline (not in a CTE) so the planner sees the words and, for a
        # common one, walks the primary key backwards instead of sorting every match.
        sql = """
        WITH incident_hits AS (
            SELECT c.incident_pk, ts_rank(c.v, to_tsquery('english', :q)) AS s FROM (
                SELECT i.id AS incident_pk, i.search_vector AS v FROM incidents i
                WHERE i.search_vector @@ to_tsquery('english', :q)
                ORDER BY i.id DESC LIMIT :scan
            ) c ORDER BY s DESC LIMIT :k
        ), report_hits AS (
            SELECT c.report_pk, ts_rank(c.v, to_tsquery('english', :q)) AS s FROM (
                SELECT r.id AS report_pk, r.search_vector AS v FROM reports r
                WHERE r.search_vector @@ to_tsquery('english', :q)
                ORDER BY r.id DESC LIMIT :scan
            ) c ORDER BY s DESC LIMIT :k
        ), hits AS (
            SELECT incident_pk, s * 2 AS score, NULL::integer AS report_pk FROM incident_hits
            UNION ALL
            SELECT ir.incident_pk, h.s AS score, h.report_pk
            FROM report_hits h JOIN incident_reports ir ON ir.report_pk = h.report_pk
        ), ranked AS (
            SELECT incident_pk, score, report_pk,
                   ROW_NUMBER() OVER (PARTITION BY incident_pk ORDER BY score DESC) AS rn,
                   COUNT(*) OVER (PARTITION BY incident_pk) AS matches
            FROM hits
        )
        SELECT ranked.incident_pk, ranked.score, r.report_number, ranked.matches
        FROM ranked LEFT JOIN reports r ON r.id = ranked.report_pk
        WHERE ranked.rn = 1
        ORDER BY ranked.score DESC, ranked.incident_pk LIMIT :limit"""
    return [dict(row._mapping) for row in conn.execute(text(sql), params)]

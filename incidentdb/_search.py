"""Full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL, behind one query builder.

Neither FTS5 virtual tables nor generated tsvector columns are portable, so they are raw DDL in
migration 0001 rather than models; this module names them (for `alembic check`) and queries them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, text

__all__ = ["index_new_reports", "is_search_object", "last_report_pk", "search_rows"]

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
        return name in ("ix_incidents_search", "ix_reports_search")
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


_WORD = re.compile(r"\w+", re.UNICODE)


def _sqlite_match(query: str) -> str:
    # Quote every word so user input can never be read as FTS5 syntax (AND, NEAR, column:…).
    words = _WORD.findall(query)
    return " ".join(f'"{w}"' for w in words)


def search_rows(conn: Connection, query: str, limit: int | None) -> list[dict[str, Any]]:
    """Incidents ranked by how well they, or their reports, match `query`.

    Each row: incident primary key, the best score (higher is better), and the number of the
    best-matching report (None when the incident's own title or description matched best).
    """
    if not _WORD.search(query):
        return []
    lim = "" if limit is None else "LIMIT :limit"
    if conn.dialect.name == "sqlite":
        sql = f"""
        WITH hits AS (
            SELECT f.rowid AS incident_pk, -bm25(incidents_fts, 10.0, 5.0) AS score,
                   NULL AS report_number
            FROM incidents_fts f WHERE incidents_fts MATCH :q
            UNION ALL
            SELECT ir.incident_pk, -bm25(reports_fts, 10.0, 1.0) * 0.5 AS score, r.report_number
            FROM reports_fts f
            JOIN reports r ON r.id = f.rowid
            JOIN incident_reports ir ON ir.report_pk = r.id
            WHERE reports_fts MATCH :q
        ), ranked AS (
            SELECT incident_pk, score, report_number,
                   ROW_NUMBER() OVER (PARTITION BY incident_pk ORDER BY score DESC) AS rn,
                   COUNT(*) OVER (PARTITION BY incident_pk) AS matches
            FROM hits
        )
        SELECT incident_pk, score, report_number, matches FROM ranked WHERE rn = 1
        ORDER BY score DESC, incident_pk {lim}"""
        params: dict[str, Any] = {"q": _sqlite_match(query)}
    else:
        sql = f"""
        WITH q AS (SELECT websearch_to_tsquery('english', :q) AS query),
        hits AS (
            SELECT i.id AS incident_pk, ts_rank(i.search_vector, q.query) * 2 AS score,
                   NULL::integer AS report_number
            FROM incidents i, q WHERE i.search_vector @@ q.query
            UNION ALL
            SELECT ir.incident_pk, ts_rank(r.search_vector, q.query) AS score, r.report_number
            FROM reports r JOIN incident_reports ir ON ir.report_pk = r.id, q
            WHERE r.search_vector @@ q.query
        ), ranked AS (
            SELECT incident_pk, score, report_number,
                   ROW_NUMBER() OVER (PARTITION BY incident_pk ORDER BY score DESC) AS rn,
                   COUNT(*) OVER (PARTITION BY incident_pk) AS matches
            FROM hits
        )
        SELECT incident_pk, score, report_number, matches FROM ranked WHERE rn = 1
        ORDER BY score DESC, incident_pk {lim}"""
        params = {"q": query}
    if limit is not None:
        params["limit"] = limit
    return [dict(row._mapping) for row in conn.execute(text(sql), params)]

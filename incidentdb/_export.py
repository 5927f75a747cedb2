"""Export incidents with their labels and entities as CSV, JSON lines or Parquet, for notebooks.

Memory stays bounded whatever the store's size: the incidents, their entities and their labels
are read as four streams, each ordered by incident, and merged as they go (one pass over each,
no per-batch re-query of the label window functions); rows are written in batches.

One row per incident (merged duplicates are folded into their incident; private ``company``
incidents only when asked), with these columns, in this order:

``incident_id, source, date, title, description, reports, deployers, developers, harmed,
failure_modes, techniques, classified``

``failure_modes`` and ``techniques`` are the effective labels (:mod:`incidentdb._labels`);
``classified`` tells an incident a classifier or a person looked at (even if it found nothing)
from one never classified. Lists are JSON arrays in JSON lines, ``list<string>`` in Parquet and
``; ``-joined in CSV (RFC 4180: CRLF line ends, quoted fields).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from incidentdb._errors import QueryError
from incidentdb._labels import (
    MODE_ATTRIBUTE,
    TECHNIQUE_ATTRIBUTE,
    classified_incidents,
    effective_labels,
)
from incidentdb._models import Entity, Incident, IncidentEntity, IncidentReport, table_of
from incidentdb._progress import SILENT, Progress
from incidentdb._trends import incident_conditions

__all__ = ["BATCH", "COLUMNS", "EXPORT_FORMATS", "export_incidents", "iter_incident_rows"]

EXPORT_FORMATS = ("csv", "jsonl", "parquet")
COLUMNS = (
    "incident_id",
    "source",
    "date",
    "title",
    "description",
    "reports",
    "deployers",
    "developers",
    "harmed",
    "failure_modes",
    "techniques",
    "classified",
)
LIST_COLUMNS = ("deployers", "developers", "harmed", "failure_modes", "techniques")
# Rows fetched from the database and written to a Parquet row group at a time.
BATCH = 5000

_incidents = table_of(Incident)
_roles = table_of(IncidentEntity)
_entities = table_of(Entity)
_links = table_of(IncidentReport)


def _stream(conn: Connection, query: Any) -> Iterator[Any]:
    # Server-side cursors on PostgreSQL; SQLite's cursor steps through the rows anyway.
    return iter(conn.execution_options(stream_results=True, yield_per=BATCH).execute(query))


class _Children:
    """Rows of a stream ordered by incident_pk, handed out incident by incident."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self._rows = rows
        self._head: Any = next(self._rows, None)

    def take(self, pk: int) -> list[Any]:
        """The rows of incident `pk` (skipping those of incidents before it)."""
        while self._head is not None and self._head[0] < pk:
            self._head = next(self._rows, None)
        found = []
        while self._head is not None and self._head[0] == pk:
            found.append(self._head)
            self._head = next(self._rows, None)
        return found


def iter_incident_rows(
    conn: Connection, *, include_private: bool = False
) -> Iterator[dict[str, Any]]:
    """One dict per incident (keys :data:`COLUMNS`), ordered by the store's incident key."""
    report_count = (
        select(func.count())
        .select_from(_links)
        .where(_links.c.incident_pk == _incidents.c.id)
        .scalar_subquery()
    )
    incidents = _stream(
        conn,
        select(
            _incidents.c.id,
            _incidents.c.incident_id,
            _incidents.c.source,
            _incidents.c.date,
            _incidents.c.title,
            _incidents.c.description,
            report_count.label("reports"),
        )
        .where(*incident_conditions(None, include_private=include_private))
        .order_by(_incidents.c.id),
    )
    entities = _Children(
        _stream(
            conn,
            select(_roles.c.incident_pk, _roles.c.role, _entities.c.name)
            .join(_entities, _entities.c.id == _roles.c.entity_pk)
            .where(_roles.c.role.in_(("deployer", "developer", "harmed")))
            .order_by(_roles.c.incident_pk, _roles.c.role, _roles.c.position, _entities.c.name),
        )
    )
    labels = {}
    for column, attribute in (
        ("failure_modes", MODE_ATTRIBUTE),
        ("techniques", TECHNIQUE_ATTRIBUTE),
    ):
        effective = effective_labels(attribute)
        labels[column] = _Children(
            _stream(
                conn,
                select(effective.c.incident_pk, effective.c.value)
                .distinct()
                .order_by(effective.c.incident_pk, effective.c.value),
            )
        )
    classified_sub = classified_incidents(MODE_ATTRIBUTE)
    classified = _Children(
        _stream(
            conn,
            select(classified_sub.c.incident_pk).order_by(classified_sub.c.incident_pk),
        )
    )
    for row in incidents:
        pk = row.id
        roles: dict[str, list[str]] = {"deployer": [], "developer": [], "harmed": []}
        for _, role, name in entities.take(pk):
            roles[role].append(name)
        yield {
            "incident_id": row.incident_id,
            "source": row.source,
            "date": row.date,
            "title": row.title,
            "description": row.description,
            "reports": int(row.reports),
            "deployers": roles["deployer"],
            "developers": roles["developer"],
            "harmed": roles["harmed"],
            "failure_modes": [value for _, value in labels["failure_modes"].take(pk)],
            "techniques": [value for _, value in labels["techniques"].take(pk)],
            "classified": bool(classified.take(pk)),
        }


def count_incidents(conn: Connection, *, include_private: bool = False) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(_incidents)
            .where(*incident_conditions(None, include_private=include_private))
        ).scalar_one()
    )


def export_incidents(
    conn: Connection,
    out: BinaryIO,
    fmt: str,
    *,
    include_private: bool = False,
    progress: Progress = SILENT,
) -> int:
    """Write the incidents to the binary stream `out` in `fmt`; returns how many were written.

    Raises:
        QueryError: `fmt` is not one of :data:`EXPORT_FORMATS`.
    """
    if fmt not in EXPORT_FORMATS:
        raise QueryError(
            f"unknown export format {fmt!r}", hint=f"Formats: {', '.join(EXPORT_FORMATS)}."
        )
    progress.stage(
        "exporting incidents", total=count_incidents(conn, include_private=include_private)
    )
    rows = iter_incident_rows(conn, include_private=include_private)
    try:
        if fmt == "csv":
            return _write_csv(rows, out, progress)
        if fmt == "jsonl":
            return _write_jsonl(rows, out, progress)
        return _write_parquet(rows, out, progress)
    finally:
        progress.done()


def _write_csv(rows: Iterator[dict[str, Any]], out: BinaryIO, progress: Progress) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    # RFC 4180 line ends: with "\n" alone the csv module leaves a lone "\r" in a title unquoted,
    # and readers split the row there.
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    n = 0
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in COLUMNS])
        n += 1
        if n % BATCH == 0:
            progress.advance(BATCH)
    progress.advance(n % BATCH)
    text.flush()
    text.detach()  # leave `out` open for the caller
    return n


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _write_jsonl(rows: Iterator[dict[str, Any]], out: BinaryIO, progress: Progress) -> int:
    n = 0
    for row in rows:
        record = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
        n += 1
        if n % BATCH == 0:
            progress.advance(BATCH)
    progress.advance(n % BATCH)
    return n


def parquet_schema() -> Any:
    import pyarrow as pa

    strings = pa.list_(pa.string())
    return pa.schema(
        [
            ("incident_id", pa.int64()),
            ("source", pa.string()),
            ("date", pa.date32()),
            ("title", pa.string()),
            ("description", pa.string()),
            ("reports", pa.int64()),
            ("deployers", strings),
            ("developers", strings),
            ("harmed", strings),
            ("failure_modes", strings),
            ("techniques", strings),
            ("classified", pa.bool_()),
        ]
    )


def _write_parquet(rows: Iterator[dict[str, Any]], out: BinaryIO, progress: Progress) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    n = 0
    with pq.ParquetWriter(out, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
                progress.advance(len(batch))
                batch = []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            n += len(batch)
            progress.advance(len(batch))
    return n

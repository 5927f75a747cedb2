"""Incidents from sources with their own ids (AVID), written through an ingest's writer.

AIID incidents are keyed by AIID's `incident_id`; these have none. They are keyed by
(source, external id) in `external_incidents`, which also keeps the source document as is, so
that an export gives back what was imported. Writes are idempotent: a record whose content hash
is unchanged is not touched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydantic import Field
from sqlalchemy import delete, insert, select, update

from incidentdb._company import link_entities
from incidentdb._models import (
    Classification,
    Incident,
    IncidentReport,
    Report,
    table_of,
    utc_now,
)
from incidentdb._models_compliance import ExternalIncident
from incidentdb._records import EntityRole, SourceKind, _Record
from incidentdb._search import index_new_reports, last_report_pk
from incidentdb._text import canonical_url, source_domain
from incidentdb._writer import IngestWriter

__all__ = ["ExternalIncidentRecord", "ExternalLabel", "ExternalReference", "write_external"]

incidents_t = table_of(Incident)
ext_t = table_of(ExternalIncident)
reports_t = table_of(Report)
links_t = table_of(IncidentReport)
class_t = table_of(Classification)


class ExternalReference(_Record):
    url: str
    title: str | None = None


class ExternalLabel(_Record):
    """One classification value the source gives (or that we derive from its codes)."""

    namespace: str
    attribute: str
    value: str
    evidence: dict[str, Any] | None = None


class ExternalIncidentRecord(_Record):
    """An incident as a non-AIID source describes it, with the source's document."""

    source: str  # the `incidents.source` value, e.g. "avid"
    external_id: str
    kind: str
    title: str
    description: str | None = None
    date: dt.date | None = None
    # role -> names, in the source's order (slugs are derived from the names)
    entities: dict[EntityRole, list[str]] = Field(default_factory=dict)
    references: list[ExternalReference] = Field(default_factory=list)
    labels: list[ExternalLabel] = Field(default_factory=list)
    document: dict[str, Any]


def write_external(
    writer: IngestWriter, records: Iterable[tuple[ExternalIncidentRecord, str | None]]
) -> None:
    """Upsert `(record, locator)` pairs inside the writer's transaction.

    The locator (the file a record came from) is kept but is not part of its identity: moving
    a file does not make its record "updated".
    """
    conn = writer.conn
    counts = writer.counts["incidents"]
    first_new_report = last_report_pk(conn)
    for rec, locator in records:
        digest = rec.content_hash()
        row = conn.execute(
            select(ext_t.c.id, ext_t.c.incident_pk, ext_t.c.content_hash).where(
                ext_t.c.source == rec.source, ext_t.c.external_id == rec.external_id
            )
        ).first()
        if row is not None and row.content_hash == digest:
            counts["unchanged"] += 1
            writer.progress.advance()
            continue
        values = {
            "title": rec.title,
            "description": rec.description,
            "date": rec.date,
            "content_hash": digest,
            "updated_at": utc_now(),
        }
        ext_values = {
            "kind": rec.kind,
            "document": rec.document,
            "locator": locator,
            "content_hash": digest,
        }
        if row is None:
            pk = conn.execute(
                insert(incidents_t)
                .values(source=rec.source, incident_id=None, **values)
                .returning(incidents_t.c.id)
            ).scalar_one()
            conn.execute(
                insert(ext_t).values(
                    incident_pk=pk, source=rec.source, external_id=rec.external_id, **ext_values
                )
            )
            counts["added"] += 1
        else:
            pk = row.incident_pk
            conn.execute(update(incidents_t).where(incidents_t.c.id == pk).values(**values))
            conn.execute(update(ext_t).where(ext_t.c.id == row.id).values(**ext_values))
            counts["updated"] += 1
        writer.counts["entities"]["added"] += link_entities(conn, pk, rec.entities)
        _link_references(writer, pk, rec.references)
        _replace_labels(writer, pk, rec.labels)
        writer.progress.advance()
    index_new_reports(conn, first_new_report)


def _link_references(writer: IngestWriter, pk: int, references: list[ExternalReference]) -> None:
    conn = writer.conn
    conn.execute(delete(links_t).where(links_t.c.incident_pk == pk))
    linked: set[int] = set()
    for ref in references:
        canonical = canonical_url(ref.url)
        report_pk = conn.execute(
            select(reports_t.c.id)
            .where(reports_t.c.canonical_url == canonical)
            .order_by(reports_t.c.id)
            .limit(1)
        ).scalar()
        if report_pk is None:
            report_pk = conn.execute(
                insert(reports_t)
                .values(
                    url=ref.url,
                    canonical_url=canonical,
                    source_domain=source_domain(ref.url),
                    title=ref.title,
                    plain_text=ref.title,
                    is_stub=False,
                )
                .returning(reports_t.c.id)
            ).scalar_one()
            writer.counts["reports"]["added"] += 1
        if report_pk not in linked:
            linked.add(report_pk)
            conn.execute(insert(links_t).values(incident_pk=pk, report_pk=report_pk))


def _replace_labels(writer: IngestWriter, pk: int, labels: list[ExternalLabel]) -> None:
    conn = writer.conn
    conn.execute(
        delete(class_t).where(
            class_t.c.incident_pk == pk,
            class_t.c.source_kind == SourceKind.IMPORTED_HUMAN.value,
        )
    )
    position: dict[tuple[str, str], int] = {}
    rows = []
    for label in labels:
        key = (label.namespace, label.attribute)
        rows.append(
            {
                "incident_pk": pk,
                "namespace": label.namespace,
                "attribute": label.attribute,
                "value": label.value,
                "value_index": position.get(key, 0),
                "source_kind": SourceKind.IMPORTED_HUMAN.value,
                "evidence": label.evidence,
            }
        )
        position[key] = position.get(key, 0) + 1
    if rows:
        conn.execute(insert(class_t), rows)
    writer.counts["classifications"]["added"] += len(rows)

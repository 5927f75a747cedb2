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

from incidentdb._company import entity_slug
from incidentdb._models import (
    Classification,
    Entity,
    Incident,
    IncidentEntity,
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
entities_t = table_of(Entity)
roles_t = table_of(IncidentEntity)


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


# Records per batch: one round of look-ups and one executemany per child table.
BATCH = 500


def write_external(
    writer: IngestWriter, records: Iterable[tuple[ExternalIncidentRecord, str | None]]
) -> None:
    """Upsert `(record, locator)` pairs inside the writer's transaction.

    The locator (the file a record came from) is kept but is not part of its identity: moving
    a file does not make its record "updated".
    """
    state = _State(writer)
    batch: list[tuple[ExternalIncidentRecord, str | None]] = []
    for pair in records:
        batch.append(pair)
        if len(batch) >= BATCH:
            state.write(batch)
            batch = []
    if batch:
        state.write(batch)
    index_new_reports(writer.conn, state.first_new_report)


class _State:
    """Look-up caches shared by the batches of one write."""

    def __init__(self, writer: IngestWriter) -> None:
        self.writer = writer
        self.conn = writer.conn
        self.first_new_report = last_report_pk(self.conn)
        self.entity_pks: dict[str, int] = {
            slug: pk for slug, pk in self.conn.execute(select(entities_t.c.slug, entities_t.c.id))
        }
        self.report_pks: dict[str, int] = {}
        self.insert_incident = insert(incidents_t).returning(incidents_t.c.id)

    def write(self, batch: list[tuple[ExternalIncidentRecord, str | None]]) -> None:
        conn, counts = self.conn, self.writer.counts["incidents"]
        # The same id twice in one batch: the later one stands (the ingester notes it).
        batch = list({(rec.source, rec.external_id): (rec, loc) for rec, loc in batch}.values())
        by_key = {(rec.source, rec.external_id): rec for rec, _ in batch}
        existing = {
            (source, external_id): (pk, incident_pk, digest)
            for source, external_id, pk, incident_pk, digest in conn.execute(
                select(
                    ext_t.c.source,
                    ext_t.c.external_id,
                    ext_t.c.id,
                    ext_t.c.incident_pk,
                    ext_t.c.content_hash,
                ).where(ext_t.c.external_id.in_([key[1] for key in by_key]))
            )
        }
        written: list[tuple[int, ExternalIncidentRecord]] = []
        replaced: list[int] = []
        new_ext: list[dict[str, Any]] = []
        now = utc_now()
        for rec, locator in batch:
            digest = rec.content_hash()
            row = existing.get((rec.source, rec.external_id))
            self.writer.progress.advance()
            if row is not None and row[2] == digest:
                counts["unchanged"] += 1
                continue
            values = {
                "title": rec.title,
                "description": rec.description,
                "date": rec.date,
                "content_hash": digest,
                "updated_at": now,
            }
            ext_values = {
                "kind": rec.kind,
                "document": rec.document,
                "locator": locator,
                "content_hash": digest,
            }
            if row is None:
                # Bound parameters, not .values(): the statement compiles once per write.
                pk = conn.execute(
                    self.insert_incident, {"source": rec.source, "incident_id": None, **values}
                ).scalar_one()
                new_ext.append(
                    {
                        "incident_pk": pk,
                        "source": rec.source,
                        "external_id": rec.external_id,
                        **ext_values,
                    }
                )
                counts["added"] += 1
            else:
                pk = row[1]
                conn.execute(update(incidents_t).where(incidents_t.c.id == pk).values(**values))
                conn.execute(update(ext_t).where(ext_t.c.id == row[0]).values(**ext_values))
                replaced.append(pk)
                counts["updated"] += 1
            written.append((pk, rec))
        if replaced:
            # An updated record's children are rewritten whole; new ones have none yet.
            conn.execute(delete(roles_t).where(roles_t.c.incident_pk.in_(replaced)))
            conn.execute(delete(links_t).where(links_t.c.incident_pk.in_(replaced)))
            conn.execute(
                delete(class_t).where(
                    class_t.c.incident_pk.in_(replaced),
                    class_t.c.source_kind == SourceKind.IMPORTED_HUMAN.value,
                )
            )
        roles: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        labels: list[dict[str, Any]] = []
        for pk, rec in written:
            roles.extend(self._roles(pk, rec))
            links.extend({"incident_pk": pk, "report_pk": r} for r in self._reports(rec))
            labels.extend(_label_rows(pk, rec.labels))
        for table, rows in (
            (ext_t, new_ext),
            (roles_t, roles),
            (links_t, links),
            (class_t, labels),
        ):
            if rows:
                conn.execute(insert(table), rows)
        self.writer.counts["classifications"]["added"] += len(labels)

    def _roles(self, pk: int, rec: ExternalIncidentRecord) -> list[dict[str, Any]]:
        rows = []
        for role, names in rec.entities.items():
            seen: set[str] = set()
            for position, name in enumerate(names):
                slug = entity_slug(name)
                if slug in seen:
                    continue
                seen.add(slug)
                entity = self.entity_pks.get(slug)
                if entity is None:
                    entity = self.conn.execute(
                        insert(entities_t)
                        .values(slug=slug, name=name, name_known=True)
                        .returning(entities_t.c.id)
                    ).scalar_one()
                    self.entity_pks[slug] = entity
                    self.writer.counts["entities"]["added"] += 1
                rows.append(
                    {
                        "incident_pk": pk,
                        "entity_pk": entity,
                        "role": str(role),
                        "position": position,
                    }
                )
        return rows

    def _reports(self, rec: ExternalIncidentRecord) -> list[int]:
        pks: list[int] = []
        for ref in rec.references:
            canonical = canonical_url(ref.url) or ref.url
            report_pk = self.report_pks.get(canonical)
            if report_pk is None:
                report_pk = self.conn.execute(
                    select(reports_t.c.id)
                    .where(reports_t.c.canonical_url == canonical)
                    .order_by(reports_t.c.id)
                    .limit(1)
                ).scalar()
            if report_pk is None:
                report_pk = self.conn.execute(
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
                self.writer.counts["reports"]["added"] += 1
            self.report_pks[canonical] = report_pk
            if report_pk not in pks:
                pks.append(report_pk)
        return pks


def _label_rows(pk: int, labels: list[ExternalLabel]) -> list[dict[str, Any]]:
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
                "created_at": utc_now(),
            }
        )
        position[key] = position.get(key, 0) + 1
    return rows

"""SQLAlchemy models of the store.

Natural keys (AIID ids, report numbers, content hashes) carry uniqueness; integer surrogate keys
carry joins. Full-text search tables and triggers are not models: migration 0001 creates them
(FTS5 on SQLite, a tsvector column with a GIN index on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def utc_now() -> dt.datetime:
    """Now in UTC, naive: the store keeps every timestamp in UTC without a zone."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # AIID's incident_id: stable across snapshots; None for incidents that did not come from AIID.
    incident_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    # Indexed: trends leave private ("company") incidents out by looking them up.
    source: Mapped[str] = mapped_column(String(32), default="aiid", index=True)
    date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    editor_notes: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)

    reports: Mapped[list[Report]] = relationship(
        secondary="incident_reports", back_populates="incidents", order_by="Report.report_number"
    )


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_number: Mapped[int | None] = mapped_column(Integer, unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text, index=True)
    source_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    plain_text: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    submitters: Mapped[list[Any]] = mapped_column(JSON, default=list)
    date_published: Mapped[dt.date | None] = mapped_column(Date)
    date_downloaded: Mapped[dt.date | None] = mapped_column(Date)
    date_submitted: Mapped[dt.date | None] = mapped_column(Date)
    date_modified: Mapped[dt.date | None] = mapped_column(Date)
    language: Mapped[str | None] = mapped_column(String(16))
    image_url: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    is_incident_report: Mapped[bool | None] = mapped_column(Boolean)
    inputs_outputs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    editor_notes: Mapped[str | None] = mapped_column(Text)
    # True while only an incident's report list has named this report: its content is unknown.
    is_stub: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    content_hash: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)

    incidents: Mapped[list[Incident]] = relationship(
        secondary="incident_reports", back_populates="reports", order_by="Incident.incident_id"
    )


class IncidentReport(Base):
    __tablename__ = "incident_reports"

    incident_pk: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    report_pk: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_incident_reports_report_pk", "report_pk"),)


class Entity(Base):
    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(Text)
    # False while the name is only derived from the slug (no entities collection seen yet).
    name_known: Mapped[bool] = mapped_column(Boolean, default=True)


class IncidentEntity(Base):
    __tablename__ = "incident_entities"

    incident_pk: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    entity_pk: Mapped[int] = mapped_column(
        ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The incident's date, copied here by database triggers (migration 0007) so that a trend
    # reads one index instead of looking up 150,000 incidents. Writers leave it out (a trigger
    # fills it) or, to spare the trigger in bulk, set it to the incident's date.
    incident_date: Mapped[dt.date | None] = mapped_column(Date)
    # The entity's name, copied by triggers (migration 0008) like the date: a trend groups by
    # (role, name, month) in the order of one index (`ix_trend_roles`, raw DDL per dialect).
    entity_name: Mapped[str | None] = mapped_column(Text)

    # role first: "top deployers" scans one role; entity lookups within a role use it too, and
    # a trend by role reads (entity, date, incident) from it alone.
    __table_args__ = (
        Index(
            "ix_incident_entities_role_entity_date",
            "role",
            "entity_pk",
            "incident_date",
            "incident_pk",
        ),
        # Incident order within a role: a trend counts the incidents that have someone in the
        # role (count DISTINCT) by walking it, without sorting.
        Index("ix_incident_entities_role_incident_date", "role", "incident_pk", "incident_date"),
    )


class Taxonomy(Base):
    __tablename__ = "taxonomies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int | None] = mapped_column(Integer)
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str | None] = mapped_column(String(32))


class Classification(Base):
    """One (namespace, attribute, value) of one incident, with its provenance.

    A multi-valued attribute is one row per value (`value_index` keeps the order), so that
    "incidents with taxonomy value X" is an indexed equality, not a JSON search.
    """

    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_pk: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    namespace: Mapped[str] = mapped_column(String(64))
    attribute: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text)
    value_index: Mapped[int] = mapped_column(Integer, default=0)
    source_kind: Mapped[str] = mapped_column(String(32))
    published: Mapped[bool | None] = mapped_column(Boolean)
    model_name: Mapped[str | None] = mapped_column(String(128))
    model_version: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    author: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    # The incident's date, kept by database triggers (migration 0007): see IncidentEntity.
    incident_date: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_classifications_incident_ns", "incident_pk", "namespace"),
        # Equality on (namespace, attribute, value) for filters; a taxonomy trend reads
        # (kind, date, incident) from it alone.
        Index(
            "ix_classifications_ns_attr_value_date",
            "namespace",
            "attribute",
            "value",
            "source_kind",
            "incident_date",
            "incident_pk",
        ),
        # Coverage of our own labels (human, model) counts from this alone; imported documents
        # are counted from imported_classifications, a fifth of the rows.
        Index("ix_classifications_kind_ns_incident", "source_kind", "namespace", "incident_pk"),
    )


class ImportedClassification(Base):
    """An imported classification document as the source had it (lossless).

    An incident may carry several documents of one namespace (two annotators; a merged
    duplicate's). An import compares the set of `doc_hash`es per (incident, namespace) to tell
    whether the exploded rows need rewriting.
    """

    __tablename__ = "imported_classifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_pk: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    namespace: Mapped[str] = mapped_column(String(64))
    source_kind: Mapped[str] = mapped_column(String(32))
    published: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    doc_hash: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("incident_pk", "namespace", "doc_hash"),
        Index(
            "ix_imported_classifications_ns_kind_incident",
            "namespace",
            "source_kind",
            "incident_pk",
        ),
    )


class Duplicate(Base):
    __tablename__ = "duplicates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    duplicate_incident_id: Mapped[int] = mapped_column(Integer, unique=True)
    true_incident_id: Mapped[int] = mapped_column(Integer)
    # true_incident_id followed through chains of duplicates.
    canonical_incident_id: Mapped[int] = mapped_column(Integer, index=True)


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    incident_id: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)
    source_domain: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    submitters: Mapped[list[Any]] = mapped_column(JSON, default=list)
    date_published: Mapped[dt.date | None] = mapped_column(Date)
    date_submitted: Mapped[dt.date | None] = mapped_column(Date)
    incident_date: Mapped[dt.date | None] = mapped_column(Date)
    language: Mapped[str | None] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReportTranslation(Base):
    __tablename__ = "report_translations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_number: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    plain_text: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("report_number", "language"),)


class Source(Base):
    """Where data came from: a snapshot file or URL, a feed, a folder of AVID reports."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    locator: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)

    __table_args__ = (UniqueConstraint("kind", "locator"),)


class IngestRun(Base):
    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ingester: Mapped[str] = mapped_column(String(64))
    source_pk: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # running | succeeded | unchanged | failed
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # How recent the imported data is (a snapshot's date), when the source says.
    source_date: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_ingest_runs_started_at", "started_at"),)


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, typed as such for insert/update statements."""
    return cast(Table, model.__table__)


# Rows of these tables are visible to `db status`.
COUNTED_TABLES = {
    "incidents": Incident,
    "reports": Report,
    "entities": Entity,
    "classifications": Classification,
    "taxonomies": Taxonomy,
    "duplicates": Duplicate,
    "submissions": Submission,
    "report_translations": ReportTranslation,
    "ingest_runs": IngestRun,
}

__all__ = [
    "COUNTED_TABLES",
    "Base",
    "Classification",
    "Duplicate",
    "Entity",
    "ImportedClassification",
    "Incident",
    "IncidentEntity",
    "IncidentReport",
    "IngestRun",
    "Report",
    "ReportTranslation",
    "Source",
    "Submission",
    "Taxonomy",
    "table_of",
    "utc_now",
]

# The feed-ingestion tables live in their own module; importing it here registers them on
# Base.metadata wherever the models are loaded (alembic included).
# Tables of other modules share Base.metadata; importing them here lets alembic see them.
# Imported last so that every table is in Base.metadata wherever the models are loaded (alembic).
from incidentdb import (  # noqa: E402, F401
    _models_compliance,
    _models_curlabels,
    _models_generators,
    _models_replay,
)
from incidentdb import _models_feeds as _models_feeds  # noqa: E402

COUNTED_TABLES["organisation_incidents"] = _models_compliance.OrganisationIncident
COUNTED_TABLES["external_incidents"] = _models_compliance.ExternalIncident

"""Tables for company incidents and for incidents imported from outside AIID (AVID).

Both hang 1:1 off an `incidents` row, so that listings, search and trends see them like any
other incident, while the facts a regulator's template needs (or the source's document, kept
losslessly for a faithful export) live beside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from incidentdb._models import Base, utc_now

__all__ = ["ExternalIncident", "OrganisationIncident"]


class OrganisationIncident(Base):
    """An organisation's own (private) incident: the validated input, as entered.

    Users address it as ``C-<id>``; its `incidents` row has source "company" and no AIID id.
    """

    __tablename__ = "organisation_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_pk: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    # A reference the organisation uses itself (ticket number); unique so re-adding updates.
    reference: Mapped[str | None] = mapped_column(String(128), unique=True)
    # Kept as columns because deadlines are listed and sorted by them.
    awareness_date: Mapped[dt.date | None] = mapped_column(Date)
    harm_categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    schema_version: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)


class ExternalIncident(Base):
    """An incident from a source with its own ids (AVID `AVID-2026-R0062`), document kept as is."""

    __tablename__ = "external_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_pk: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    # e.g. "report" or "vulnerability" for AVID
    kind: Mapped[str] = mapped_column(String(32))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    locator: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("source", "external_id"),)

"""Models of generated test suites: suites and their cases (migration 0003).

A suite is a named set of cases; a case row holds one :class:`incidentdb._cases.TestCase` as JSON,
keyed within its suite by the case's content-hash id, so that generating a suite again with the
same incidents, generator and seed rewrites nothing. Runs and results belong to replay.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from incidentdb._models import Base, utc_now

__all__ = ["Case", "CaseIncident", "Suite"]


class Suite(Base):
    __tablename__ = "suites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    # What built it: incidents or filter, modes, variants, seed, generator versions.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suite_pk: Mapped[int] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"))
    # TestCase.id: a content hash, so equal cases of two suites share it.
    case_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    generator: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)

    __table_args__ = (
        UniqueConstraint("suite_pk", "case_id"),
        Index("ix_cases_case_id", "case_id"),
    )


class CaseIncident(Base):
    """Which incidents a case was built from (a case may combine several)."""

    __tablename__ = "case_incidents"

    case_pk: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    incident_pk: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_case_incidents_incident_pk", "incident_pk"),)

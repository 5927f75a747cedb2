"""The materialised effective failure-mode labels (`current_labels`).

Computing "newest human decision per label, else the newest classifier run's tags" with window
functions over every classification row cost most of a trends query on a large store. This
table holds the result, one row per (incident, attribute, label), and is rewritten for the
affected incidents in the same transaction as every write of failure-mode rows
(:func:`incidentdb._labels.refresh_current_labels`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from incidentdb._models import Base

__all__ = ["CurrentLabel"]


class CurrentLabel(Base):
    """One effective label of one incident; a NULL `value` means "classified, nothing applies".

    Every incident a classifier or a person has labelled for `attribute` has at least one row,
    so "classified" is a lookup here too.
    """

    __tablename__ = "current_labels"

    # A surrogate key: `value` is NULL on the "nothing applies" row, and a primary key column
    # cannot be NULL.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_pk: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text)
    # "human" or "model": where the label came from.
    source_kind: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    # The incident's date, written with the row (refresh_current_labels) and kept by a database
    # trigger when the incident's date changes (migration 0007).
    incident_date: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("incident_pk", "attribute", "value"),
        # Trends group by (attribute, value) and the date, filters look up (attribute, value):
        # both index-only.
        Index(
            "ix_current_labels_attr_value_date",
            "attribute",
            "value",
            "incident_date",
            "incident_pk",
        ),
        # Incident order within an attribute: counting the classified incidents of a range
        # (count DISTINCT) walks it without sorting.
        Index("ix_current_labels_attr_incident_date", "attribute", "incident_pk", "incident_date"),
    )

"""Company incidents with their Article 73 deadlines: what a compliance team works through."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from incidentdb._models import Incident, table_of
from incidentdb._models_compliance import OrganisationIncident
from incidentdb._reports._deadline import art73_deadline, first_filed

__all__ = ["company_incidents"]

incidents_t = table_of(Incident)
org_t = table_of(OrganisationIncident)


def company_incidents(
    conn: Connection, *, as_of: dt.date, limit: int | None = None
) -> list[dict[str, Any]]:
    """Company incidents, the most urgent deadline first (those without one last)."""
    rows = []
    for number, reference, title, date, facts in conn.execute(
        select(
            org_t.c.id, org_t.c.reference, incidents_t.c.title, incidents_t.c.date, org_t.c.facts
        ).join(incidents_t, incidents_t.c.id == org_t.c.incident_pk)
    ):
        harm = facts.get("harm") or {}
        aware = facts.get("awareness_date")
        deadline = art73_deadline(
            dt.date.fromisoformat(aware) if aware else None,
            harm.get("categories") or [],
            harm.get("irreversible"),
        )
        history = facts.get("report_history") or []
        rows.append(
            {
                "id": f"C-{number}",
                "reference": reference,
                "date": date,
                "title": title,
                "awareness_date": aware,
                "harm": harm.get("categories") or [],
                "due": deadline.due if deadline else None,
                "article": deadline.article if deadline else None,
                "status": deadline.status(as_of, first_filed(history)) if deadline else None,
                "reports_filed": [f"{r['type']} {r['date']}" for r in history],
            }
        )
    rows.sort(key=lambda r: (r["due"] is None, r["due"] or dt.date.max, r["id"]))
    return rows[:limit] if limit is not None else rows

"""An incident's facts as one flat mapping of dotted keys, whatever its source.

Templates read these keys (`ai_system.name`, `harm.categories`, …). A company incident supplies
them all from its input; an AIID or AVID incident only what a public record has (title,
description, date, entities, report links), so its reports list more missing fields.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from incidentdb._company import IncidentRef, company_facts, incident_pk
from incidentdb._models import Entity, Incident, IncidentEntity, IncidentReport, Report, table_of
from incidentdb._models_compliance import ExternalIncident

__all__ = ["incident_facts"]

incidents_t = table_of(Incident)
entities_t = table_of(Entity)
roles_t = table_of(IncidentEntity)
links_t = table_of(IncidentReport)
reports_t = table_of(Report)
ext_t = table_of(ExternalIncident)

# Nested values that stay whole (lists of records), not flattened further.
_WHOLE = {"corrective_actions", "report_history"}


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and key not in _WHOLE:
            out.update(_flatten(item, f"{name}."))
        else:
            out[name] = item
    return out


def incident_facts(conn: Connection, ref: IncidentRef) -> dict[str, Any]:
    """The flat facts of the incident `ref` names.

    Raises:
        NotFoundError: no such incident.
    """
    pk = incident_pk(conn, ref)
    company = company_facts(conn, pk)
    if company is not None:
        company.pop("number")
        facts = _flatten(company)
        facts["source"] = "company"
        role = facts.get("reporter_role") or "provider"
        facts["reporter"] = facts.get(f"{role}.name")
        return _derived(facts)
    row = conn.execute(select(incidents_t).where(incidents_t.c.id == pk)).one()
    names: dict[str, list[str]] = {}
    for role, name in conn.execute(
        select(roles_t.c.role, entities_t.c.name)
        .join(entities_t, entities_t.c.id == roles_t.c.entity_pk)
        .where(roles_t.c.incident_pk == pk)
        .order_by(roles_t.c.role, roles_t.c.position)
    ):
        names.setdefault(role, []).append(name)
    urls = [
        url
        for (url,) in conn.execute(
            select(reports_t.c.url)
            .join(links_t, links_t.c.report_pk == reports_t.c.id)
            .where(links_t.c.incident_pk == pk, reports_t.c.url.is_not(None))
            .order_by(reports_t.c.report_number, reports_t.c.id)
        )
    ]

    def joined(role: str) -> str | None:
        return ", ".join(names[role]) if names.get(role) else None

    return _derived(
        {
            "source": row.source,
            "title": row.title,
            "description": row.description,
            "occurrence.date": row.date.isoformat() if row.date else None,
            "provider.name": joined("developer"),
            "deployer.name": joined("deployer"),
            "ai_system.name": joined("implicated_system"),
            "people_affected.description": joined("harmed"),
            "references": urls,
            # Whole lists too: names may hold commas, and exports need them one by one.
            "entities": names,
        }
    )


def _derived(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts some templates ask for as one answer: the OECD's criteria 8 and 9."""
    name, version = facts.get("ai_system.name"), facts.get("ai_system.version")
    facts["ai_system.name_version"] = f"{name} {version}" if name and version else name
    organisations = [
        f"{facts[key]} ({role})"
        for key, role in (("provider.name", "developer or provider"), ("deployer.name", "deployer"))
        if facts.get(key)
    ]
    facts["organisations"] = "; ".join(organisations) or None
    return facts

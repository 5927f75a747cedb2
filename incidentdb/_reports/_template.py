"""Report templates as data (`data/reports/<name>.json`), registered under versioned names.

A revised regulator template is a new file and a new name (`eu-ai-act.v2`); a released name
never changes its output. Third parties register more through the entry-point group
`incidentdb.report_templates` (an object with the attributes of :class:`ReportTemplate`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from incidentdb._data import bundled_data
from incidentdb._errors import IncidentDBError
from incidentdb._registry import Registry
from incidentdb._reports._deadline import art73_deadline, first_filed

__all__ = ["FieldSpec", "ReportTemplate", "build_report", "fill_report", "report_templates"]


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: str
    # Dotted key into the incident's facts (see incidentdb._reports._facts).
    source: str
    # EU style: "always" or the report types that need the field.
    required: Literal["always"] | list[str] | None = None
    # OECD style: one of the mandatory criteria.
    mandatory: bool = False
    # Required when the incident has one of these harm categories.
    required_if_harm: list[str] = Field(default_factory=list)
    # A legal judgement the user must confirm with counsel before filing.
    judgement: str | None = None


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    fields: list[FieldSpec]


class ReportTemplate(BaseModel):
    """A regulator's or framework's report form, as data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str
    based_on: str
    report_types: list[str] = Field(default_factory=list)
    sections: list[Section]
    judgements: list[str] = Field(default_factory=list)

    @classmethod
    def from_file(cls, path: Path) -> ReportTemplate:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    @property
    def fields(self) -> list[FieldSpec]:
        return [f for s in self.sections for f in s.fields]


report_templates: Registry[ReportTemplate] = Registry(
    "report template", "incidentdb.report_templates"
)


def _shipped(name: str) -> ReportTemplate:
    template = ReportTemplate.from_file(bundled_data("reports", f"{name}.json"))
    if template.name != name:
        raise IncidentDBError(f"data/reports/{name}.json declares the name {template.name!r}")
    return template


# The built-ins, registered through the entry-point group like any plug-in (pyproject.toml).
EU_AI_ACT_V1 = _shipped("eu-ai-act.v1")
OECD_V1 = _shipped("oecd.v1")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _required(spec: FieldSpec, report_type: str | None, harm: list[str]) -> bool:
    if spec.mandatory or spec.required == "always":
        return True
    if isinstance(spec.required, list) and report_type in spec.required:
        return True
    return bool(set(spec.required_if_harm) & set(harm))


def default_report_type(facts: dict[str, Any]) -> str:
    """Initial when nothing was filed yet, else a follow-up."""
    return "follow-up" if facts.get("report_history") else "initial"


def build_report(
    template: ReportTemplate,
    facts: dict[str, Any],
    *,
    incident: str,
    report_type: str | None = None,
    as_of: dt.date,
) -> dict[str, Any]:
    """Fill `template` from an incident's flat `facts`.

    Returns a JSON-ready dict: the filled sections, the required fields still missing, the
    optional ones missing, the legal judgements to confirm, and the Art. 73 deadline where the
    template is the AI Act's.

    Raises:
        IncidentDBError: `report_type` is not one the template knows.
    """
    if template.report_types:
        report_type = report_type or default_report_type(facts)
        if report_type not in template.report_types:
            raise IncidentDBError(
                f"{template.name} has no report type {report_type!r}; "
                f"types: {', '.join(template.report_types)}"
            )
    else:
        report_type = None
    values = {**facts, "report.type": report_type, "report.date": as_of.isoformat()}
    harm = list(values.get("harm.categories") or [])
    sections: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    optional_missing: list[dict[str, str]] = []
    judgements: list[dict[str, str | None]] = []
    for section in template.sections:
        filled = []
        for spec in section.fields:
            value = values.get(spec.source)
            required = _required(spec, report_type, harm)
            is_missing = _empty(value)
            filled.append(
                {
                    "id": spec.id,
                    "label": spec.label,
                    "value": None if is_missing else value,
                    "required": required,
                    "missing": is_missing,
                    "judgement": spec.judgement,
                }
            )
            entry = {"field": spec.id, "label": spec.label, "section": section.title}
            if is_missing:
                (missing if required else optional_missing).append(entry)
            # A conditional field's judgement only matters when its condition holds.
            if spec.judgement and (not spec.required_if_harm or required):
                judgements.append({"field": spec.id, "question": spec.judgement})
        sections.append({"id": section.id, "title": section.title, "fields": filled})
    judgements.extend({"field": None, "question": q} for q in template.judgements)
    report: dict[str, Any] = {
        "template": template.name,
        "title": template.title,
        "based_on": template.based_on,
        "incident": incident,
        "source": facts.get("source"),
        "report_type": report_type,
        "as_of": as_of.isoformat(),
    }
    if template.name.startswith("eu-ai-act."):
        report["deadline"] = _deadline(values, as_of)
    report.update(
        sections=sections,
        missing=missing,
        missing_optional=optional_missing,
        judgements=judgements,
    )
    return report


def _deadline(values: dict[str, Any], as_of: dt.date) -> dict[str, Any]:
    aware = values.get("awareness_date")
    harm = values.get("harm.categories") or []
    deadline = art73_deadline(
        dt.date.fromisoformat(aware) if aware else None, harm, values.get("harm.irreversible")
    )
    if deadline is None:
        lacking = [
            name
            for name, value in (("awareness_date", aware), ("harm.categories", harm))
            if not value
        ]
        if lacking:
            return {"computed": False, "lacking": lacking}
        return {
            "computed": False,
            "lacking": [],
            "note": "no harm category triggers Art. 73: a disruption of critical infrastructure "
            "that is not serious and irreversible is no serious incident under Art. 3(49)(b)",
        }
    return {
        "computed": True,
        "awareness_date": deadline.awareness_date.isoformat(),
        "days": deadline.days,
        "article": deadline.article,
        "reason": deadline.reason,
        "assumed": deadline.assumed,
        "due": deadline.due.isoformat(),
        "status": deadline.status(as_of, first_filed(values.get("report_history") or [])),
    }


def fill_report(
    conn: Any,
    template: str,
    incident: str | int,
    *,
    report_type: str | None = None,
    as_of: dt.date,
) -> dict[str, Any]:
    """Look up `template` and the incident `incident` names, and fill the one from the other.

    Raises:
        RegistryError: no template of that name.
        NotFoundError: no such incident.
    """
    from incidentdb._company import parse_incident_ref
    from incidentdb._reports._facts import incident_facts

    spec = report_templates.get(template)
    ref = parse_incident_ref(incident)
    facts = incident_facts(conn, ref)
    return build_report(spec, facts, incident=str(ref), report_type=report_type, as_of=as_of)

"""Company incidents: an organisation's own (private) incidents, with the facts reports need.

A company incident is an `incidents` row with source ``"company"`` and no AIID id, plus one
`organisation_incidents` row holding the validated input. Users address it as ``C-<n>``.
Private incidents are never in public exports unless asked for.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import Connection, delete, insert, select, update

from incidentdb._errors import InvalidInputError, NotFoundError
from incidentdb._models import (
    Duplicate,
    Entity,
    Incident,
    IncidentEntity,
    table_of,
    utc_now,
)
from incidentdb._models_compliance import ExternalIncident, OrganisationIncident
from incidentdb._records import EntityRole, content_hash

__all__ = [
    "COMPANY_SCHEMA_VERSION",
    "CompanyIncident",
    "HarmCategory",
    "IncidentRef",
    "ReportType",
    "add_company_incident",
    "load_company_incident",
    "parse_company_incident",
    "parse_incident_ref",
]

COMPANY_SCHEMA_VERSION = "1"

incidents_t = table_of(Incident)
org_t = table_of(OrganisationIncident)
ext_t = table_of(ExternalIncident)
entities_t = table_of(Entity)
roles_t = table_of(IncidentEntity)
dups_t = table_of(Duplicate)


class HarmCategory(StrEnum):
    """The harms that make an incident serious (AI Act Art. 3(49) and 3(61))."""

    DEATH = "death"  # Art. 3(49)(a)
    SERIOUS_HEALTH_HARM = "serious_health_harm"  # Art. 3(49)(a)
    CRITICAL_INFRASTRUCTURE_DISRUPTION = "critical_infrastructure_disruption"  # Art. 3(49)(b)
    FUNDAMENTAL_RIGHTS_INFRINGEMENT = "fundamental_rights_infringement"  # Art. 3(49)(c)
    PROPERTY_HARM = "property_harm"  # Art. 3(49)(d)
    ENVIRONMENT_HARM = "environment_harm"  # Art. 3(49)(d)
    WIDESPREAD_INFRINGEMENT = "widespread_infringement"  # Art. 3(61), deadline of Art. 73(3)


class ReportType(StrEnum):
    """Report types of the Commission's draft template."""

    INITIAL = "initial"
    FOLLOW_UP = "follow-up"
    COMBINED = "combined"  # initial and final at once
    FINAL = "final"


class _Input(BaseModel):
    # A misspelt key is an error naming it, not a silently lost fact.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Party(_Input):
    """A provider, deployer or other organisation, with a contact point."""

    name: str = Field(min_length=1)
    address: str | None = None
    country: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


class AISystem(_Input):
    name: str = Field(min_length=1)
    version: str | None = None
    # Registration number in the EU database for high-risk AI systems (Art. 49, 71).
    eu_database_id: str | None = None
    # e.g. "Annex III, point 4(a)" or "Art. 6(1), Annex I"
    high_risk_category: str | None = None
    intended_purpose: str | None = None
    model_type: str | None = None
    autonomy: str | None = None
    data: str | None = None
    inputs: str | None = None
    outputs: str | None = None


class Occurrence(_Input):
    date: dt.date | None = None
    # ISO 3166-1 alpha-2 codes of the countries (Member States) where it happened.
    countries: list[str] = Field(default_factory=list)
    location: str | None = None

    @field_validator("countries")
    @classmethod
    def _iso(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not re.fullmatch(r"[A-Z]{2}", c)]
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
        return value


class Harm(_Input):
    categories: list[HarmCategory] = Field(default_factory=list)
    description: str | None = None
    # Whether a critical-infrastructure disruption is serious and irreversible (Art. 3(49)(b)).
    irreversible: bool | None = None
    # OECD terms: an AI hazard, incident, serious incident or disaster.
    severity: Literal["hazard", "incident", "serious_incident", "disaster"] | None = None
    rights_affected: list[str] = Field(default_factory=list)


class PeopleAffected(_Input):
    count: int | None = Field(default=None, ge=0)
    description: str | None = None


class CorrectiveAction(_Input):
    description: str = Field(min_length=1)
    date: dt.date | None = None
    status: Literal["planned", "in_progress", "done"] = "planned"


class PriorReport(_Input):
    type: ReportType
    date: dt.date
    reference: str | None = None
    authority: str | None = None


class CompanyIncident(_Input):
    """What an organisation records about one of its own incidents (schema version 1)."""

    reference: str | None = Field(default=None, max_length=128)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    ai_system: AISystem
    provider: Party
    deployer: Party | None = None
    reporter_role: Literal["provider", "deployer"] = "provider"
    occurrence: Occurrence = Field(default_factory=Occurrence)
    awareness_date: dt.date | None = None
    causal_link: (
        Literal["established", "reasonably_likely", "under_investigation", "none"] | None
    ) = None
    harm: Harm = Field(default_factory=Harm)
    people_affected: PeopleAffected = Field(default_factory=PeopleAffected)
    sector: str | None = None
    business_function: str | None = None
    cause: str | None = None
    corrective_actions: list[CorrectiveAction] = Field(default_factory=list)
    report_history: list[PriorReport] = Field(default_factory=list)
    authorities_notified: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    general_comments: str | None = None

    @field_validator("awareness_date")
    @classmethod
    def _after_occurrence(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        # A field validator (not a model one), so that the error names this field.
        occurrence = info.data.get("occurrence")
        occurred = occurrence.date if isinstance(occurrence, Occurrence) else None
        if value is not None and occurred is not None and value < occurred:
            raise ValueError(f"{value} is before occurrence.date {occurred}")
        return value


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_company_incident(data: Any, source: str = "input") -> CompanyIncident:
    """Validate a company incident given as a mapping (from YAML, JSON or prompts).

    Raises:
        InvalidInputError: names every field in error.
    """
    if not isinstance(data, dict):
        raise InvalidInputError(source, [("(top level)", "expected a mapping of fields")])
    try:
        return CompanyIncident.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = err["msg"].removeprefix("Value error, ")
            problems.append((_field_path(tuple(err["loc"])), message))
        raise InvalidInputError(source, problems) from None


def load_company_incident(path: str | Path) -> CompanyIncident:
    """Read a company incident from a `.yaml`/`.yml` or `.json` file.

    Raises:
        InvalidInputError: the file cannot be read or parsed, or breaks the schema.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(str(path), [("(file)", exc.strerror or str(exc))]) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            # BaseLoader keeps every scalar a string: pydantic, not YAML's guessing, decides
            # what "no" or "2025-01-02" means.
            data = yaml.load(text, Loader=yaml.BaseLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "(file)"
            problem = getattr(exc, "problem", None) or str(exc)
            raise InvalidInputError(str(path), [(where, f"not valid YAML: {problem}")]) from None
        data = _nulls(data)
    elif path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                str(path), [(f"line {exc.lineno}", f"not valid JSON: {exc.msg}")]
            ) from None
    else:
        raise InvalidInputError(str(path), [("(file)", "expected a .yaml, .yml or .json file")])
    return parse_company_incident(data, str(path))


def _nulls(value: Any) -> Any:
    """YAML's empty and `null`/`~` scalars as None (BaseLoader leaves them strings)."""
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulls(v) for v in value]
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    return value


# -- ids ---------------------------------------------------------------------------------------


class IncidentRef(BaseModel):
    """How a user names an incident: `C-3` (company), `1166` (AIID), `AVID-2026-R0062`."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["company", "aiid", "external"]
    number: int | None = None
    external_id: str | None = None

    def __str__(self) -> str:
        if self.kind == "company":
            return f"C-{self.number}"
        if self.kind == "aiid":
            return str(self.number)
        return str(self.external_id)


_COMPANY = re.compile(r"[Cc]-?(\d+)")
# AVID ids, and the ids derived from content for garak reports that have none.
_AVID = re.compile(r"AVID-(\d{4}-[RV]\d+|LOCAL-[0-9A-F]{10})", re.IGNORECASE)


def parse_incident_ref(ref: str | int) -> IncidentRef:
    """Parse a user's incident id.

    Raises:
        NotFoundError: the id has none of the known shapes.
    """
    text = str(ref).strip()
    if text.isdigit():
        return IncidentRef(kind="aiid", number=int(text))
    if found := _COMPANY.fullmatch(text):
        return IncidentRef(kind="company", number=int(found[1]))
    if _AVID.fullmatch(text):
        return IncidentRef(kind="external", external_id=text.upper())
    raise NotFoundError(
        f"{text!r} is not an incident id",
        hint="Use an AIID number (1166), a company incident (C-1) or an AVID id (AVID-2026-R0062).",
    )


def incident_pk(conn: Connection, ref: IncidentRef) -> int:
    """The `incidents` primary key `ref` names (AIID duplicates resolve to their canonical).

    Raises:
        NotFoundError: no such incident in this store.
    """
    pk: int | None
    if ref.kind == "company":
        pk = conn.execute(select(org_t.c.incident_pk).where(org_t.c.id == ref.number)).scalar()
        hint = "List company incidents with `incidentdb incidents company`."
    elif ref.kind == "external":
        pk = conn.execute(
            select(ext_t.c.incident_pk).where(ext_t.c.external_id == ref.external_id)
        ).scalar()
        hint = "Import it with `incidentdb ingest avid PATH`."
    else:
        canonical = conn.execute(
            select(dups_t.c.canonical_incident_id).where(
                dups_t.c.duplicate_incident_id == ref.number
            )
        ).scalar()
        pk = conn.execute(
            select(incidents_t.c.id).where(
                incidents_t.c.incident_id == (canonical if canonical is not None else ref.number)
            )
        ).scalar()
        hint = "List incidents with `incidentdb incidents list`."
    if pk is None:
        raise NotFoundError(f"no incident {ref}", hint=hint)
    return int(pk)


# -- writing -----------------------------------------------------------------------------------


def entity_slug(name: str) -> str:
    """The entity slug of a name (`"Hugging Face"` -> `"hugging-face"`), AIID's style."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed"


def link_entities(conn: Connection, pk: int, roles: dict[EntityRole, list[str]]) -> int:
    """Replace the entities of incident `pk` with `roles` (names; slugs derived from them).

    Returns:
        How many entities were new to the store.
    """
    created = 0
    conn.execute(delete(roles_t).where(roles_t.c.incident_pk == pk))
    for role, names in roles.items():
        seen: set[str] = set()
        for position, name in enumerate(names):
            slug = entity_slug(name)
            if slug in seen:
                continue
            seen.add(slug)
            entity = conn.execute(select(entities_t.c.id).where(entities_t.c.slug == slug)).scalar()
            if entity is None:
                entity = conn.execute(
                    insert(entities_t)
                    .values(slug=slug, name=name, name_known=True)
                    .returning(entities_t.c.id)
                ).scalar_one()
                created += 1
            conn.execute(
                insert(roles_t).values(
                    incident_pk=pk, entity_pk=entity, role=str(role), position=position
                )
            )
    return created


def add_company_incident(conn: Connection, record: CompanyIncident) -> tuple[int, str]:
    """Insert `record`, or update the incident with the same `reference`.

    Returns:
        The company number (the `n` of `C-n`) and `"added"`, `"updated"` or `"unchanged"`.
    """
    facts = record.model_dump(mode="json")
    digest = content_hash(facts)
    values = {
        "title": record.title,
        "description": record.description,
        "date": record.occurrence.date,
        "content_hash": digest,
        "updated_at": utc_now(),
    }
    existing = None
    if record.reference is not None:
        existing = conn.execute(
            select(org_t.c.id, org_t.c.incident_pk, org_t.c.content_hash).where(
                org_t.c.reference == record.reference
            )
        ).first()
    if existing is not None and existing.content_hash == digest:
        return existing.id, "unchanged"
    org_values = {
        "reference": record.reference,
        "awareness_date": record.awareness_date,
        "harm_categories": [str(c) for c in record.harm.categories],
        "facts": facts,
        "schema_version": COMPANY_SCHEMA_VERSION,
        "content_hash": digest,
        "updated_at": utc_now(),
    }
    if existing is None:
        pk = conn.execute(
            insert(incidents_t)
            .values(source="company", incident_id=None, **values)
            .returning(incidents_t.c.id)
        ).scalar_one()
        number = conn.execute(
            insert(org_t).values(incident_pk=pk, **org_values).returning(org_t.c.id)
        ).scalar_one()
        outcome = "added"
    else:
        pk, number = existing.incident_pk, existing.id
        conn.execute(update(incidents_t).where(incidents_t.c.id == pk).values(**values))
        conn.execute(update(org_t).where(org_t.c.id == number).values(**org_values))
        outcome = "updated"
    roles: dict[EntityRole, list[str]] = {
        EntityRole.DEVELOPER: [record.provider.name],
        EntityRole.IMPLICATED_SYSTEM: [record.ai_system.name],
    }
    if record.deployer is not None:
        roles[EntityRole.DEPLOYER] = [record.deployer.name]
    link_entities(conn, pk, roles)
    return int(number), outcome


def company_facts(conn: Connection, pk: int) -> dict[str, Any] | None:
    """The stored input of the company incident behind `incidents.id == pk`, with its number."""
    row = conn.execute(select(org_t.c.id, org_t.c.facts).where(org_t.c.incident_pk == pk)).first()
    if row is None:
        return None
    return {"number": row.id, **row.facts}

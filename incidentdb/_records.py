"""Interchange records: what every ingester produces and the store consumes.

Records are plain pydantic models, independent of the database, so parsers stay pure and testable
and a third-party ingester only has to yield these.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ClassificationRecord",
    "DuplicateRecord",
    "EntityRecord",
    "EntityRole",
    "IncidentRecord",
    "ReportRecord",
    "SourceKind",
    "SubmissionRecord",
    "TaxonomyRecord",
    "TranslationRecord",
    "content_hash",
]


class EntityRole(StrEnum):
    """The part an entity plays in an incident (AIID's "Alleged …" fields)."""

    DEPLOYER = "deployer"
    DEVELOPER = "developer"
    HARMED = "harmed"
    IMPLICATED_SYSTEM = "implicated_system"


class SourceKind(StrEnum):
    """Where a classification comes from; decides which one a query believes."""

    HUMAN = "human"  # entered by a user of this store
    IMPORTED_HUMAN = "imported_human"  # made by people elsewhere (AIID editors, CSET annotators)
    IMPORTED_MACHINE = "imported_machine"  # made by a model elsewhere (AIID's MIT labels)
    MODEL = "model"  # made by one of our classifiers


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    def content_hash(self) -> str:
        """A stable hash of the record's content, for change detection.

        pydantic serialises fields in declaration order, so the JSON is canonical for a given
        record class; adding a field to a class changes every hash of that class once.
        """
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()[:32]


class EntityRecord(_Record):
    """An organisation, person, group or system named in incidents."""

    slug: str
    name: str


class ReportRecord(_Record):
    """One report (news article, paper, post) about an incident, or an AIID variant."""

    report_number: int | None = None
    url: str | None = None
    source_domain: str | None = None
    title: str | None = None
    description: str | None = None
    text: str | None = None
    plain_text: str | None = None
    authors: list[str] = Field(default_factory=list)
    submitters: list[str] = Field(default_factory=list)
    date_published: dt.date | None = None
    date_downloaded: dt.date | None = None
    date_submitted: dt.date | None = None
    date_modified: dt.date | None = None
    language: str | None = None
    image_url: str | None = None
    tags: list[str] = Field(default_factory=list)
    is_incident_report: bool | None = None
    # AIID variants: the prompt/response pairs that reproduce an incident.
    inputs_outputs: list[str] = Field(default_factory=list)
    editor_notes: str | None = None


class IncidentRecord(_Record):
    """One incident as a source describes it."""

    incident_id: int
    date: dt.date | None = None
    title: str
    description: str | None = None
    editor_notes: str | None = None
    report_numbers: list[int] = Field(default_factory=list)
    # role -> entity slugs, in the source's order
    entities: dict[EntityRole, list[str]] = Field(default_factory=dict)


class TaxonomyRecord(_Record):
    """A taxonomy's definition (AIID `taxa`): its fields and their permitted values."""

    namespace: str
    description: str | None = None
    weight: int | None = None
    fields: list[dict[str, Any]] = Field(default_factory=list)


class ClassificationRecord(_Record):
    """One classification document: a namespace's attribute values for one or more incidents.

    Attribute values are JSON values: a list for multi-valued fields, else a scalar.
    """

    namespace: str
    incident_ids: list[int]
    attributes: dict[str, Any]
    published: bool | None = None
    notes: str | None = None
    source_kind: SourceKind = SourceKind.IMPORTED_HUMAN


class DuplicateRecord(_Record):
    """An incident merged into another: `duplicate_incident_id` lives on as `true_incident_id`."""

    duplicate_incident_id: int
    true_incident_id: int


class SubmissionRecord(_Record):
    """A report submitted to AIID and not yet (or not fully) processed by its editors."""

    kind: str = "submission"  # "submission" or "quickadd"
    incident_id: int | None = None  # the incident the submitter proposed, if any
    url: str | None = None
    source_domain: str | None = None
    title: str | None = None
    text: str | None = None
    authors: list[str] = Field(default_factory=list)
    submitters: list[str] = Field(default_factory=list)
    date_published: dt.date | None = None
    date_downloaded: dt.date | None = None
    date_submitted: dt.date | None = None
    date_modified: dt.date | None = None
    incident_date: dt.date | None = None
    language: str | None = None
    image_url: str | None = None


class TranslationRecord(_Record):
    """A machine translation of a report into `language`."""

    report_number: int
    language: str
    title: str | None = None
    text: str | None = None
    plain_text: str | None = None


def content_hash(value: Any) -> str:
    """SHA-256 (hex, 32 chars) of the canonical JSON of `value`."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]

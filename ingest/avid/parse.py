"""AVID JSON documents to incident records: pure functions, no I/O.

Validation follows avidtools 0.3.2 exactly, so a document imports if and only if avidtools
accepts it; every problem is reported with its dotted field path. With `lenient`, the drift seen
in the real AVID database is repaired first (and noted): SEP and lifecycle entries matched by
their code prefix ("E0100: Bias/Discrimination" is E0100), an empty or unknown `classof` read
as "Undefined", and metrics not in avidtools' shape left out of validation (the stored document
keeps them).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from incidentdb import EntityRole
from incidentdb._external import ExternalIncidentRecord, ExternalLabel, ExternalReference
from incidentdb._records import content_hash
from ingest.avid.schema import SEP, AvidReport, AvidVulnerability, ClassOf, Lifecycle, Metric

__all__ = ["NAMESPACE", "Parsed", "document_kind", "normalise", "parse_document"]

NAMESPACE = "AVID"
_SEP_CODE = re.compile(r"\s*([SPE]\d{4})\b", re.IGNORECASE)
_LIFECYCLE_CODE = re.compile(r"\s*(L\d\d)\b", re.IGNORECASE)


@dataclass
class Parsed:
    """What one document gave: a record, or the problems that stopped it; and notes."""

    record: ExternalIncidentRecord | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def document_kind(doc: dict[str, Any]) -> str:
    """ "vulnerability" or "report"."""
    metadata = doc.get("metadata")
    if isinstance(metadata, dict) and "vuln_id" in metadata:
        return "vulnerability"
    if "reports" in doc or "published_date" in doc:
        return "vulnerability"
    return "report"


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, message) pairs; one problem repeated over list items is one line
    (`metrics[0..19].name`), not twenty."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for where, message in _each_problem(exc):
        indices = [int(i) for i in re.findall(r"\[(\d+)\]", where)]
        key = (re.sub(r"\[\d+\]", "[*]", where), message)
        grouped.setdefault(key, []).append(indices[0] if len(indices) == 1 else -1)
    out = []
    for (pattern, message), items in grouped.items():
        if len(items) == 1 or -1 in items:
            where = pattern.replace("[*]", f"[{items[0]}]") if items[0] >= 0 else pattern
        elif items == list(range(items[0], items[-1] + 1)):
            where = pattern.replace("[*]", f"[{items[0]}..{items[-1]}]")
        else:
            where = pattern.replace("[*]", f"[{','.join(map(str, items))}]")
        out.append((where, message))
    return out


def _each_problem(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        where = _path(tuple(err["loc"]))
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "enum":
            message = f"{err['input']!r} is not one of avidtools' values"
        else:
            message = err["msg"]
        out.append((where, message))
    return out


def normalise(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of `doc` with the known real-world drift repaired, and what was repaired."""
    # Copies of the parts that may change, not of the whole document (metric results can be
    # large): the caller's document stays as it was.
    doc = dict(doc)
    notes: list[str] = []
    impact = doc.get("impact")
    avid = impact.get("avid") if isinstance(impact, dict) else None
    if isinstance(impact, dict) and isinstance(avid, dict):
        avid = copy.deepcopy(avid)
        doc["impact"] = {**impact, "avid": avid}
        for key, pattern, enum in (
            ("sep_view", _SEP_CODE, SEP),
            ("lifecycle_view", _LIFECYCLE_CODE, Lifecycle),
        ):
            values = avid.get(key)
            if not isinstance(values, list):
                continue
            fixed = []
            for value in values:
                found = pattern.match(value) if isinstance(value, str) else None
                code = found[1].upper() if found else ""
                member = enum.__members__.get(code)
                if member is not None and value != member.value:
                    notes.append(f"impact.avid.{key}: {value!r} read as {member.value!r}")
                    value = member.value
                fixed.append(value)
            avid[key] = fixed
    problem = doc.get("problemtype")
    if isinstance(problem, dict) and problem.get("classof") not in {c.value for c in ClassOf}:
        problem = doc["problemtype"] = dict(problem)
        notes.append(f"problemtype.classof: {problem.get('classof')!r} read as 'Undefined'")
        problem["classof"] = ClassOf.UNDEFINED.value
    metrics = doc.get("metrics")
    if isinstance(metrics, list):
        kept = []
        for metric in metrics:
            try:
                Metric.model_validate(metric)
            except ValidationError:
                continue
            kept.append(metric)
        if len(kept) != len(metrics):
            notes.append(
                f"metrics: {len(metrics) - len(kept)} of {len(metrics)} not in avidtools' "
                "shape, kept in the stored document only"
            )
            doc["metrics"] = kept
    return doc, notes


def parse_document(doc: Any, *, lenient: bool = False, taxonomy: Any = None) -> Parsed:
    """Validate one AVID document and turn it into an incident record.

    Args:
        doc: the decoded JSON.
        lenient: repair known drift (see the module docstring) before validating.
        taxonomy: a :class:`taxonomy.Taxonomy` to map SEP codes onto failure modes, or None.
    """
    if not isinstance(doc, dict):
        return Parsed(problems=[("(document)", "expected a JSON object")])
    kind = document_kind(doc)
    checked, notes = normalise(doc) if lenient else (doc, [])
    model: type[BaseModel] = AvidVulnerability if kind == "vulnerability" else AvidReport
    try:
        parsed: Any = model.model_validate(checked)
    except ValidationError as exc:
        return Parsed(problems=_problems(exc), notes=notes)
    if parsed.data_type != "AVID":
        return Parsed(problems=[("data_type", f"{parsed.data_type!r} is not 'AVID'")])
    if parsed.metadata is not None:
        external_id = (
            parsed.metadata.vuln_id if kind == "vulnerability" else parsed.metadata.report_id
        )
    else:
        # garak's *.avid.jsonl reports carry no id: one derived from the content is stable.
        external_id = "AVID-LOCAL-" + content_hash(doc)[:10].upper()
    description = parsed.description.value if parsed.description else None
    title = (
        parsed.problemtype.description.value
        if parsed.problemtype is not None
        else (description or external_id)
    )
    entities: dict[EntityRole, list[str]] = {}
    if parsed.affects is not None:
        for role, names in (
            (EntityRole.DEVELOPER, parsed.affects.developer),
            (EntityRole.DEPLOYER, parsed.affects.deployer),
            (EntityRole.IMPLICATED_SYSTEM, [a.name for a in parsed.affects.artifacts]),
        ):
            cleaned = [n.strip() for n in names if n and n.strip()]
            if cleaned:
                entities[role] = cleaned
    date: dt.date | None = (
        parsed.published_date if kind == "vulnerability" else parsed.reported_date
    )
    return Parsed(
        record=ExternalIncidentRecord(
            source="avid",
            external_id=external_id,
            kind=kind,
            title=title,
            description=description,
            date=date,
            entities=entities,
            references=[
                ExternalReference(url=r.url, title=r.label) for r in parsed.references or []
            ],
            labels=_labels(parsed, taxonomy),
            document=doc,
        ),
        notes=notes,
    )


def _labels(parsed: Any, taxonomy: Any) -> list[ExternalLabel]:
    labels = []

    def add(attribute: str, value: str | None, evidence: dict[str, Any] | None = None) -> None:
        if value:
            labels.append(
                ExternalLabel(
                    namespace=NAMESPACE, attribute=attribute, value=value, evidence=evidence
                )
            )

    if parsed.problemtype is not None:
        add("classof", parsed.problemtype.classof.value)
        add("type", parsed.problemtype.type.value if parsed.problemtype.type else None)
    avid = parsed.impact.avid if parsed.impact is not None else None
    if avid is not None:
        add("vuln_id", avid.vuln_id)
        for value in avid.risk_domain:
            add("risk_domain", value)
        for sep in avid.sep_view:
            add("sep_view", sep.value)
        for stage in avid.lifecycle_view:
            add("lifecycle_view", stage.value)
        add("taxonomy_version", avid.taxonomy_version)
        if taxonomy is not None:
            seen: set[str] = set()
            for sep in avid.sep_view:
                code = sep.name  # "S0403"; the taxonomy matches AVID codes by prefix
                for node in taxonomy.from_external("avid", code):
                    if node not in seen:
                        seen.add(node)
                        add("failure_mode", node, {"crosswalk": "avid", "code": code})
    return labels

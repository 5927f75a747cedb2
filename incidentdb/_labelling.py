"""Reading incident texts for classifiers and writing failure-mode labels, in the shape
:mod:`incidentdb._labels` defines.

The :class:`~incidentdb.Store` exposes these as thin methods; the classifiers themselves live in
the ``taxonomy`` package, which imports this, never the reverse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from incidentdb._errors import NotFoundError
from incidentdb._labels import (
    LABEL_NAMESPACE,
    MODE_ATTRIBUTE,
    TECHNIQUE_ATTRIBUTE,
    effective_labels,
    refresh_current_labels,
)
from incidentdb._models import (
    Classification,
    Duplicate,
    Incident,
    IncidentReport,
    Report,
    table_of,
    utc_now,
)
from incidentdb._records import SourceKind

__all__ = [
    "HumanDecision",
    "IncidentText",
    "ModelTag",
    "classified_by",
    "effective_modes",
    "has_failure_mode",
    "incident_texts",
    "record_decisions",
    "write_model_tags",
]

_incidents = table_of(Incident)
_reports = table_of(Report)
_links = table_of(IncidentReport)
_class = table_of(Classification)
_dups = table_of(Duplicate)

# Report titles are cheap evidence of what an incident is about; whole report texts would
# cost most of the classification time and mostly repeat the description.
MAX_REPORT_TITLES = 5
_BATCH = 500


@dataclass(frozen=True)
class IncidentText:
    """What a classifier reads of one incident."""

    pk: int
    incident_id: int | None
    title: str
    description: str
    report_titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelTag:
    """One tag a classifier gives an incident (value None: classified, nothing found)."""

    attribute: str
    value: str | None
    confidence: float | None
    evidence: dict[str, Any] | None


@dataclass(frozen=True)
class HumanDecision:
    """A person's decision that a label applies to an incident (or not)."""

    incident_id: int
    attribute: str
    value: str
    applies: bool


def incident_texts(
    conn: Connection,
    *,
    incident_ids: Sequence[int] | None = None,
    since: dt.date | None = None,
    batch_size: int = _BATCH,
) -> Iterator[list[IncidentText]]:
    """Incidents in batches, in AIID id order: all, those on or after `since`, or the given
    AIID ids (a merged duplicate id reads the incident it was merged into).

    Raises:
        NotFoundError: one of `incident_ids` is not in the store.
    """
    query = select(
        _incidents.c.id, _incidents.c.incident_id, _incidents.c.title, _incidents.c.description
    )
    if incident_ids is not None:
        wanted = _canonical_ids(conn, incident_ids)
        found = set(
            conn.execute(
                select(_incidents.c.incident_id).where(_incidents.c.incident_id.in_(wanted))
            ).scalars()
        )
        missing = sorted(set(wanted) - found)
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
            raise NotFoundError(
                f"no incident {shown} in this store",
                hint="List incidents with `incidentdb incidents list`.",
            )
        query = query.where(_incidents.c.incident_id.in_(wanted))
    if since is not None:
        query = query.where(_incidents.c.date >= since)
    query = query.order_by(_incidents.c.incident_id, _incidents.c.id)
    rows = conn.execute(query).all()
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        titles = _report_titles(conn, [r.id for r in chunk])
        yield [
            IncidentText(
                pk=r.id,
                incident_id=r.incident_id,
                title=r.title or "",
                description=r.description or "",
                report_titles=tuple(titles.get(r.id, ())),
            )
            for r in chunk
        ]


def _canonical_ids(conn: Connection, incident_ids: Sequence[int]) -> list[int]:
    merged = dict(
        conn.execute(
            select(_dups.c.duplicate_incident_id, _dups.c.canonical_incident_id).where(
                _dups.c.duplicate_incident_id.in_(list(incident_ids))
            )
        ).all()
    )
    return sorted({merged.get(i, i) for i in incident_ids})


def _report_titles(conn: Connection, pks: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    rows = conn.execute(
        select(_links.c.incident_pk, _reports.c.title)
        .join(_reports, _reports.c.id == _links.c.report_pk)
        .where(
            _links.c.incident_pk.in_(pks),
            _reports.c.is_stub.is_(False),
            _reports.c.title.is_not(None),
        )
        .order_by(_links.c.incident_pk, _reports.c.report_number)
    )
    for pk, title in rows:
        titles = out.setdefault(pk, [])
        if len(titles) < MAX_REPORT_TITLES and title not in titles:
            titles.append(title)
    return out


def classified_by(
    conn: Connection, model_name: str, model_version: str, pks: Iterable[int]
) -> set[int]:
    """Which of `pks` this classifier version has already labelled (modes)."""
    wanted = list(pks)
    done: set[int] = set()
    for start in range(0, len(wanted), _BATCH):
        done.update(
            conn.execute(
                select(_class.c.incident_pk)
                .where(
                    _class.c.incident_pk.in_(wanted[start : start + _BATCH]),
                    _class.c.namespace == LABEL_NAMESPACE,
                    _class.c.attribute == MODE_ATTRIBUTE,
                    _class.c.source_kind == SourceKind.MODEL.value,
                    _class.c.model_name == model_name,
                    _class.c.model_version == model_version,
                )
                .distinct()
            ).scalars()
        )
    return done


def write_model_tags(
    conn: Connection,
    model_name: str,
    model_version: str,
    tags_by_incident: dict[int, list[ModelTag]],
    created_at: dt.datetime | None = None,
) -> int:
    """Insert one classifier run's tags; an incident with no mode (or technique) tag gets a
    NULL-value row for that attribute, meaning "classified, nothing found". Returns rows."""
    when = created_at or utc_now()
    rows: list[dict[str, Any]] = []
    for pk, tags in tags_by_incident.items():
        for attribute in (MODE_ATTRIBUTE, TECHNIQUE_ATTRIBUTE):
            mine = [t for t in tags if t.attribute == attribute and t.value is not None]
            if not mine:
                mine = [ModelTag(attribute, None, None, None)]
            for index, tag in enumerate(mine):
                rows.append(
                    {
                        "incident_pk": pk,
                        "namespace": LABEL_NAMESPACE,
                        "attribute": attribute,
                        "value": tag.value,
                        "value_index": index,
                        "source_kind": SourceKind.MODEL.value,
                        "published": None,
                        "model_name": model_name,
                        "model_version": model_version,
                        "confidence": tag.confidence,
                        "evidence": tag.evidence,
                        "author": None,
                        "created_at": when,
                    }
                )
    if rows:
        conn.execute(insert(_class), rows)
        refresh_current_labels(conn, tags_by_incident)
    return len(rows)


def record_decisions(
    conn: Connection,
    decisions: Sequence[HumanDecision],
    author: str,
    created_at: dt.datetime | None = None,
) -> dict[str, int]:
    """Record human decisions; one that repeats the newest decision on record is skipped, so
    importing a file twice writes nothing the second time.

    Raises:
        NotFoundError: an incident id is not in the store (nothing is written).
    """
    when = created_at or utc_now()
    ids = sorted({d.incident_id for d in decisions})
    canonical = dict(zip(ids, _canonical_each(conn, ids), strict=True))
    pks = dict(
        conn.execute(
            select(_incidents.c.incident_id, _incidents.c.id).where(
                _incidents.c.incident_id.in_(sorted(set(canonical.values())))
            )
        ).all()
    )
    missing = sorted(i for i in ids if canonical[i] not in pks)
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise NotFoundError(
            f"no incident {shown} in this store; no label was recorded",
            hint="Import the snapshot the labels refer to first (`incidentdb ingest aiid …`).",
        )
    latest = _latest_human(conn, list(pks.values()))
    rows = []
    unchanged = 0
    seen: set[tuple[int, str, str]] = set()
    for d in decisions:
        pk = pks[canonical[d.incident_id]]
        key = (pk, d.attribute, d.value)
        confidence = 1.0 if d.applies else 0.0
        if key in seen or latest.get(key) == confidence:
            unchanged += 1
            continue
        seen.add(key)
        rows.append(
            {
                "incident_pk": pk,
                "namespace": LABEL_NAMESPACE,
                "attribute": d.attribute,
                "value": d.value,
                "value_index": 0,
                "source_kind": SourceKind.HUMAN.value,
                "published": None,
                "model_name": None,
                "model_version": None,
                "confidence": confidence,
                "evidence": None,
                "author": author,
                "created_at": when,
            }
        )
    if rows:
        conn.execute(insert(_class), rows)
        refresh_current_labels(conn, {r["incident_pk"] for r in rows})
    return {
        "recorded": len(rows),
        "unchanged": unchanged,
        "incidents": len({r["incident_pk"] for r in rows}),
    }


def _canonical_each(conn: Connection, ids: list[int]) -> list[int]:
    merged = dict(
        conn.execute(
            select(_dups.c.duplicate_incident_id, _dups.c.canonical_incident_id).where(
                _dups.c.duplicate_incident_id.in_(ids)
            )
        ).all()
    )
    return [merged.get(i, i) for i in ids]


def _latest_human(conn: Connection, pks: list[int]) -> dict[tuple[int, str, str], float]:
    """The newest human decision per (incident, attribute, value) among `pks`."""
    out: dict[tuple[int, str, str], float] = {}
    for start in range(0, len(pks), _BATCH):
        rows = conn.execute(
            select(
                _class.c.incident_pk,
                _class.c.attribute,
                _class.c.value,
                _class.c.confidence,
            )
            .where(
                _class.c.incident_pk.in_(pks[start : start + _BATCH]),
                _class.c.namespace == LABEL_NAMESPACE,
                _class.c.source_kind == SourceKind.HUMAN.value,
                _class.c.value.is_not(None),
            )
            .order_by(_class.c.created_at, _class.c.id)
        )
        for pk, attribute, value, confidence in rows:
            out[(pk, attribute, value)] = confidence
    return out


def effective_modes(conn: Connection, pk: int) -> list[dict[str, Any]]:
    """The failure modes and techniques queries believe for one incident."""
    out = []
    for attribute in (MODE_ATTRIBUTE, TECHNIQUE_ATTRIBUTE):
        labels = effective_labels(attribute)
        for value, kind, confidence in conn.execute(
            select(labels.c.value, labels.c.source_kind, labels.c.confidence)
            .where(labels.c.incident_pk == pk)
            .order_by(labels.c.value)
        ):
            out.append(
                {"attribute": attribute, "value": value, "source": kind, "confidence": confidence}
            )
    return out


def has_failure_mode(incident_pk_column: Any, mode: str) -> Any:
    """A condition: the incident's effective labels include `mode` (a mode or technique id)."""
    attribute = TECHNIQUE_ATTRIBUTE if "." in mode else MODE_ATTRIBUTE
    labels = effective_labels(attribute)
    # Uncorrelated IN: evaluated once, where a correlated EXISTS probes once per incident.
    return incident_pk_column.in_(select(labels.c.incident_pk).where(labels.c.value == mode))

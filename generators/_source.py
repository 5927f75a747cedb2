"""What generation reads from the store: incidents with their reports, entities and labels.

Labels are read only through :func:`incidentdb._labels.effective_labels` (human decisions over
the newest classifier run), so generation sees exactly what every other query believes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from incidentdb import Store, StoreError
from incidentdb._labels import MODE_ATTRIBUTE, TECHNIQUE_ATTRIBUTE, effective_labels
from incidentdb._models import (
    Entity,
    Incident,
    IncidentEntity,
    IncidentReport,
    Report,
    table_of,
)

__all__ = ["WHERE_KEYS", "IncidentContext", "iter_contexts", "select_incidents"]

incidents_t = table_of(Incident)
reports_t = table_of(Report)
links_t = table_of(IncidentReport)
roles_t = table_of(IncidentEntity)
entities_t = table_of(Entity)

_BATCH = 200
# Report text beyond this is not read: quotes that matter sit near the top of an article.
_REPORT_CHARS = 20_000

WHERE_KEYS = ("since", "until", "deployer", "developer", "harmed", "taxonomy", "search", "mode")


@dataclass(frozen=True)
class IncidentContext:
    """One incident as generation sees it."""

    pk: int
    incident_id: int
    title: str
    description: str | None
    date: dt.date | None
    modes: tuple[str, ...]
    techniques: tuple[str, ...]
    entities: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Each: {"url", "title", "text", "inputs_outputs"}.
    reports: tuple[dict[str, Any], ...] = ()


def select_incidents(
    store: Store,
    *,
    incident_ids: Sequence[int] = (),
    where: Sequence[str] = (),
    modes: Sequence[str] = (),
) -> list[int]:
    """The AIID incident ids to generate for, ascending.

    Explicit `incident_ids` are taken as given (duplicates resolved to their canonical incident);
    otherwise every incident with a failure-mode label, narrowed by each `where` filter
    (`KEY=VALUE`, keys :data:`WHERE_KEYS`) and by `modes`.

    Raises:
        StoreError: a malformed `where` filter.
        NotFoundError: an explicit incident that is not in the store.
    """
    if incident_ids and where:
        raise StoreError(
            "give either incident ids or --where filters, not both",
            hint="--where narrows the labelled incidents; --incident names them outright.",
        )
    if incident_ids:
        wanted = sorted({store.resolve_incident_id(i) for i in incident_ids})
        for i in wanted:
            store.get_incident(i)  # raises NotFoundError naming the id
        return wanted
    filters: dict[str, Any] = {"taxonomy": []}
    search: str | None = None
    wanted_modes = list(modes)
    for spec in where:
        key, sep, value = spec.partition("=")
        key = key.strip()
        if not sep or key not in WHERE_KEYS or not value:
            raise StoreError(
                f"--where {spec!r} is not KEY=VALUE with KEY one of {', '.join(WHERE_KEYS)}",
                hint='Example: --where deployer=openai --where "search=prompt injection"',
            )
        if key in ("since", "until"):
            try:
                filters[key] = dt.date.fromisoformat(value)
            except ValueError:
                raise StoreError(f"--where {spec!r}: {value!r} is not a YYYY-MM-DD date") from None
        elif key == "taxonomy":
            filters["taxonomy"].append(value)
        elif key == "search":
            search = value
        elif key == "mode":
            wanted_modes.append(value)
        else:
            filters[key] = value
    labelled = _labelled_ids(store, wanted_modes)
    if len(filters) > 1 or filters["taxonomy"]:
        listed = {row["incident_id"] for row in store.list_incidents(**filters)}
        labelled &= listed
    if search is not None:
        labelled &= {hit["incident_id"] for hit in store.search(search, limit=None)}
    return sorted(labelled)


def _labelled_ids(store: Store, modes: Sequence[str]) -> set[int]:
    labels = effective_labels(MODE_ATTRIBUTE)
    query = select(incidents_t.c.incident_id).join(labels, labels.c.incident_pk == incidents_t.c.id)
    if modes:
        query = query.where(labels.c.value.in_(list(modes)))
    with store.engine.connect() as conn:
        return {i for i in conn.execute(query.distinct()).scalars() if i is not None}


def iter_contexts(store: Store, incident_ids: Sequence[int]) -> Iterator[IncidentContext]:
    """The contexts of `incident_ids`, in that order, read in batches."""
    for start in range(0, len(incident_ids), _BATCH):
        chunk = list(incident_ids[start : start + _BATCH])
        with store.engine.connect() as conn:
            rows = {
                r.incident_id: r
                for r in conn.execute(
                    select(
                        incidents_t.c.id,
                        incidents_t.c.incident_id,
                        incidents_t.c.title,
                        incidents_t.c.description,
                        incidents_t.c.date,
                    ).where(incidents_t.c.incident_id.in_(chunk))
                )
            }
            pks = [r.id for r in rows.values()]
            labels = {
                attr: _labels_of(conn, attr, pks) for attr in (MODE_ATTRIBUTE, TECHNIQUE_ATTRIBUTE)
            }
            entities: dict[int, dict[str, list[str]]] = {}
            for pk, role, name in conn.execute(
                select(roles_t.c.incident_pk, roles_t.c.role, entities_t.c.name)
                .join(entities_t, entities_t.c.id == roles_t.c.entity_pk)
                .where(roles_t.c.incident_pk.in_(pks))
                .order_by(roles_t.c.incident_pk, roles_t.c.role, roles_t.c.position)
            ):
                entities.setdefault(pk, {}).setdefault(role, []).append(name)
            reports: dict[int, list[dict[str, Any]]] = {}
            for r in conn.execute(
                select(
                    links_t.c.incident_pk,
                    reports_t.c.url,
                    reports_t.c.title,
                    reports_t.c.plain_text,
                    reports_t.c.text,
                    reports_t.c.inputs_outputs,
                )
                .join(reports_t, reports_t.c.id == links_t.c.report_pk)
                .where(links_t.c.incident_pk.in_(pks), reports_t.c.is_stub.is_(False))
                .order_by(links_t.c.incident_pk, reports_t.c.report_number)
            ):
                reports.setdefault(r.incident_pk, []).append(
                    {
                        "url": r.url or "",
                        "title": r.title or "",
                        "text": (r.plain_text or r.text or "")[:_REPORT_CHARS],
                        "inputs_outputs": [str(x) for x in (r.inputs_outputs or []) if x],
                    }
                )
        for incident_id in chunk:
            row = rows.get(incident_id)
            if row is None:
                continue
            yield IncidentContext(
                pk=row.id,
                incident_id=incident_id,
                title=row.title,
                description=row.description,
                date=row.date,
                modes=tuple(labels[MODE_ATTRIBUTE].get(row.id, ())),
                techniques=tuple(labels[TECHNIQUE_ATTRIBUTE].get(row.id, ())),
                entities={k: tuple(v) for k, v in entities.get(row.id, {}).items()},
                reports=tuple(reports.get(row.id, ())),
            )


def _labels_of(conn: Any, attribute: str, pks: list[int]) -> dict[int, list[str]]:
    labels = effective_labels(attribute)
    out: dict[int, list[str]] = {}
    for pk, value in conn.execute(
        select(labels.c.incident_pk, labels.c.value)
        .where(labels.c.incident_pk.in_(pks))
        .order_by(labels.c.incident_pk, labels.c.value)
    ):
        if value not in out.setdefault(pk, []):
            out[pk].append(value)
    return out

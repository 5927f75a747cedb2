"""Editor decisions on what feed runs made: review candidates, accept, reject, merge, move.

Incidents and reports from feeds have no AIID number, so they are named by a prefixed key:
`f12` is the feed incident with store id 12, `r34` the feed report with store id 34; a plain
number is an AIID incident id (or report number). Every decision is recorded in
`editor_decisions` (who, when, what). Automatic runs never regroup a report that is already in
an incident, so a decision stands until another editor decision changes it.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from incidentdb._errors import DecisionError, NotFoundError
from incidentdb._models import (
    Duplicate,
    Incident,
    IncidentReport,
    Report,
    table_of,
    utc_now,
)
from incidentdb._models_feeds import EditorDecision, FeedCandidate, FeedEntryRow

__all__ = [
    "decide_candidate",
    "default_author",
    "incident_key",
    "incident_reports",
    "list_candidates",
    "merge_incidents",
    "move_report",
    "report_key",
]

incidents_t = table_of(Incident)
reports_t = table_of(Report)
links_t = table_of(IncidentReport)
dups_t = table_of(Duplicate)
candidates_t = table_of(FeedCandidate)
decisions_t = table_of(EditorDecision)
entries_t = table_of(FeedEntryRow)

_STATUSES = ("candidate", "accepted", "rejected", "merged")


def default_author() -> str:
    """Who decides when `--author` is not given: $USER (or $USERNAME), else "unknown"."""
    return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def incident_key(incident_id: int | None, pk: int) -> str:
    """How an incident is named to users: its AIID id, else `f` and its store id."""
    return str(incident_id) if incident_id is not None else f"f{pk}"


def report_key(report_number: int | None, pk: int) -> str:
    """How a report is named to users: its AIID number, else `r` and its store id."""
    return str(report_number) if report_number is not None else f"r{pk}"


def _incident_pk(conn: Connection, ref: str) -> tuple[int, int | None]:
    """(store id, AIID id) of the incident `ref` names; a merged AIID id resolves."""
    ref = ref.strip()
    if ref[:1].lower() == "f" and ref[1:].isdigit():
        row = conn.execute(
            select(incidents_t.c.id, incidents_t.c.incident_id).where(
                incidents_t.c.id == int(ref[1:]), incidents_t.c.incident_id.is_(None)
            )
        ).first()
    elif ref.isdigit():
        number = int(ref)
        canonical = conn.execute(
            select(dups_t.c.canonical_incident_id).where(dups_t.c.duplicate_incident_id == number)
        ).scalar()
        row = conn.execute(
            select(incidents_t.c.id, incidents_t.c.incident_id).where(
                incidents_t.c.incident_id == (canonical or number)
            )
        ).first()
    else:
        raise DecisionError(
            f"{ref!r} does not name an incident",
            hint="Give an AIID incident id (123) or a feed incident (f12, as `review` lists).",
        )
    if row is None:
        raise NotFoundError(f"no incident {ref}", hint="List candidates with `incidentdb review`.")
    return int(row.id), row.incident_id


def _report_pk(conn: Connection, ref: str) -> tuple[int, int | None]:
    ref = ref.strip()
    if ref[:1].lower() == "r" and ref[1:].isdigit():
        where = reports_t.c.id == int(ref[1:])
    elif ref.isdigit():
        where = reports_t.c.report_number == int(ref)
    else:
        raise DecisionError(
            f"{ref!r} does not name a report",
            hint="Give an AIID report number (456) or a feed report (r34).",
        )
    row = conn.execute(select(reports_t.c.id, reports_t.c.report_number).where(where)).first()
    if row is None:
        raise NotFoundError(f"no report {ref}")
    return int(row.id), row.report_number


def _record(conn: Connection, action: str, author: str, **values: Any) -> int:
    return int(
        conn.execute(
            insert(decisions_t)
            .values(action=action, author=author, created_at=utc_now(), **values)
            .returning(decisions_t.c.id)
        ).scalar_one()
    )


def list_candidates(
    engine: Engine, *, status: str = "candidate", limit: int | None = None
) -> list[dict[str, Any]]:
    """Feed incidents with `status` (or "all"), newest first, with their best matches."""
    if status != "all" and status not in _STATUSES:
        raise DecisionError(
            f"unknown status {status!r}", hint=f"Use one of: all, {', '.join(_STATUSES)}."
        )
    reports = (
        select(func.count())
        .select_from(links_t)
        .where(links_t.c.incident_pk == incidents_t.c.id)
        .scalar_subquery()
    )
    query = (
        select(
            incidents_t.c.id,
            incidents_t.c.date,
            incidents_t.c.title,
            candidates_t.c.status,
            candidates_t.c.best_matches,
            candidates_t.c.decided_by,
            reports.label("reports"),
        )
        .join(candidates_t, candidates_t.c.incident_pk == incidents_t.c.id)
        .order_by(incidents_t.c.id.desc())
        .limit(limit)
    )
    if status != "all":
        query = query.where(candidates_t.c.status == status)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        wanted = {m["incident_pk"] for r in rows for m in (r.best_matches or [])}
        keys = {
            pk: incident_key(number, pk)
            for pk, number in conn.execute(
                select(incidents_t.c.id, incidents_t.c.incident_id).where(
                    incidents_t.c.id.in_(wanted)
                )
            )
        }
    return [
        {
            "incident": incident_key(None, r.id),
            "date": r.date,
            "title": r.title,
            "reports": r.reports,
            "status": r.status,
            "best_matches": [
                f"{keys.get(m['incident_pk'], '?')} ({m['score']:.2f})"
                for m in (r.best_matches or [])
            ],
            "decided_by": r.decided_by,
        }
        for r in rows
    ]


def incident_reports(engine: Engine, ref: str) -> list[dict[str, Any]]:
    """The reports of incident `ref` (AIID id or f<id>), with the relevance filter's score and
    evidence for those that came from feeds, oldest first.

    Raises:
        NotFoundError: no such incident.
    """
    with engine.connect() as conn:
        pk, _ = _incident_pk(conn, ref)
        rows = conn.execute(
            select(
                reports_t.c.id,
                reports_t.c.report_number,
                reports_t.c.date_published,
                reports_t.c.title,
                reports_t.c.url,
                entries_t.c.score,
                entries_t.c.evidence,
            )
            .join(links_t, links_t.c.report_pk == reports_t.c.id)
            .outerjoin(entries_t, entries_t.c.report_pk == reports_t.c.id)
            .where(links_t.c.incident_pk == pk)
            .order_by(reports_t.c.date_published.nulls_last(), reports_t.c.id)
        ).all()
    return [
        {
            "report": report_key(r.report_number, r.id),
            "date": r.date_published,
            "title": r.title,
            "url": r.url,
            "score": r.score,
            "evidence": r.evidence or [],
        }
        for r in rows
    ]


def decide_candidate(engine: Engine, ref: str, action: str, author: str) -> dict[str, Any]:
    """Accept or reject a candidate incident (`action` is "accept" or "reject").

    Raises:
        NotFoundError: no such incident.
        DecisionError: it is not a feed incident, or was merged away.
    """
    status = {"accept": "accepted", "reject": "rejected"}[action]
    with engine.begin() as conn:
        pk, number = _incident_pk(conn, ref)
        current = conn.execute(
            select(candidates_t.c.status).where(candidates_t.c.incident_pk == pk)
        ).scalar()
        if current is None:
            raise DecisionError(
                f"incident {incident_key(number, pk)} came from AIID, not from a feed run",
                hint="Only feed incidents (f…) are accepted or rejected here.",
            )
        if current == "merged":
            raise DecisionError(
                f"incident {ref} was merged into another; decide on that one",
                hint="`incidentdb review --status merged` lists merged candidates.",
            )
        now = utc_now()
        conn.execute(
            update(candidates_t)
            .where(candidates_t.c.incident_pk == pk)
            .values(status=status, decided_at=now, decided_by=author)
        )
        decision = _record(
            conn, action, author, incident_pk=pk, details={"from": current, "to": status}
        )
    return {"decision": decision, "incident": incident_key(None, pk), "status": status}


def merge_incidents(engine: Engine, into: str, merged: str, author: str) -> dict[str, Any]:
    """Merge incident `merged` into `into`: its reports move over; it is marked merged.

    The incident that disappears must be a feed incident: AIID's own incidents are merged by
    AIID (and arrive as duplicates in its snapshots).

    Raises:
        NotFoundError: either incident does not exist.
        DecisionError: the same incident twice, or `merged` is an AIID incident.
    """
    with engine.begin() as conn:
        into_pk, into_number = _incident_pk(conn, into)
        gone_pk, gone_number = _incident_pk(conn, merged)
        if into_pk == gone_pk:
            raise DecisionError(f"cannot merge incident {into} into itself")
        status = conn.execute(
            select(candidates_t.c.status).where(candidates_t.c.incident_pk == gone_pk)
        ).scalar()
        if status is None:
            raise DecisionError(
                f"incident {merged} came from AIID; only feed incidents (f…) can be merged away",
                hint=f"Merge the other way round: `incidents merge {merged} {into}`.",
            )
        into_status = conn.execute(
            select(candidates_t.c.status).where(candidates_t.c.incident_pk == into_pk)
        ).scalar()
        if into_status == "merged":
            raise DecisionError(f"incident {into} was itself merged away; merge into its target")
        moved = _move_links(conn, gone_pk, into_pk)
        now = utc_now()
        conn.execute(
            update(candidates_t)
            .where(candidates_t.c.incident_pk == gone_pk)
            .values(status="merged", merged_into_pk=into_pk, decided_at=now, decided_by=author)
        )
        decision = _record(
            conn,
            "merge",
            author,
            incident_pk=gone_pk,
            target_incident_pk=into_pk,
            details={"reports_moved": moved, "from_status": status},
        )
    return {
        "decision": decision,
        "merged": incident_key(gone_number, gone_pk),
        "into": incident_key(into_number, into_pk),
        "reports_moved": moved,
    }


def _move_links(conn: Connection, from_pk: int, to_pk: int) -> int:
    reports = list(
        conn.execute(select(links_t.c.report_pk).where(links_t.c.incident_pk == from_pk)).scalars()
    )
    already = set(
        conn.execute(
            select(links_t.c.report_pk).where(
                links_t.c.incident_pk == to_pk, links_t.c.report_pk.in_(reports)
            )
        ).scalars()
    )
    conn.execute(delete(links_t).where(links_t.c.incident_pk == from_pk))
    for report_pk in reports:
        if report_pk not in already:
            conn.execute(insert(links_t).values(incident_pk=to_pk, report_pk=report_pk))
    return len(reports)


def move_report(engine: Engine, report: str, to: str, author: str) -> dict[str, Any]:
    """Move a feed report out of its incident(s) into incident `to`.

    Raises:
        NotFoundError: no such report or incident.
        DecisionError: the report is an AIID report (AIID's snapshots decide where it belongs),
            or the target was merged away.
    """
    with engine.begin() as conn:
        report_pk, number = _report_pk(conn, report)
        if number is not None:
            raise DecisionError(
                f"report {number} is an AIID report; AIID's snapshots decide its incident",
                hint="Feed reports are named r… in `incidentdb incidents show`.",
            )
        to_pk, to_number = _incident_pk(conn, to)
        status = conn.execute(
            select(candidates_t.c.status).where(candidates_t.c.incident_pk == to_pk)
        ).scalar()
        if status == "merged":
            raise DecisionError(f"incident {to} was merged away; move the report to its target")
        before = list(
            conn.execute(
                select(links_t.c.incident_pk).where(links_t.c.report_pk == report_pk)
            ).scalars()
        )
        conn.execute(delete(links_t).where(links_t.c.report_pk == report_pk))
        conn.execute(insert(links_t).values(incident_pk=to_pk, report_pk=report_pk))
        decision = _record(
            conn,
            "move",
            author,
            report_pk=report_pk,
            target_incident_pk=to_pk,
            details={"from_incident_pks": before},
        )
        from_keys = sorted(_incident_keys(conn, set(before)).values())
    return {
        "decision": decision,
        "report": report_key(None, report_pk),
        "to": incident_key(to_number, to_pk),
        "from": from_keys,
    }


def _incident_keys(conn: Connection, pks: set[int]) -> dict[int, str]:
    return {
        pk: incident_key(number, pk)
        for pk, number in conn.execute(
            select(incidents_t.c.id, incidents_t.c.incident_id).where(incidents_t.c.id.in_(pks))
        )
    }


def list_decisions(engine: Engine, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Editor decisions, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(decisions_t).order_by(decisions_t.c.id.desc()).limit(limit)
        ).all()
        keys = _incident_keys(
            conn,
            {pk for r in rows for pk in (r.incident_pk, r.target_incident_pk) if pk is not None},
        )
    return [
        {
            "id": r.id,
            "action": r.action,
            "incident": keys.get(r.incident_pk) if r.incident_pk is not None else None,
            "report": f"r{r.report_pk}" if r.report_pk is not None else None,
            "target": keys.get(r.target_incident_pk) if r.target_incident_pk is not None else None,
            "author": r.author,
            "created_at": r.created_at,
        }
        for r in rows
    ]

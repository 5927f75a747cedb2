"""Trends: incidents counted per period and group, as one SQL GROUP BY in the database.

A trend query buckets incidents by date (``month`` → ``2024-07``, ``quarter`` → ``2024-Q3``,
``year`` → ``2024``; the same labels on SQLite, where dates are ISO text, and on PostgreSQL) and
by one dimension:

- ``failure_mode`` / ``technique``: our effective labels (:mod:`incidentdb._labels`: the human
  decision where one exists, else the newest classifier run);
- ``deployer`` / ``developer`` / ``harmed``: the entity's name in that role;
- ``taxonomy:NS:ATTR``: the values of an imported classification attribute (e.g.
  ``taxonomy:MIT:Risk Domain``).

An incident with several groups counts once in each. Beside the rows, a :class:`Trends` says how
many incidents the range holds, how many of them have no group for the dimension (never
classified, or no entity in that role) and how many match the filters but have no date (they
cannot be placed in a period, so they are counted apart instead of being dropped). Merged
duplicates never count; private ("company") incidents only when asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, Text, and_, case, cast, distinct, func, or_, select
from sqlalchemy.engine import Connection

from incidentdb._errors import QueryError
from incidentdb._filters import parse_taxonomy_spec, with_classification, with_entity
from incidentdb._labels import (
    MODE_ATTRIBUTE,
    TECHNIQUE_ATTRIBUTE,
    classified_incidents,
    effective_labels,
)
from incidentdb._models import (
    Classification,
    Duplicate,
    Entity,
    Incident,
    IncidentEntity,
    IngestRun,
    table_of,
)
from incidentdb._records import SourceKind

__all__ = [
    "DIMENSIONS",
    "PERIODS",
    "PRIVATE_SOURCES",
    "WHERE_KEYS",
    "Trends",
    "incident_conditions",
    "parse_where",
    "period_labels",
    "snapshot_date",
    "trends",
]

PERIODS = ("month", "quarter", "year")
DIMENSIONS = ("failure_mode", "technique", "deployer", "developer", "harmed", "taxonomy:NS:ATTR")
WHERE_KEYS = ("deployer", "developer", "harmed", "failure_mode", "technique", "taxonomy")
# Sources whose incidents are an organisation's own: never in trends or exports unless asked.
PRIVATE_SOURCES = ("company",)

_incidents = table_of(Incident)
_roles = table_of(IncidentEntity)
_entities = table_of(Entity)
_class = table_of(Classification)
_dups = table_of(Duplicate)
_runs = table_of(IngestRun)
_IMPORTED_KINDS = (SourceKind.IMPORTED_HUMAN.value, SourceKind.IMPORTED_MACHINE.value)
_LABEL_ATTRIBUTES = {"failure_mode": MODE_ATTRIBUTE, "technique": TECHNIQUE_ATTRIBUTE}
_ROLES = ("deployer", "developer", "harmed")


@dataclass(frozen=True)
class Trends:
    """The result of a trend query.

    Attributes:
        rows: one dict per (period, group) with at least one incident: ``period``, ``group``,
            ``incidents``, sorted by period then group; ``pandas.DataFrame(rows)`` takes them as
            they are.
        by: the dimension grouped by.
        period: ``month``, ``quarter`` or ``year``.
        incidents: dated incidents in the range that match the filters.
        unclassified: how many of those have no group for this dimension (never labelled for a
            failure mode or technique; no entity in that role; no value of that attribute).
        undated: incidents that match the filters but have no date (outside every period).
        snapshot_date: the date of the newest imported snapshot, or None.
    """

    rows: list[dict[str, Any]]
    by: str
    period: str
    incidents: int
    unclassified: int
    undated: int
    since: dt.date | None = None
    until: dt.date | None = None
    snapshot_date: dt.date | None = None
    where: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Everything but the rows, for a JSON document or a message."""
        return {
            "by": self.by,
            "period": self.period,
            "since": self.since,
            "until": self.until,
            "where": self.where,
            "incidents": self.incidents,
            "unclassified": self.unclassified,
            "undated": self.undated,
            "snapshot_date": self.snapshot_date,
        }


def parse_where(specs: Iterable[str]) -> dict[str, list[str]]:
    """``["deployer=Acme", "taxonomy=MIT:Entity=AI"]`` → ``{"deployer": ["Acme"], …}``.

    Raises:
        QueryError: a spec is not ``KEY=VALUE`` with a known key.
    """
    where: dict[str, list[str]] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not value or key not in WHERE_KEYS:
            raise QueryError(
                f"filter {spec!r} is not KEY=VALUE with KEY one of {', '.join(WHERE_KEYS)}",
                hint='Example: --where deployer=Acme --where "taxonomy=MIT:Entity=AI"',
            )
        where.setdefault(key, []).append(value)
    return where


def incident_conditions(
    where: Mapping[str, Sequence[str]] | None, *, include_private: bool = False
) -> list[Any]:
    """WHERE clauses on ``incidents`` for the filters (all must hold) and the privacy rule."""
    conditions: list[Any] = [
        # The writer folds merged duplicates away; this keeps one that slipped in from counting.
        # An uncorrelated NOT IN is one lookup table for the whole query; incidents of other
        # sources have no AIID id, and NULL NOT IN (…) would drop them.
        or_(
            _incidents.c.incident_id.is_(None),
            _incidents.c.incident_id.not_in(select(_dups.c.duplicate_incident_id)),
        ),
    ]
    if not include_private:
        conditions.append(_incidents.c.source.not_in(PRIVATE_SOURCES))
    for key, values in (where or {}).items():
        for value in values:
            if key in _ROLES:
                conditions.append(_incidents.c.id.in_(with_entity(key, value)))
            elif key in _LABEL_ATTRIBUTES:
                labels = effective_labels(_LABEL_ATTRIBUTES[key])
                conditions.append(
                    _incidents.c.id.in_(select(labels.c.incident_pk).where(labels.c.value == value))
                )
            elif key == "taxonomy":
                parsed = parse_taxonomy_spec(
                    value,
                    QueryError,
                    'Example: --where "taxonomy=MIT:Risk Domain=2. Privacy & Security"',
                )
                conditions.append(_incidents.c.id.in_(with_classification(*parsed)))
            else:
                raise QueryError(
                    f"unknown filter {key!r}", hint=f"Filters: {', '.join(WHERE_KEYS)}."
                )
    return conditions


def period_expression(period: str, dialect: str) -> Any:
    """The SQL label of an incident's period, identical on SQLite and PostgreSQL."""
    date = _incidents.c.date
    if dialect == "sqlite":
        # Dates are ISO text here: slicing is cheaper than strftime and gives the same labels.
        if period == "year":
            return func.substr(date, 1, 4)
        if period == "month":
            return func.substr(date, 1, 7)
        quarter = (cast(func.substr(date, 6, 2), Integer) + 2) // 3
        return func.substr(date, 1, 4).concat("-Q").concat(cast(quarter, Text))
    pattern = {"year": "YYYY", "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q'}[period]
    return func.to_char(date, pattern)


def _grouping(by: str) -> tuple[Any, Any, Any]:
    """(subquery of incident_pk + grp, the condition "this incident has no group", label)."""
    if by in _LABEL_ATTRIBUTES:
        attribute = _LABEL_ATTRIBUTES[by]
        labels = effective_labels(attribute)
        grouped = select(labels.c.incident_pk, labels.c.value.label("grp")).subquery("grouped")
        classified = classified_incidents(attribute)
        return grouped, _incidents.c.id.not_in(select(classified.c.incident_pk)), by
    if by in _ROLES:
        grouped = (
            select(_roles.c.incident_pk, _entities.c.name.label("grp"))
            .join(_entities, _entities.c.id == _roles.c.entity_pk)
            .where(_roles.c.role == by)
            .subquery("grouped")
        )
        # NOT IN an uncorrelated subquery: a correlated NOT EXISTS here makes SQLite walk the
        # (role, entity, incident) index once per incident, quadratic in the store's size.
        none = _incidents.c.id.not_in(select(_roles.c.incident_pk).where(_roles.c.role == by))
        return grouped, none, by
    if by.startswith("taxonomy:"):
        namespace, sep, attribute = by.removeprefix("taxonomy:").partition(":")
        if sep and namespace and attribute:
            value_rows = and_(
                _class.c.namespace == namespace,
                _class.c.attribute == attribute,
                _class.c.source_kind.in_(_IMPORTED_KINDS),
                _class.c.value.is_not(None),
                _class.c.value != "",
            )
            grouped = (
                select(_class.c.incident_pk, _class.c.value.label("grp"))
                .where(value_rows)
                .subquery("grouped")
            )
            none = _incidents.c.id.not_in(select(_class.c.incident_pk).where(value_rows))
            return grouped, none, by
    raise QueryError(
        f"cannot group by {by!r}",
        hint="Group by one of failure_mode, technique, deployer, developer, harmed or "
        'taxonomy:NAMESPACE:ATTRIBUTE (e.g. "taxonomy:MIT:Risk Domain").',
    )


def trends(
    conn: Connection,
    *,
    by: str,
    period: str = "year",
    since: dt.date | None = None,
    until: dt.date | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    include_private: bool = False,
) -> Trends:
    """Count incidents per period and group on `conn` (see the module docstring).

    Raises:
        QueryError: an unknown period, dimension or filter, or `since` after `until`.
    """
    if period not in PERIODS:
        raise QueryError(f"unknown period {period!r}", hint=f"Periods: {', '.join(PERIODS)}.")
    if since is not None and until is not None and since > until:
        raise QueryError(f"--since {since} is after --until {until}")
    grouped, ungrouped, label = _grouping(by)
    base = incident_conditions(where, include_private=include_private)
    if conn.dialect.name == "postgresql":
        _analytic_settings(conn)
    dated: list[Any] = [_incidents.c.date.is_not(None)]
    if since is not None:
        dated.append(_incidents.c.date >= since)
    if until is not None:
        dated.append(_incidents.c.date <= until)
    bucket = period_expression(period, conn.dialect.name).label("period")
    group_col = grouped.c.grp.label("group")
    counts = (
        select(bucket, group_col, func.count(distinct(_incidents.c.id)).label("incidents"))
        .select_from(_incidents.join(grouped, grouped.c.incident_pk == _incidents.c.id))
        .where(*base, *dated)
        .group_by(bucket, group_col)
        .order_by(bucket, _bytewise(grouped.c.grp, conn.dialect.name))
    )
    rows = [{"period": p, "group": g, "incidents": int(n)} for p, g, n in conn.execute(counts)]
    in_range = and_(*dated)
    totals = select(
        func.coalesce(func.sum(case((in_range, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(in_range, ungrouped), 1), else_=0)), 0),
        func.coalesce(func.sum(case((_incidents.c.date.is_(None), 1), else_=0)), 0),
    ).where(*base)
    incidents, unclassified, undated = (int(v) for v in conn.execute(totals).one())
    return Trends(
        rows=rows,
        by=label,
        period=period,
        incidents=incidents,
        unclassified=unclassified,
        undated=undated,
        since=since,
        until=until,
        snapshot_date=snapshot_date(conn),
        where={k: list(v) for k, v in (where or {}).items()},
    )


def _analytic_settings(conn: Connection) -> None:
    """Plan the trend queries as the whole-table aggregates they are (this transaction only).

    The window functions behind the effective labels leave PostgreSQL's planner guessing one
    row per subquery, so it picks nested loops that rescan a hundred thousand label rows per
    incident: 45 s instead of 2 s for a filtered trend on 100,000 incidents. Hash joins and
    in-memory sorts are right for every query here.
    """
    conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def _bytewise(column: Any, dialect: str) -> Any:
    # Code-point order on both databases (SQLite's BINARY), whatever PostgreSQL's locale is.
    return column.collate("C") if dialect == "postgresql" else column


def snapshot_date(conn: Connection) -> dt.date | None:
    """The date of the newest snapshot an ingest run imported, if any said."""
    newest = conn.execute(
        select(func.max(_runs.c.source_date)).where(
            _runs.c.outcome.in_(("succeeded", "unchanged")), _runs.c.source_date.is_not(None)
        )
    ).scalar()
    if newest is None:
        return None
    if isinstance(newest, str):  # a bare max() over SQLite text loses the column type
        newest = dt.datetime.fromisoformat(newest)
    return newest.date() if isinstance(newest, dt.datetime) else newest


def period_labels(first: str, last: str, period: str) -> list[str]:
    """Every period label from `first` to `last` inclusive, so charts show empty periods too."""
    if period == "year":
        return [str(y) for y in range(int(first), int(last) + 1)]
    if period == "month":
        start, end = _month_index(first), _month_index(last)
        return [f"{i // 12}-{i % 12 + 1:02d}" for i in range(start, end + 1)]
    start = int(first[:4]) * 4 + int(first[-1]) - 1
    end = int(last[:4]) * 4 + int(last[-1]) - 1
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(start, end + 1)]


def _month_index(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1

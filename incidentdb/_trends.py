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

from sqlalchemy import (
    TIMESTAMP,
    Integer,
    Text,
    and_,
    cast,
    distinct,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection

from incidentdb._errors import QueryError
from incidentdb._filters import parse_taxonomy_spec, with_classification, with_entity
from incidentdb._labels import MODE_ATTRIBUTE, TECHNIQUE_ATTRIBUTE, effective_labels
from incidentdb._models import (
    Classification,
    Duplicate,
    Entity,
    Incident,
    IncidentEntity,
    IngestRun,
    table_of,
)
from incidentdb._models_curlabels import CurrentLabel
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
_current = table_of(CurrentLabel)
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


def _month(dialect: str, date: Any) -> Any:
    """The month of `date`, spelled as in migration 0008's trend indexes.

    The database groups by this expression in index order only if it is the indexed one,
    literally: constants inline, not bound parameters.
    """
    if dialect == "sqlite":
        return func.substr(date, literal_column("1"), literal_column("7"))
    return func.date_trunc(literal_column("'month'"), cast(date, TIMESTAMP))


def _label(period: str, dialect: str, month: Any) -> Any:
    """The period label of a :func:`_month` key."""
    if dialect != "sqlite":
        pattern = {"year": "YYYY", "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q'}[period]
        return func.to_char(month, literal_column(f"'{pattern}'"))
    if period == "month":
        return month
    year = func.substr(month, literal_column("1"), literal_column("4"))
    if period == "year":
        return year
    quarter = (cast(func.substr(month, literal_column("6"), literal_column("2")), Integer) + 2) // 3
    return year.concat("-Q").concat(cast(quarter, Text))


@dataclass(frozen=True)
class _Dimension:
    """Where a dimension's rows live: one row per (incident, group), with the incident's date.

    ``rows`` selects ``incident_pk``, ``grp`` and ``incident_date`` from one table (plus the
    entity names for roles), restricted to the dimension; ``marked`` selects the same table's
    rows that make an incident "classified" for it. ``distinct``: an incident can have two rows
    with the same group (two entities with one name, two annotators' documents), so it counts
    once only with ``count(DISTINCT …)``.
    """

    rows: Any
    marked: Any
    distinct: bool
    # An index walks `marked` in incident order (labels, roles): grouping by incident counts
    # without sorting. Else count(DISTINCT), which sorts whatever index the planner picks.
    marked_in_order: bool = True


def _dimension(by: str) -> _Dimension:
    if by in _LABEL_ATTRIBUTES:
        attribute = _LABEL_ATTRIBUTES[by]
        rows = select(
            _current.c.incident_pk, _current.c.value.label("grp"), _current.c.incident_date
        ).where(_current.c.attribute == attribute, _current.c.value.is_not(None))
        # Every classified incident has a row, a NULL-value one when nothing applies; the
        # unique (incident, attribute, value) makes count(*) exact.
        marked = select(_current.c.incident_pk, _current.c.incident_date).where(
            _current.c.attribute == attribute
        )
        return _Dimension(rows, marked, distinct=False)
    if by in _ROLES:
        # The entity's name is copied beside the role row (migration 0008): no join.
        rows = select(
            _roles.c.incident_pk, _roles.c.entity_name.label("grp"), _roles.c.incident_date
        ).where(_roles.c.role == by)
        marked = select(_roles.c.incident_pk, _roles.c.incident_date).where(_roles.c.role == by)
        return _Dimension(rows, marked, distinct=True)
    if by.startswith("taxonomy:"):
        namespace, sep, attribute = by.removeprefix("taxonomy:").partition(":")
        if sep and namespace and attribute:
            value_rows = and_(
                _class.c.namespace == namespace,
                _class.c.attribute == attribute,
                _class.c.value.is_not(None),
                _class.c.value != "",
                _class.c.source_kind.in_(_IMPORTED_KINDS),
            )
            rows = select(
                _class.c.incident_pk, _class.c.value.label("grp"), _class.c.incident_date
            ).where(value_rows)
            marked = select(_class.c.incident_pk, _class.c.incident_date).where(value_rows)
            return _Dimension(rows, marked, distinct=True, marked_in_order=False)
    raise QueryError(
        f"cannot group by {by!r}",
        hint="Group by one of failure_mode, technique, deployer, developer, harmed or "
        'taxonomy:NAMESPACE:ATTRIBUTE (e.g. "taxonomy:MIT:Risk Domain").',
    )


def _hidden(include_private: bool) -> Any:
    """The incidents no trend counts: merged duplicates, and private ones unless asked.

    A short list in practice (the writer folds duplicates away, company incidents are few),
    found through indexes and tested once per row as ``incident_pk NOT IN (…)``.
    """
    duplicates = select(_incidents.c.id).where(
        _incidents.c.incident_id.in_(select(_dups.c.duplicate_incident_id))
    )
    if include_private:
        return duplicates
    return union_all(
        duplicates, select(_incidents.c.id).where(_incidents.c.source.in_(PRIVATE_SOURCES))
    )


# Up to this many hidden incidents are read first and written into the statements as a list.
_HIDDEN_INLINE = 1000


def _visible_rule(conn: Connection, include_private: bool) -> Any:
    """A function of an incident key column → the conditions that leave the hidden out.

    The hidden are read first (a few index lookups): usually there are none, and then the
    statements test nothing per row; a short list is tested as literals; a long one stays a
    subquery.
    """
    hidden = _hidden(include_private)
    found = list(conn.execute(hidden.limit(_HIDDEN_INLINE + 1)).scalars())
    if not found:
        return lambda _pk: []
    if len(found) > _HIDDEN_INLINE:
        return lambda pk: [pk.not_in(hidden)]
    return lambda pk: [pk.not_in(found)]


def _filter_sets(where: Mapping[str, Sequence[str]] | None) -> list[Any]:
    """Each --where filter as a SELECT of ``incident_pk, incident_date`` (all must hold).

    The rows come from the filter's own table, which carries the incident's date (0007).
    """
    sets: list[Any] = []
    for key, values in (where or {}).items():
        for value in values:
            if key in _ROLES:
                sets.append(with_entity(key, value).add_columns(_roles.c.incident_date))
            elif key in _LABEL_ATTRIBUTES:
                sets.append(
                    select(_current.c.incident_pk, _current.c.incident_date).where(
                        _current.c.attribute == _LABEL_ATTRIBUTES[key],
                        _current.c.value == value,
                    )
                )
            elif key == "taxonomy":
                parsed = parse_taxonomy_spec(
                    value,
                    QueryError,
                    'Example: --where "taxonomy=MIT:Risk Domain=2. Privacy & Security"',
                )
                sets.append(with_classification(*parsed).add_columns(_class.c.incident_date))
            else:
                raise QueryError(
                    f"unknown filter {key!r}", hint=f"Filters: {', '.join(WHERE_KEYS)}."
                )
    return sets


def _keys(filter_set: Any) -> Any:
    return filter_set.with_only_columns(filter_set.selected_columns[0])


def _filters(pk: Any, where: Mapping[str, Sequence[str]] | None) -> list[Any]:
    """The --where filters (all must hold) as ``pk IN (…)`` conditions."""
    return [pk.in_(_keys(filter_set)) for filter_set in _filter_sets(where)]


def _probed(pk: Any, dialect: str) -> Any:
    """`pk` as an expression, so that SQLite tests ``IN (filter)`` per row of the index it
    walks instead of looking up every filtered incident and sorting (PostgreSQL weighs both)."""
    return pk + 0 if dialect == "sqlite" else pk


def _in_range(date: Any, since: dt.date | None, until: dt.date | None) -> list[Any]:
    conditions = [date.is_not(None)]
    if since is not None:
        conditions.append(date >= since)
    if until is not None:
        conditions.append(date <= until)
    return conditions


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

    A look-up of the hidden incidents, then three statements, each reading one index range:
    the counts per (group, month) from the dimension's own rows, which carry the incident's
    date (and, for roles, the entity's name), in the order of the dimension's trend index
    (migration 0008), summed to quarters or years afterwards; how many incidents in the range
    the dimension marks as classified; and how many incidents the range and the filters hold
    (dated and undated) from `incidents`. Unclassified is the difference of the last two.

    Raises:
        QueryError: an unknown period, dimension or filter, or `since` after `until`.
    """
    if period not in PERIODS:
        raise QueryError(f"unknown period {period!r}", hint=f"Periods: {', '.join(PERIODS)}.")
    if since is not None and until is not None and since > until:
        raise QueryError(f"--since {since} is after --until {until}")
    dimension = _dimension(by)
    hidden = _visible_rule(conn, include_private)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        _analytic_settings(conn)

    rows_q = dimension.rows.subquery("dimension")
    # Grouped by (group, month) first, the order of the dimension's trend index (migration
    # 0008): the database walks each group's months in order and counts without sorting the
    # rows. Periods are labelled and summed afterwards over those few rows; exact for
    # distinct counts too, since an incident lies in one month, quarter and year only.
    month = _month(dialect, rows_q.c.incident_date)
    conditions = [
        *_in_range(rows_q.c.incident_date, since, until),
        *hidden(rows_q.c.incident_pk),
        *_filters(_probed(rows_q.c.incident_pk, dialect), where),
    ]
    if dimension.distinct and dialect != "sqlite":
        # PostgreSQL sorts every group's rows for a count(DISTINCT); in index order an
        # incident's rows of one group and month are already side by side, and DISTINCT
        # drops the repeats in passing.
        once = (
            select(rows_q.c.grp, month.label("month"), rows_q.c.incident_pk)
            .where(*conditions)
            .distinct()
            .subquery("once")
        )
        grouped = select(once.c.month, once.c.grp, func.count().label("incidents")).group_by(
            once.c.grp, once.c.month
        )
    else:
        # SQLite counts distinct values that arrive in order without a temporary table.
        counted = func.count(distinct(rows_q.c.incident_pk)) if dimension.distinct else func.count()
        grouped = (
            select(month.label("month"), rows_q.c.grp.label("grp"), counted.label("incidents"))
            .where(*conditions)
            .group_by(rows_q.c.grp, month)
        )
    keyed = grouped.subquery("keyed")
    label = _label(period, dialect, keyed.c.month).label("period")
    if period == "month":
        counts = select(label, keyed.c.grp, keyed.c.incidents).order_by(
            keyed.c.month, _bytewise(keyed.c.grp, dialect)
        )
    elif dialect == "sqlite":
        counts = (
            select(label, keyed.c.grp, func.sum(keyed.c.incidents))
            .group_by(label, keyed.c.grp)
            .order_by(label, keyed.c.grp)
        )
    else:
        # Summed per truncated timestamp and byte-ordered name, labelled last: to_char() and
        # the locale's string comparisons per month row cost more than the sums.
        start = func.date_trunc(literal_column(f"'{period}'"), keyed.c.month).label("start")
        name = _bytewise(keyed.c.grp, dialect).label("grp")
        summed = (
            select(start, name, func.sum(keyed.c.incidents).label("incidents"))
            .group_by(start, name)
            .subquery("summed")
        )
        counts = select(
            _label(period, dialect, summed.c.start), summed.c.grp, summed.c.incidents
        ).order_by(summed.c.start, summed.c.grp)
    rows = [{"period": p, "group": g, "incidents": int(n)} for p, g, n in conn.execute(counts)]

    marked = dimension.marked.subquery("marked")
    marked_conditions = [
        *_in_range(marked.c.incident_date, since, until),
        *hidden(marked.c.incident_pk),
        *_filters(_probed(marked.c.incident_pk, dialect), where),
    ]
    if dimension.marked_in_order and dialect == "sqlite":
        # Grouped by incident rather than count(DISTINCT): SQLite then walks the (dimension,
        # incident) index without sorting (for count(DISTINCT) it picked the trend index and
        # sorted). PostgreSQL does as well or better with count(DISTINCT) (a filtered count:
        # 53 against 88 ms of server CPU).
        per_incident = (
            select(marked.c.incident_pk)
            .where(*marked_conditions)
            .group_by(marked.c.incident_pk)
            .subquery("per_incident")
        )
        classified_q = select(func.count()).select_from(per_incident)
    else:
        classified_q = select(func.count(distinct(marked.c.incident_pk))).where(*marked_conditions)
    classified = conn.execute(classified_q).scalar_one()
    if where:
        # Counted from the first filter's own rows, which carry the incident's date: one
        # index range instead of a look-up in `incidents` per filtered incident.
        first, *others = _filter_sets(where)
        found = first.subquery("filtered")
        pk = _probed(found.c.incident_pk, dialect)
        rest = [*hidden(found.c.incident_pk), *(pk.in_(_keys(other)) for other in others)]
        counted = func.count(distinct(found.c.incident_pk))
        incidents = conn.execute(
            select(counted).where(*_in_range(found.c.incident_date, since, until), *rest)
        ).scalar_one()
        undated = conn.execute(
            select(counted).where(found.c.incident_date.is_(None), *rest)
        ).scalar_one()
    else:
        # Two index ranges of `incidents.date`.
        visible = hidden(_incidents.c.id)
        incidents = conn.execute(
            select(func.count()).where(*_in_range(_incidents.c.date, since, until), *visible)
        ).scalar_one()
        undated = conn.execute(
            select(func.count()).where(_incidents.c.date.is_(None), *visible)
        ).scalar_one()
    return Trends(
        rows=rows,
        by=by,
        period=period,
        incidents=int(incidents),
        unclassified=int(incidents) - int(classified),
        undated=int(undated),
        since=since,
        until=until,
        snapshot_date=snapshot_date(conn),
        where={k: list(v) for k, v in (where or {}).items()},
    )


def _analytic_settings(conn: Connection) -> None:
    """Room for hash aggregates in memory, and no parallel workers (this transaction only).

    The trend statements walk ordered index ranges of 100,000-150,000 entries in 10-100 ms;
    a parallel plan (chosen for the filtered ones) spends the time saved starting workers on
    a machine with few cores, and its workers' CPU is invisible to a per-query measurement.
    """
    conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


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

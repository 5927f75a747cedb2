"""Incident filters shared by `Store.list_incidents` and trends.

Each is an uncorrelated subquery of `incident_pk`s, used as ``incidents.id IN (…)``: a
correlated EXISTS makes SQLite walk the index once per incident, quadratic on a large store,
where an IN subquery is evaluated once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from incidentdb._errors import StoreError
from incidentdb._models import Classification, Entity, IncidentEntity, table_of

__all__ = ["parse_taxonomy_spec", "with_classification", "with_entity"]

_class = table_of(Classification)
_roles = table_of(IncidentEntity)
_entities = table_of(Entity)


def parse_taxonomy_spec(
    spec: str, error: type[StoreError] = StoreError, example: str = ""
) -> tuple[str, str, str | None]:
    """Split ``NAMESPACE:ATTRIBUTE[=VALUE]`` into (namespace, attribute, value or None).

    Raises:
        StoreError: (or `error`) the spec lacks the namespace or the attribute; `example` is
            the hint, phrased for the caller's option.
    """
    namespace, sep, rest = spec.partition(":")
    if not sep or not namespace or not rest:
        raise error(f"taxonomy filter {spec!r} is not NAMESPACE:ATTRIBUTE[=VALUE]", hint=example)
    attribute, has_value, value = rest.partition("=")
    return namespace, attribute, value if has_value else None


def with_classification(namespace: str, attribute: str, value: str | None = None) -> Any:
    """The incidents classified with `attribute` of `namespace` (`value` if given)."""
    query = select(_class.c.incident_pk).where(
        _class.c.namespace == namespace, _class.c.attribute == attribute
    )
    return query if value is None else query.where(_class.c.value == value)


def with_entity(role: str, who: str) -> Any:
    """The incidents with an entity in `role` whose slug or name is `who` (any case)."""
    needle = who.lower()
    return (
        select(_roles.c.incident_pk)
        .join(_entities, _entities.c.id == _roles.c.entity_pk)
        .where(
            _roles.c.role == role,
            or_(func.lower(_entities.c.slug) == needle, func.lower(_entities.c.name) == needle),
        )
    )

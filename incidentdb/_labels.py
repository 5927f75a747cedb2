"""Our failure-mode labels in the classifications table, and which of them a query believes.

Rows live in `classifications` under namespace :data:`LABEL_NAMESPACE`, attribute
:data:`MODE_ATTRIBUTE` (the five failure modes) or :data:`TECHNIQUE_ATTRIBUTE`, with the taxonomy
node id as the value:

- A classifier (``source_kind = "model"``) writes one row per tag it predicts, with its
  ``model_name``, ``model_version``, ``confidence`` and ``evidence``. When it finds no tag for an
  incident it writes one row whose value is NULL, so that "classified, nothing found" is not
  mistaken for "never classified".
- A person (``source_kind = "human"``) records a decision per label: ``confidence`` 1.0 means the
  label applies, 0.0 that it does not (a removal). The newest decision for a label wins.

The effective labels of an incident are the human decisions where they exist and, for every other
label, the tags of the newest classifier run on that incident. Both queries below are plain SQL
(window functions), so trends and listings aggregate them in the database on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, literal, select, union_all

from incidentdb._models import Classification, table_of
from incidentdb._records import SourceKind

__all__ = [
    "LABEL_NAMESPACE",
    "MODE_ATTRIBUTE",
    "TECHNIQUE_ATTRIBUTE",
    "classified_incidents",
    "effective_labels",
]

LABEL_NAMESPACE = "failure_modes"
MODE_ATTRIBUTE = "mode"
TECHNIQUE_ATTRIBUTE = "technique"

_class = table_of(Classification)


def _latest_human(attribute: str) -> Any:
    ranked = (
        select(
            _class.c.incident_pk,
            _class.c.value,
            _class.c.confidence,
            func.row_number()
            .over(
                partition_by=(_class.c.incident_pk, _class.c.value),
                order_by=(_class.c.created_at.desc(), _class.c.id.desc()),
            )
            .label("rank"),
        )
        .where(
            _class.c.namespace == LABEL_NAMESPACE,
            _class.c.attribute == attribute,
            _class.c.source_kind == SourceKind.HUMAN.value,
            _class.c.value.is_not(None),
        )
        .subquery("ranked_human")
    )
    return (
        select(ranked.c.incident_pk, ranked.c.value, ranked.c.confidence)
        .where(ranked.c.rank == 1)
        .subquery("latest_human")
    )


def _current_model_tags(attribute: str) -> Any:
    ranked = (
        select(
            _class.c.incident_pk,
            _class.c.model_name,
            _class.c.model_version,
            func.row_number()
            .over(
                partition_by=_class.c.incident_pk,
                order_by=(_class.c.created_at.desc(), _class.c.id.desc()),
            )
            .label("rank"),
        )
        .where(
            _class.c.namespace == LABEL_NAMESPACE,
            _class.c.attribute == attribute,
            _class.c.source_kind == SourceKind.MODEL.value,
        )
        .subquery("ranked_model")
    )
    newest = select(ranked).where(ranked.c.rank == 1).subquery("newest_model")
    return (
        select(_class.c.incident_pk, _class.c.value, _class.c.confidence)
        .join(
            newest,
            and_(
                newest.c.incident_pk == _class.c.incident_pk,
                newest.c.model_name == _class.c.model_name,
                newest.c.model_version == _class.c.model_version,
            ),
        )
        .where(
            _class.c.namespace == LABEL_NAMESPACE,
            _class.c.attribute == attribute,
            _class.c.source_kind == SourceKind.MODEL.value,
            _class.c.value.is_not(None),
        )
        .subquery("model_tags")
    )


def effective_labels(attribute: str = MODE_ATTRIBUTE) -> Any:
    """A subquery of the labels queries believe: `incident_pk, value, source_kind, confidence`.

    One row per incident and label that applies: the newest human decision where a person
    decided on that label, else the tag of the newest classifier run on the incident.
    """
    human = _latest_human(attribute)
    model = _current_model_tags(attribute)
    human_yes = select(
        human.c.incident_pk,
        human.c.value,
        literal(SourceKind.HUMAN.value).label("source_kind"),
        human.c.confidence,
    ).where(human.c.confidence >= 0.5)
    model_unless_decided = select(
        model.c.incident_pk,
        model.c.value,
        literal(SourceKind.MODEL.value).label("source_kind"),
        model.c.confidence,
    ).where(
        ~exists(
            select(1)
            .select_from(human)
            .where(human.c.incident_pk == model.c.incident_pk, human.c.value == model.c.value)
        )
    )
    return union_all(human_yes, model_unless_decided).subquery("effective_labels")


def classified_incidents(attribute: str = MODE_ATTRIBUTE) -> Any:
    """A subquery of `incident_pk`s that a classifier or a person has labelled (even as "none")."""
    return (
        select(_class.c.incident_pk)
        .where(
            _class.c.namespace == LABEL_NAMESPACE,
            _class.c.attribute == attribute,
            _class.c.source_kind.in_((SourceKind.HUMAN.value, SourceKind.MODEL.value)),
        )
        .distinct()
        .subquery("classified_incidents")
    )

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
label, the tags of the newest classifier run on that incident. They are computed with window
functions (plain SQL on SQLite and PostgreSQL alike) and materialised in `current_labels`, which
:func:`effective_labels` and :func:`classified_incidents` read: recomputing them over every
classification row cost most of a trends query on a large store.

Each row also carries its incident's date (`incident_date`, migration 0007), copied here when
the row is written and kept by a database trigger when the incident's date changes, so that
trends read one index range.

Whoever writes failure-mode rows into `classifications` must call
:func:`refresh_current_labels` for those incidents in the same transaction; the library's writers
(classifier runs, human decisions and label import, duplicate merges) do. Deleting an incident
deletes its rows by ON DELETE CASCADE.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, and_, delete, exists, func, insert, literal, null, select, union_all
from sqlalchemy.engine import Connection

from incidentdb._models import Classification, Incident, table_of
from incidentdb._models_curlabels import CurrentLabel
from incidentdb._records import SourceKind

__all__ = [
    "LABEL_NAMESPACE",
    "MODE_ATTRIBUTE",
    "TECHNIQUE_ATTRIBUTE",
    "classified_incidents",
    "effective_labels",
    "refresh_current_labels",
]

LABEL_NAMESPACE = "failure_modes"
MODE_ATTRIBUTE = "mode"
TECHNIQUE_ATTRIBUTE = "technique"

_class = table_of(Classification)
_current = table_of(CurrentLabel)
_incidents = table_of(Incident)
# Incidents per refresh statement: each appears in a few IN lists, well under SQLite's limit of
# bound parameters, and the window functions only see these incidents' rows.
_REFRESH_BATCH = 500


def _only(pks: list[int] | None) -> list[Any]:
    return [] if pks is None else [_class.c.incident_pk.in_(pks)]


def _latest_human(attribute: str, pks: list[int] | None) -> Any:
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
            *_only(pks),
        )
        .subquery("ranked_human")
    )
    return (
        select(ranked.c.incident_pk, ranked.c.value, ranked.c.confidence)
        .where(ranked.c.rank == 1)
        .subquery("latest_human")
    )


def _current_model_tags(attribute: str, pks: list[int] | None) -> Any:
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
            *_only(pks),
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
            *_only(pks),
        )
        .subquery("model_tags")
    )


def _computed_labels(attribute: str, pks: list[int] | None) -> Any:
    """The effective labels computed from the classification rows (of `pks`, or all).

    One row per incident and label that applies: the newest human decision where a person
    decided on that label, else the tag of the newest classifier run on the incident.
    """
    human = _latest_human(attribute, pks)
    model = _current_model_tags(attribute, pks)
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
    both = union_all(human_yes, model_unless_decided).subquery("computed")
    # Grouped because one classifier version run twice on an incident leaves two rows per tag.
    return (
        select(both.c.incident_pk, both.c.value, both.c.source_kind, func.max(both.c.confidence))
        .group_by(both.c.incident_pk, both.c.value, both.c.source_kind)
        .subquery("computed_labels")
    )


def _fill(conn: Connection, pks: list[int] | None) -> None:
    columns = ["incident_pk", "attribute", "value", "source_kind", "confidence", "incident_date"]
    for attribute in (MODE_ATTRIBUTE, TECHNIQUE_ATTRIBUTE):
        name = literal(attribute, String)
        computed = _computed_labels(attribute, pks)
        conn.execute(
            insert(_current).from_select(
                columns,
                select(
                    computed.c.incident_pk,
                    name,
                    computed.c.value,
                    computed.c.source_kind,
                    computed.c.max,
                    _incidents.c.date,
                ).join_from(computed, _incidents, _incidents.c.id == computed.c.incident_pk),
            )
        )
        # Classified incidents without a label get one NULL-value row, so that "classified" is
        # a lookup here as well; its source is "model" when a classifier ran, else "human".
        labelled = select(_current.c.incident_pk).where(_current.c.attribute == attribute)
        if pks is not None:
            labelled = labelled.where(_current.c.incident_pk.in_(pks))
        conn.execute(
            insert(_current).from_select(
                columns,
                select(
                    _class.c.incident_pk,
                    name,
                    null(),
                    func.max(_class.c.source_kind),
                    null(),
                    # The classifications row carries its incident's date (migration 0007).
                    func.max(_class.c.incident_date),
                )
                .where(
                    _class.c.namespace == LABEL_NAMESPACE,
                    _class.c.attribute == attribute,
                    _class.c.source_kind.in_((SourceKind.HUMAN.value, SourceKind.MODEL.value)),
                    _class.c.incident_pk.not_in(labelled),
                    *_only(pks),
                )
                .group_by(_class.c.incident_pk),
            )
        )


def refresh_current_labels(conn: Connection, incident_pks: Iterable[int] | None = None) -> None:
    """Recompute `current_labels` of `incident_pks` (of every incident when None).

    Call it in the transaction that wrote failure-mode rows to `classifications` (raw SQL
    writers included), with the incidents written: set-based, one DELETE and a few
    INSERT … SELECT per batch of incidents.
    """
    if incident_pks is None:
        conn.execute(delete(_current))
        _fill(conn, None)
        return
    pks = sorted(set(incident_pks))
    for start in range(0, len(pks), _REFRESH_BATCH):
        batch = pks[start : start + _REFRESH_BATCH]
        conn.execute(delete(_current).where(_current.c.incident_pk.in_(batch)))
        _fill(conn, batch)


def effective_labels(attribute: str = MODE_ATTRIBUTE) -> Any:
    """A subquery of the labels queries believe: `incident_pk, value, source_kind, confidence`.

    One row per incident and label that applies: the newest human decision where a person
    decided on that label, else the tag of the newest classifier run on the incident (read
    from `current_labels`).
    """
    return (
        select(
            _current.c.incident_pk, _current.c.value, _current.c.source_kind, _current.c.confidence
        )
        .where(_current.c.attribute == attribute, _current.c.value.is_not(None))
        .subquery("effective_labels")
    )


def classified_incidents(attribute: str = MODE_ATTRIBUTE) -> Any:
    """A subquery of `incident_pk`s that a classifier or a person has labelled (even as "none")."""
    return (
        select(_current.c.incident_pk)
        .where(_current.c.attribute == attribute)
        .distinct()
        .subquery("classified_incidents")
    )

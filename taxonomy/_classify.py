"""Classifying incidents in a store, and recording human labels.

>>> from incidentdb import Store
>>> from taxonomy import classify
>>> result = classify(Store("sqlite:///incidents.db"))   # doctest: +SKIP
>>> result.by_mode["misuse"]                              # doctest: +SKIP
412
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from incidentdb import SILENT, Progress, Store
from incidentdb._errors import LabelError
from incidentdb._labelling import HumanDecision, IncidentText, ModelTag
from incidentdb._labels import MODE_ATTRIBUTE, TECHNIQUE_ATTRIBUTE
from taxonomy._default import default_classifier
from taxonomy._model import FailureModeClassifier
from taxonomy._rules import MODES
from taxonomy._taxonomy import load_taxonomy

__all__ = [
    "ClassifyResult",
    "LabelFileRow",
    "classify",
    "default_author",
    "import_labels",
    "incident_text",
    "label_incident",
    "read_label_file",
]


@dataclass(frozen=True)
class ClassifyResult:
    """What a classify run did.

    Attributes:
        model_name: classifier name (provenance).
        model_version: classifier version (provenance).
        selected: incidents selected.
        classified: incidents classified now.
        skipped: incidents this classifier version had already classified (nothing written).
        rows: classification rows written.
        by_mode: incidents tagged with each mode in this run.
        untagged: incidents classified now with no mode.
    """

    model_name: str
    model_version: str
    selected: int
    classified: int
    skipped: int
    rows: int
    by_mode: dict[str, int] = field(default_factory=dict)
    untagged: int = 0


def incident_text(incident: IncidentText) -> str:
    """The text a classifier reads: title, description and up to five report titles."""
    parts = [incident.title.strip(), incident.description.strip(), *incident.report_titles]
    return ". ".join(p.rstrip(". ") for p in parts if p)


def classify(
    store: Store,
    classifier: FailureModeClassifier | None = None,
    *,
    incident_ids: Sequence[int] | None = None,
    since: dt.date | None = None,
    progress: Progress = SILENT,
    batch_size: int = 500,
) -> ClassifyResult:
    """Tag incidents with failure modes and techniques, writing them to the store.

    Incidents this classifier name and version have already classified are skipped, so a
    re-run writes nothing; another version adds its tags beside the old ones (queries believe
    the newest). Each batch is written in one transaction.

    Args:
        store: the store.
        classifier: a fitted classifier; None uses the shipped default.
        incident_ids: AIID ids to classify; None (and no `since`) classifies all.
        since: classify incidents dated on or after this day.
        progress: progress reporting.
        batch_size: incidents per read, prediction and write.

    Raises:
        NotFoundError: one of `incident_ids` is not in the store.
    """
    model = classifier if classifier is not None else default_classifier()
    name, version = model.name, model.version_
    selected = classified = skipped = rows = untagged = 0
    by_mode: Counter[str] = Counter()
    progress.stage("classifying")
    try:
        for batch in store.incident_texts(
            incident_ids=list(incident_ids) if incident_ids is not None else None,
            since=since,
            batch_size=batch_size,
        ):
            selected += len(batch)
            done = store.classified_by(name, version, [i.pk for i in batch])
            todo = [i for i in batch if i.pk not in done]
            skipped += len(batch) - len(todo)
            if todo:
                taggings = model.tag([incident_text(i) for i in todo])
                tags: dict[int, list[ModelTag]] = {}
                for incident, tagging in zip(todo, taggings, strict=True):
                    tags[incident.pk] = [
                        ModelTag(t.attribute, t.value, t.confidence, t.evidence)
                        for t in tagging.tags
                    ]
                    by_mode.update(tagging.modes)
                    untagged += not tagging.modes
                rows += store.write_model_tags(name, version, tags)
                classified += len(todo)
            progress.advance(len(batch))
    finally:
        progress.done()
    return ClassifyResult(
        model_name=name,
        model_version=version,
        selected=selected,
        classified=classified,
        skipped=skipped,
        rows=rows,
        by_mode={m: by_mode.get(m, 0) for m in MODES},
        untagged=untagged,
    )


# -- human labels ------------------------------------------------------------------------------


def default_author() -> str:
    """Who is labelling, when not given: $INCIDENTDB_AUTHOR, else the login name."""
    try:
        return os.environ.get("INCIDENTDB_AUTHOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _attribute_of(label: str) -> str:
    """`mode` or `technique` for a taxonomy node id.

    Raises:
        LabelError: not a node of the taxonomy.
    """
    taxonomy = load_taxonomy()
    ids = {n.id: n.kind for n in taxonomy.nodes}
    if label not in ids:
        raise LabelError(
            f"unknown failure mode or technique {label!r}",
            hint="The modes are " + ", ".join(MODES) + "; see `incidentdb taxonomy show`.",
        )
    return MODE_ATTRIBUTE if ids[label] == "mode" else TECHNIQUE_ATTRIBUTE


def label_incident(
    store: Store,
    incident_id: int,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    author: str | None = None,
) -> dict[str, int]:
    """Record a person's decisions on one incident: labels that apply, labels that do not.

    Raises:
        LabelError: an unknown label, or one both added and removed.
        NotFoundError: no such incident.
    """
    both = sorted(set(add) & set(remove))
    if both:
        raise LabelError(f"{', '.join(both)} both added and removed")
    if not add and not remove:
        raise LabelError("nothing to record", hint="Give --add LABEL and/or --remove LABEL.")
    decisions = [
        HumanDecision(incident_id, _attribute_of(label), label, applies)
        for labels, applies in ((add, True), (remove, False))
        for label in labels
    ]
    return store.record_label_decisions(decisions, author or default_author())


@dataclass(frozen=True)
class LabelFileRow:
    """One line of a labels file: an incident and the modes that apply to it."""

    incident_id: int
    labels: tuple[str, ...]
    line: int


def read_label_file(
    path: str | Path, allowed: Sequence[str] = MODES, *, kind: str = "modes"
) -> list[LabelFileRow]:
    """Read a JSONL labels file: ``{"incident_id": N, "labels": [...]}`` per line.

    Blank lines are skipped; other keys (a ``why``) are ignored.

    Args:
        path: the file.
        allowed: the label values accepted (the modes; the technique ids for a technique
            labels file).
        kind: what `allowed` holds, named in the error for an unknown label.

    Raises:
        LabelError: the file is missing, or a line is malformed (names file and line).
    """
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LabelError(f"cannot read labels file {source}: {exc.strerror or exc}") from exc
    rows: list[LabelFileRow] = []
    seen: dict[int, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelError(f"not JSON ({exc.msg})", file=source.name, line=number) from None
        if not isinstance(obj, dict):
            raise LabelError("expected a JSON object", file=source.name, line=number)
        incident_id = obj.get("incident_id")
        labels = obj.get("labels")
        if not isinstance(incident_id, int) or isinstance(incident_id, bool):
            raise LabelError("incident_id must be an integer", file=source.name, line=number)
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise LabelError("labels must be a list of strings", file=source.name, line=number)
        unknown = sorted(set(labels) - set(allowed))
        if unknown:
            raise LabelError(
                f"unknown label {', '.join(unknown)} (the {kind} are {', '.join(allowed)})",
                file=source.name,
                line=number,
            )
        if incident_id in seen:
            raise LabelError(
                f"incident {incident_id} is listed again (first on line {seen[incident_id]})",
                file=source.name,
                line=number,
            )
        seen[incident_id] = number
        rows.append(LabelFileRow(incident_id, tuple(sorted(set(labels))), number))
    return rows


def import_labels(store: Store, path: str | Path, *, author: str | None = None) -> dict[str, int]:
    """Record a labels file as human decisions on all five modes of every incident in it:
    a listed mode applies (1.0), an unlisted one does not (0.0). All or nothing; importing
    the same file again writes nothing.

    Raises:
        LabelError: the file is malformed.
        NotFoundError: an incident of the file is not in the store.
    """
    rows = read_label_file(path)
    decisions = [
        HumanDecision(row.incident_id, MODE_ATTRIBUTE, mode, mode in row.labels)
        for row in rows
        for mode in MODES
    ]
    result = store.record_label_decisions(decisions, author or default_author())
    return {"lines": len(rows), **result}

"""Measuring the grouping: pairwise precision and recall against AIID's own incident links."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import cast

from incidentdb._errors import EvaluationDataError
from ingest.grouping._grouper import Grouper, GroupingItem, extract_entities
from ingest.relevance._realdata import RealReport, read_real_reports, unique_reports

__all__ = [
    "GroupingScore",
    "decide_groups",
    "evaluate_grouping",
    "pairwise_score",
    "real_grouping_items",
]


@dataclass(frozen=True)
class GroupingScore:
    """Pairwise figures of a grouping against the true incidents.

    A pair of reports counts as *true* when both belong to one incident and as *predicted* when
    the grouper put them in one group. precision = correct / predicted pairs, recall = correct /
    true pairs; None when undefined.
    """

    dataset: str
    items: int
    incidents: int
    groups: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float | None
    recall: float | None
    f1: float | None


def pairwise_score(
    dataset: str, truth: Mapping[Hashable, object], groups: Sequence[Sequence[Hashable]]
) -> GroupingScore:
    """Score ``groups`` (lists of item keys) against ``truth`` (item key -> incident)."""
    predicted = {frozenset(p) for g in groups for p in combinations(g, 2)}
    by_incident: dict[object, list[Hashable]] = {}
    for key, incident in truth.items():
        by_incident.setdefault(incident, []).append(key)
    true = {frozenset(p) for members in by_incident.values() for p in combinations(members, 2)}
    correct = len(predicted & true)
    precision = correct / len(predicted) if predicted else None
    recall = correct / len(true) if true else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return GroupingScore(
        dataset=dataset,
        items=len(truth),
        incidents=len(by_incident),
        groups=len(groups),
        true_pairs=len(true),
        predicted_pairs=len(predicted),
        correct_pairs=correct,
        precision=None if precision is None else round(precision, 4),
        recall=None if recall is None else round(recall, 4),
        f1=None if f1 is None else round(f1, 4),
    )


def real_grouping_items(reports: Sequence[RealReport]) -> list[tuple[GroupingItem, int]]:
    """Reports linked to one incident, as grouping items paired with that incident.

    Each distinct text once: an exact copy would be a free correct pair.
    """
    out = []
    for r in unique_reports(reports):
        if r.incident_id is None or r.kind == "nlp_example":
            continue
        item = GroupingItem(
            key=r.id,
            title=r.title,
            text=r.text,
            urls=frozenset([r.url]) if r.url else frozenset(),
            date=r.date,
            entities=extract_entities(f"{r.title}\n{r.text[:5000]}"),
        )
        out.append((item, r.incident_id))
    return out


def decide_groups(
    grouper: Grouper, items: Sequence[GroupingItem], *, fit: bool
) -> list[list[object]]:
    """Group a stream as feed ingestion does, one :meth:`Grouper.decide` per item.

    Each item is decided against every earlier item (keyed by its group), in the given order;
    with ``fit``, the grouper is first fitted on those earlier items whenever they have doubled
    (:meth:`Grouper.fit_if_grown`), as the feed pipeline does with the store's candidates.

    Returns:
        Groups of keys, in the order their first item arrived; keys keep stream order.
    """
    grouper = Grouper(
        threshold=grouper.threshold,
        window_days=grouper.window_days,
        entity_weight=grouper.entity_weight,
        max_chars=grouper.max_chars,
    )
    groups: list[list[object]] = []
    earlier: list[GroupingItem] = []
    for item in items:
        if fit:
            grouper.fit_if_grown(earlier)
        match = grouper.decide(item, earlier)
        group = len(groups) if match is None else cast(int, match.key)
        if group == len(groups):
            groups.append([])
        groups[group].append(item.key)
        earlier.append(dataclasses.replace(item, key=group))
    return groups


def evaluate_grouping(data: Path, *, grouper: Grouper | None = None) -> list[GroupingScore]:
    """Group the real linked reports under ``data`` with ``Grouper.cluster`` and score it.

    Args:
        data: the shared data folder (holding ``aiid_data/``) or the real-reports file itself.
        grouper: the grouper to measure; default ``Grouper()``.

    Returns:
        One row for the reports AIID links to incidents (translations and captured reports),
        one for those plus submissions that name their incident, two for the latter grouped as
        feed ingestion does (:func:`decide_groups`, unfitted and fitted), and one for the
        baseline that groups by URL only (what grouping would be without text similarity).

    Raises:
        EvaluationDataError: the file is missing or malformed, or holds no linked report.
    """
    grouper = grouper or Grouper()
    pairs = real_grouping_items(read_real_reports(data))
    if not pairs:
        raise EvaluationDataError(f"no report linked to an incident under {data}")
    linked = [(item, inc) for item, inc in pairs if not item.key.startswith("submission:")]  # type: ignore[attr-defined]
    rows = []
    for name, chosen in (("linked reports", linked), ("linked + submissions", pairs)):
        items = [item for item, _ in chosen]
        truth = {item.key: inc for item, inc in chosen}
        rows.append(pairwise_score(name, truth, grouper.cluster(items)))
    items = [item for item, _ in pairs]
    truth = {item.key: inc for item, inc in pairs}
    for name, fit in (("feed ingestion: unfitted", False), ("feed ingestion: fitted", True)):
        rows.append(pairwise_score(name, truth, decide_groups(grouper, items, fit=fit)))
    url_only = Grouper(threshold=1.01)  # nothing but a shared URL reaches it
    rows.append(pairwise_score("baseline: URL match only", truth, url_only.cluster(items)))
    return rows

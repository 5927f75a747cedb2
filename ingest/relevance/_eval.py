"""Measuring the relevance filter: recall on real incident reports, precision on a news mix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from incidentdb._data import bundled_data
from incidentdb._errors import EvaluationDataError
from ingest.relevance._default import load_default_filter
from ingest.relevance._filter import Example, RelevanceFilter, read_examples
from ingest.relevance._realdata import read_real_reports, unique_reports

__all__ = ["RelevanceScore", "evaluate_relevance", "score_examples"]


@dataclass(frozen=True)
class RelevanceScore:
    """Figures of the filter on one set of articles.

    Attributes:
        dataset: which set (``real``, ``real/<kind>``, ``mix``, ``mix/<kind>``).
        items: articles in it; ``relevant`` of them are labelled incident or hazard reports.
        flagged: articles the filter called relevant; ``tp``, ``fp``, ``fn`` as usual.
        precision, recall, f1: None where undefined (no positives, or nothing flagged).
    """

    dataset: str
    items: int
    relevant: int
    flagged: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    f1: float | None


def score_examples(
    dataset: str, examples: Sequence[Example], flags: Sequence[bool]
) -> RelevanceScore:
    """Precision, recall and F1 of ``flags`` against the examples' labels."""
    tp = sum(1 for e, f in zip(examples, flags, strict=True) if e.relevant and f)
    fp = sum(1 for e, f in zip(examples, flags, strict=True) if not e.relevant and f)
    fn = sum(1 for e, f in zip(examples, flags, strict=True) if e.relevant and not f)
    positives = tp + fn
    precision = tp / (tp + fp) if tp + fp and positives else None
    recall = tp / positives if positives else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return RelevanceScore(
        dataset=dataset,
        items=len(examples),
        relevant=positives,
        flagged=tp + fp,
        tp=tp,
        fp=fp,
        fn=fn,
        precision=_round(precision),
        recall=_round(recall),
        f1=_round(f1),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def evaluate_relevance(
    data: Path,
    *,
    mix: Path | None = None,
    relevance_filter: RelevanceFilter | None = None,
) -> list[RelevanceScore]:
    """Score the filter on the real reports under ``data`` and on the labelled news mix.

    Args:
        data: the shared data folder (holding ``aiid_data/``) or the real-reports file itself.
            Every labelled real report is an incident report, so this set measures recall;
            each distinct text counts once.
        mix: JSON lines of labelled AI (and other) news; default the shipped
            ``data/relevance/eval_mix.jsonl``, written apart from the training examples.
        relevance_filter: the filter to measure; default :func:`load_default_filter`.

    Returns:
        One row for all real reports, one per kind of real report, one for the whole mix and
        one per kind of article in the mix.

    Raises:
        EvaluationDataError: a file is missing or malformed.
    """
    flt = relevance_filter or load_default_filter()
    real = [
        Example(r.title, r.text, True, r.id, r.kind)
        for r in unique_reports(read_real_reports(data))
        if r.labelled
    ]
    mix_path = mix or bundled_data("relevance", "eval_mix.jsonl")
    if not mix_path.is_file():
        raise EvaluationDataError(f"no labelled news mix at {mix_path}")
    try:
        mixed = read_examples(mix_path)
    except ValueError as exc:
        hint = "Each line needs title, text and relevant."
        raise EvaluationDataError(str(exc), hint=hint) from exc
    rows: list[RelevanceScore] = []
    for name, examples in (("real", real), ("mix", mixed)):
        flags = [r.relevant for r in flt.score_many((e.title, e.text) for e in examples)]
        rows.append(score_examples(name, examples, flags))
        for kind in sorted({e.kind for e in examples}):
            picked = [(e, f) for e, f in zip(examples, flags, strict=True) if e.kind == kind]
            rows.append(
                score_examples(f"{name}/{kind}", [e for e, _ in picked], [f for _, f in picked])
            )
    return rows

"""evaluate_relevance: exact figures with a filter we control; tier 3 on the real reports."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from incidentdb import IncidentDBError
from ingest.relevance import Example, Relevance, RelevanceScore, evaluate_relevance
from ingest.relevance._eval import score_examples

HERE = Path(__file__).parent
REAL = HERE.parent / "grouping" / "fixtures" / "real_report_texts.jsonl"
MIX = HERE / "fixtures" / "mix.jsonl"


class TitleWordFilter:
    """Flags an article when its title has one of a few words: results we can predict."""

    def __init__(self, *words: str) -> None:
        self.words = words

    def score_many(self, items: Iterable[tuple[str, str]]) -> list[Relevance]:
        out = []
        for title, _ in items:
            hit = any(w in title.lower() for w in self.words)
            out.append(Relevance(1.0 if hit else 0.0, hit, []))
        return out


def test_score_examples_exact() -> None:
    examples = [Example("", "", True), Example("", "", True), Example("", "", False)]
    assert score_examples("x", examples, [True, False, True]) == RelevanceScore(
        "x", 3, 2, 2, 1, 1, 1, 0.5, 0.5, 0.5
    )
    assert score_examples("x", examples[2:], [False]).precision is None


def test_evaluate_relevance_with_a_known_filter() -> None:
    flt = TitleWordFilter("robotaxi", "kestrel", "chatbot")
    rows = {r.dataset: r for r in evaluate_relevance(REAL, mix=MIX, relevance_filter=flt)}  # type: ignore[arg-type]
    # Real: 7 labelled reports with text (the empty translation and the candidate are left
    # out); flagged: 3 robotaxi titles, 2 Kestrel titles, the chatbot submission.
    assert rows["real"] == RelevanceScore("real", 7, 7, 6, 6, 0, 1, 1.0, 0.8571, 0.9231)
    assert rows["real/translation"] == RelevanceScore(
        "real/translation", 3, 3, 3, 3, 0, 0, 1.0, 1.0, 1.0
    )
    assert rows["mix"] == RelevanceScore("mix", 4, 2, 3, 2, 1, 0, 0.6667, 1.0, 0.8)
    assert rows["mix/launch"] == RelevanceScore("mix/launch", 1, 0, 1, 0, 1, 0, None, None, None)
    assert list(rows) == [
        "real",
        "real/aiid_fixture_report",
        "real/submission",
        "real/translation",
        "mix",
        "mix/incident",
        "mix/launch",
        "mix/nonai",
    ]


def test_the_default_filter_runs_on_the_fixture() -> None:
    rows = evaluate_relevance(REAL, mix=MIX)
    assert [r.items for r in rows if r.dataset in ("real", "mix")] == [7, 4]
    for row in rows:
        assert row.recall is None or 0.0 <= row.recall <= 1.0


def test_missing_or_malformed_data(tmp_path: Path) -> None:
    with pytest.raises(IncidentDBError, match="no real report texts"):
        evaluate_relevance(tmp_path)
    with pytest.raises(IncidentDBError, match="no labelled news mix"):
        evaluate_relevance(REAL, mix=tmp_path / "absent.jsonl")
    bad = tmp_path / "mix.jsonl"
    bad.write_text('{"title": "T"}\n')
    with pytest.raises(IncidentDBError, match=r"mix\.jsonl, line 1") as info:
        evaluate_relevance(REAL, mix=bad, relevance_filter=TitleWordFilter())  # type: ignore[arg-type]
    assert info.value.hint == "Each line needs title, text and relevant."


@pytest.mark.shared
@pytest.mark.slow
def test_real_reports_and_the_shipped_mix(shared_dir: Path) -> None:
    rows = {r.dataset: r for r in evaluate_relevance(shared_dir)}
    real, mix = rows["real"], rows["mix"]
    # Every labelled real report with text is an incident report: 230 distinct texts in the
    # 2026 shared data.
    assert real.items > 150 and real.relevant == real.items and real.fp == 0
    assert real.recall is not None and 0.8 <= real.recall <= 1.0
    assert mix.items > 100 and 0 < mix.relevant < mix.items
    assert mix.precision is not None and 0.7 <= mix.precision <= 1.0
    assert mix.recall is not None and 0.7 <= mix.recall <= 1.0
    assert sum(rows[k].items for k in rows if k.startswith("real/")) == real.items

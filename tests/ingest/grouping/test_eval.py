"""evaluate_grouping on a fixture of our own and, tier 3, on AIID's real linked reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentdb import IncidentDBError
from ingest.grouping import Grouper, GroupingItem, GroupingScore, evaluate_grouping
from ingest.grouping._eval import decide_groups

FIXTURE = Path(__file__).parent / "fixtures" / "real_report_texts.jsonl"


def test_evaluate_grouping_on_the_fixture() -> None:
    rows = evaluate_grouping(FIXTURE)
    assert rows == [
        GroupingScore("linked reports", 5, 3, 3, 2, 2, 2, 1.0, 1.0, 1.0),
        GroupingScore("linked + submissions", 6, 3, 3, 4, 4, 4, 1.0, 1.0, 1.0),
        GroupingScore("feed ingestion: unfitted", 6, 3, 3, 4, 4, 4, 1.0, 1.0, 1.0),
        GroupingScore("feed ingestion: fitted", 6, 3, 3, 4, 4, 4, 1.0, 1.0, 1.0),
        # Two reports share one canonical URL (tracking parameter and host case differ).
        GroupingScore("baseline: URL match only", 6, 3, 5, 4, 1, 1, 1.0, 0.25, 0.4),
    ]


def test_decide_groups_joins_each_item_to_an_earlier_group_or_opens_one() -> None:
    items = [
        GroupingItem("a", "Robotaxi drags pedestrian", "A driverless taxi dragged a woman."),
        GroupingItem("b", "Chatbot invents court cases", "Lawyers cited cases a chatbot made up."),
        GroupingItem("c", "Robotaxi firm suspended after it dragged pedestrian", "Driverless."),
        GroupingItem("d", "Court fines lawyers over chatbot's invented cases", "Made-up cases."),
    ]
    for fit in (False, True):
        assert decide_groups(Grouper(), items, fit=fit) == [["a", "c"], ["b", "d"]]
    assert decide_groups(Grouper(threshold=1.0), items, fit=True) == [["a"], ["b"], ["c"], ["d"]]


def test_a_grouper_that_never_joins_has_no_predicted_pairs() -> None:
    rows = evaluate_grouping(FIXTURE, grouper=Grouper(threshold=1.0))
    assert rows[0].predicted_pairs == 0 and rows[0].precision is None and rows[0].recall == 0.0


def test_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IncidentDBError, match="no real report texts at"):
        evaluate_grouping(tmp_path)


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "reports.jsonl"
    bad.write_text('{"kind": "translation", "title": "x", "text": "y"}\nnot json\n')
    with pytest.raises(IncidentDBError, match=r"reports.jsonl, line 2"):
        evaluate_grouping(bad)


@pytest.mark.shared
def test_real_linked_reports(shared_dir: Path) -> None:
    rows = {r.dataset: r for r in evaluate_grouping(shared_dir)}
    linked = rows["linked reports"]
    # 118 linked reports, 40 incidents; some translations have no text, and the two snapshots'
    # translations repeat each other: 70 distinct texts of 29 incidents in the 2026 data.
    assert 50 <= linked.items <= 118 and 20 <= linked.incidents <= 40
    assert linked.true_pairs > 150
    assert linked.f1 is not None and 0.8 <= linked.f1 <= 1.0
    # Grouped as feed ingestion does, with the grouper fitted as the run goes, it stays as good.
    for name in ("feed ingestion: unfitted", "feed ingestion: fitted"):
        f1 = rows[name].f1
        assert rows[name].items == rows["linked + submissions"].items
        assert f1 is not None and 0.8 <= f1 <= 1.0
    # Text grouping must beat grouping by URL alone by far.
    baseline = rows["baseline: URL match only"]
    assert baseline.recall is not None and baseline.recall < 0.1 < linked.f1

"""`incidentdb eval relevance|grouping`: exact output on our fixtures, errors, and real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests_support import PROJECT_ROOT

from incidentdb.cli import cli

REAL = PROJECT_ROOT / "tests" / "ingest" / "grouping" / "fixtures" / "real_report_texts.jsonl"
MIX = PROJECT_ROOT / "tests" / "ingest" / "relevance" / "fixtures" / "mix.jsonl"


def run(tmp_path: Path, *args: str, code: int = 0) -> Result:
    db = tmp_path / "never-created.sqlite"
    result = CliRunner().invoke(cli, ["--quiet", "--db", str(db), "eval", *args])
    assert result.exit_code == code, (result.output, result.exception)
    assert not db.exists(), "eval must not open the store"
    return result


def test_grouping_csv(tmp_path: Path) -> None:
    result = run(tmp_path, "grouping", "--data", str(REAL), "--format", "csv")
    assert result.stdout == (
        "dataset,items,incidents,groups,true_pairs,predicted_pairs,correct_pairs,precision,recall,f1\n"
        "linked reports,5,3,3,2,2,2,1.0,1.0,1.0\n"
        "linked + submissions,6,3,3,4,4,4,1.0,1.0,1.0\n"
        "feed ingestion: unfitted,6,3,3,4,4,4,1.0,1.0,1.0\n"
        "feed ingestion: fitted,6,3,3,4,4,4,1.0,1.0,1.0\n"
        "baseline: URL match only,6,3,5,4,1,1,1.0,0.25,0.4\n"
    )


def test_grouping_options_reach_the_grouper(tmp_path: Path) -> None:
    result = run(tmp_path, "grouping", "--data", str(REAL), "--threshold", "1", "--format", "json")
    rows = json.loads(result.stdout)
    assert rows[0]["dataset"] == "linked reports"
    # Threshold 1.0: only a shared URL joins, and the linked reports share none.
    assert (rows[0]["groups"], rows[0]["predicted_pairs"], rows[0]["precision"]) == (5, 0, None)


def test_grouping_table_has_a_title(tmp_path: Path) -> None:
    result = run(tmp_path, "grouping", "--data", str(REAL), "--entity-weight", "0.5")
    out = result.stdout
    assert "Grouping (threshold 0.2, entity weight 0.5, window 365 days)" in out
    assert "linked + submissions" in out


def test_relevance_json(tmp_path: Path) -> None:
    result = run(tmp_path, "relevance", "--data", str(REAL), "--mix", str(MIX), "--format", "json")
    rows = {r["dataset"]: r for r in json.loads(result.stdout)}
    assert list(rows["real"]) == [
        "dataset",
        "items",
        "relevant",
        "flagged",
        "tp",
        "fp",
        "fn",
        "precision",
        "recall",
        "f1",
    ]
    assert (rows["real"]["items"], rows["real"]["relevant"], rows["real"]["fp"]) == (7, 7, 0)
    assert (rows["mix"]["items"], rows["mix"]["relevant"]) == (4, 2)


def test_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "grouping", "--data", str(tmp_path / "nowhere"), code=1)
    assert result.stderr == (
        f"Error: no real report texts at {tmp_path / 'nowhere'} "
        "(looked for aiid_data/derived/real_report_texts.jsonl there)\n"
        "Hint: Point --data at the shared data folder (the one holding aiid_data/).\n"
    )
    result = run(tmp_path, "relevance", "--data", str(tmp_path), code=1)
    assert "Error: no real report texts at" in result.stderr


@pytest.mark.shared
def test_real_data(tmp_path: Path, shared_dir: Path) -> None:
    result = run(tmp_path, "grouping", "--data", str(shared_dir), "--format", "json")
    rows = json.loads(result.stdout)
    assert rows[0]["dataset"] == "linked reports" and rows[0]["f1"] > 0.8

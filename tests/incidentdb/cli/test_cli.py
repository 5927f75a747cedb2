"""The CLI over the sample snapshot: exact output for every listing format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from incidentdb._data import bundled_data
from incidentdb._engine import SCHEMA_HEAD
from incidentdb.cli import cli

SAMPLE = str(bundled_data("sample", "mongodump_full_snapshot"))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "store.sqlite"
    result = CliRunner().invoke(cli, ["--quiet", "--db", str(path), "ingest", "aiid", SAMPLE])
    assert result.exit_code == 0, result.output
    return str(path)


def run(db: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--quiet", "--db", db, *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_ingest_summary_as_csv(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    out = run(db, "ingest", "aiid", SAMPLE, "--format", "csv")
    assert out == (
        "kind,added,updated,unchanged,other\n"
        "classifications,29,0,0,\n"
        "duplicates,2,0,0,\n"
        "entities,40,0,0,\n"
        "incidents,24,0,0,\n"
        "reports,65,0,0,\n"
        "submissions,7,0,0,\n"
        "taxonomies,2,0,0,\n"
        "translations,0,0,0,\n"
    )
    again = run(db, "ingest", "aiid", SAMPLE, "--format", "json")
    payload = json.loads(again)
    assert payload["outcome"] == "unchanged"
    assert payload["counts"]["incidents"] == {"unchanged": 24}


def test_incidents_list_csv(db: str) -> None:
    out = run(db, "incidents", "list", "--deployer", "ridepath-autonomy", "--format", "csv")
    assert out == (
        "incident_id,date,title,deployers,developers,reports\n"
        "24,2025-12-20,Ridepath Robotaxis Stall at Dark Intersections During City-Wide Power Outage,"
        "Ridepath Autonomy,Ridepath Autonomy,3\n"
        "3,2018-03-18,Ridepath Self-Driving Test Car Strikes Woman Walking Bicycle Across Dark Road,"
        "Ridepath Autonomy,Ridepath Autonomy,5\n"
    )


def test_incidents_list_json_with_filters(db: str) -> None:
    out = run(
        db,
        "incidents",
        "list",
        "--since",
        "2023-01-01",
        "--until",
        "2024-12-31",
        "--taxonomy",
        "MIT:Entity=Human",
        "--developer",
        "Helix Labs",
        "--format",
        "json",
    )
    assert json.loads(out) == [
        {
            "incident_id": 22,
            "date": "2024-04-02",
            "title": "'Crescendo' Multi-Turn Jailbreak Gradually Steers Chatbots Past Their Safeguards",
            "deployers": ["Helix Labs", "Parlance AI"],
            "developers": ["Helix Labs", "Parlance AI"],
            "reports": 2,
        },
        {
            "incident_id": 17,
            "date": "2024-01-15",
            "title": "Hidden Instructions in an E-mail Make Copperleaf Assist Leak Mailbox Data",
            "deployers": ["Copperleaf Software"],
            "developers": ["Copperleaf Software", "Helix Labs"],
            "reports": 3,
        },
        {
            "incident_id": 14,
            "date": "2023-12-17",
            "title": "Lakeside Auto Group's Website Chatbot Agrees to Sell an SUV for $1",
            "deployers": ["Lakeside Auto Group"],
            "developers": ["DealerChat", "Helix Labs"],
            "reports": 4,
        },
    ]


def test_list_everything_unless_limited(db: str) -> None:
    assert len(json.loads(run(db, "incidents", "list", "--format", "json"))) == 24
    assert len(json.loads(run(db, "incidents", "list", "--format", "json", "--limit", "3"))) == 3


def test_show_resolves_a_merged_id(db: str) -> None:
    out = run(db, "incidents", "show", "25")
    assert out.startswith(
        "(incident 25 was merged into 3)\n"
        "Incident 3: Ridepath Self-Driving Test Car Strikes Woman Walking Bicycle Across Dark Road\n"
        "Date: 2018-03-18\n"
    )
    assert "Merged duplicates: 7, 25\n" in out
    assert "  #8 2018-03-20 Ridepath halts robot-car tests after crash involving cyclist\n" in out
    data = json.loads(run(db, "incidents", "show", "3", "--format", "json"))
    assert [r["report_number"] for r in data["reports"]] == [7, 8, 9, 10, 15]


def test_show_unknown_incident(db: str) -> None:
    result = CliRunner().invoke(cli, ["--db", db, "incidents", "show", "999"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: no incident 999\nHint: List incidents with `incidentdb incidents list`.\n"
    )


def test_search_csv(db: str) -> None:
    out = run(db, "search", "prompt injection", "--limit", "2", "--format", "csv")
    lines = out.splitlines()
    assert lines[0] == "incident_id,date,title,score,matches,best_report"
    assert lines[1].startswith("12,2023-03-10,Prompt Injection Makes Tessel Telecom's Support Bot")
    assert len(lines) == 3


def test_stats_json(db: str) -> None:
    data = json.loads(run(db, "stats", "--format", "json"))
    assert data["totals"] == {
        "incidents": 24,
        "reports": 65,
        "report_stubs": 0,
        "entities": 40,
        "duplicates": 2,
    }
    assert sum(row["incidents"] for row in data["by_year"]) == 24
    assert data["top_deployers"][0] == {"slug": "unknown", "name": "Unknown", "incidents": 4}


def test_stats_section_csv(db: str) -> None:
    out = run(db, "stats", "--section", "classification_coverage", "--format", "csv")
    assert out == (
        "namespace,source_kind,incidents,share\n"
        "GMF,imported_human,8,0.3333\n"
        "MIT,imported_machine,21,0.875\n"
    )


def test_db_status_json(db: str) -> None:
    data = json.loads(run(db, "db", "status", "--format", "json"))
    assert data["revision"] == data["head"] == SCHEMA_HEAD
    assert data["tables"]["incidents"] == 24


def test_ingest_runs_table_lists_the_import(db: str) -> None:
    rows = json.loads(run(db, "ingest", "runs", "--format", "json"))
    assert rows[-1]["ingester"] == "aiid.v1"
    assert rows[-1]["outcome"] == "succeeded"
    assert rows[-1]["source"] == SAMPLE


def test_bad_taxonomy_filter_is_a_usage_error(db: str) -> None:
    result = CliRunner().invoke(cli, ["--db", db, "incidents", "list", "--taxonomy", "MIT"])
    assert result.exit_code == 1
    assert "is not NAMESPACE:ATTRIBUTE[=VALUE]" in result.stderr
    assert "Hint: Example:" in result.stderr


def test_db_downgrade_and_upgrade(tmp_path: Path) -> None:
    db = str(tmp_path / "m.sqlite")
    assert run(db, "db", "upgrade").startswith(f"schema at revision {SCHEMA_HEAD}")
    assert run(db, "db", "downgrade", "base").startswith("schema at revision base")
    out = run(db, "db", "status", "--format", "csv")
    assert "revision,(empty database)\n" in out


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = run(str(tmp_path / "demo.sqlite"), "demo")
    assert "Re-importing the same snapshot: unchanged (nothing written twice)." in out
    assert "Prompt Injection Makes Tessel Telecom" in out
    assert "$ incidentdb classify --all" in out
    exports = tmp_path / "demo-exports"
    assert f"Exports written to {exports}" in out
    harnesses = ["garak", "inspect_ai", "jsonl", "openai-evals", "promptfoo", "pyrit"]
    assert sorted(p.name for p in exports.iterdir()) == harnesses
    for harness in harnesses:
        assert any(f.stat().st_size > 0 for f in (exports / harness).iterdir()), harness


def test_the_cli_starts_without_the_heavy_libraries() -> None:
    # spaCy, scikit-learn, pandas and matplotlib take seconds to import; only the commands
    # that use them may load them.
    code = (
        "import sys, incidentdb.cli; "
        "print(sorted(m for m in ('spacy', 'sklearn', 'pandas', 'matplotlib', 'pyarrow', 'httpx') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"


def test_main_pauses_the_garbage_collector_only_while_the_command_loads() -> None:
    # In a new process: main() freezes what start-up allocated, which a test process must not.
    code = (
        "import gc, sys\n"
        "from incidentdb.cli import cli, main\n"
        "seen = []\n"
        "@cli.command('probe')\n"
        "def probe():\n"
        "    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "for argv in (['probe'], ['--version']):\n"
        "    sys.argv = ['incidentdb', *argv]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    seen.append(gc.isenabled())\n"
        "print(seen)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[(True, True), True, True]"

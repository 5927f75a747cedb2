"""`incidentdb trends` and `incidentdb export incidents`: exact output, charts, exports."""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from trends_support import groups_of, make_fixture, period_of, write_fixture

from incidentdb import Store
from incidentdb._data import bundled_data
from incidentdb.cli import cli

SAMPLE = str(bundled_data("sample", "mongodump_full_snapshot"))


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("trends-cli") / "sample.sqlite"
    result = CliRunner().invoke(cli, ["--quiet", "--db", str(path), "ingest", "aiid", SAMPLE])
    assert result.exit_code == 0, result.output
    return str(path)


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("trends-cli") / "fixture.sqlite"
    with Store(str(path)) as store:
        write_fixture(store, make_fixture())
    return str(path)


def invoke(db: str, *args: str, quiet: bool = False) -> Result:
    return CliRunner().invoke(cli, [*(["--quiet"] if quiet else []), "--db", db, *args])


def ok(db: str, *args: str, quiet: bool = False) -> Result:
    result = invoke(db, *args, quiet=quiet)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_trends_csv_with_filters_and_the_summary_on_stderr(sample_db: str) -> None:
    result = ok(
        sample_db,
        "trends",
        "--by",
        "deployer",
        "--since",
        "2023-01-01",
        "--where",
        "taxonomy=MIT:Entity=AI",
        "--format",
        "csv",
    )
    # The same three incidents as `incidents list --since 2023-01-01 --taxonomy MIT:Entity=AI`.
    assert result.stdout == (
        "period,group,incidents\n2023,Querya,1\n2025,Kindred AI,1\n2025,Shipyard,1\n"
    )
    assert result.stderr == (
        "3 incidents in range; 0 without a deployer (unclassified); "
        "0 without a date (in no period). Snapshot of 2026-01-21.\n"
    )
    quiet = ok(sample_db, "trends", "--by", "deployer", "--format", "csv", quiet=True)
    assert quiet.stderr == ""


def test_trends_table(sample_db: str) -> None:
    result = ok(
        sample_db,
        "trends",
        "--by",
        "taxonomy:MIT:Risk Domain",
        "--period",
        "quarter",
        "--since",
        "2025-01-01",
        quiet=True,
    )
    assert result.stdout == (
        "           incidents by taxonomy:MIT:Risk Domain per quarter            \n"
        "┏━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓\n"
        "┃ period  ┃ group                                          ┃ incidents ┃\n"
        "┡━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩\n"
        "│ 2025-Q1 │ 5. Human-Computer Interaction                  │ 1         │\n"
        "│ 2025-Q3 │ 7. AI system safety, failures, and limitations │ 1         │\n"
        "│ 2025-Q4 │ 7. AI system safety, failures, and limitations │ 1         │\n"
        "│ 2026-Q1 │ 4. Malicious Actors & Misuse                   │ 1         │\n"
        "└─────────┴────────────────────────────────────────────────┴───────────┘\n"
    )


def test_trends_json_matches_python_counts(fixture_db: str) -> None:
    result = ok(fixture_db, "trends", "--by", "developer", "--period", "month", "--format", "json")
    payload = json.loads(result.stdout)
    fixture = make_fixture()
    visible = fixture.visible()
    counts: dict[tuple[str, str], int] = {}
    for inc in visible:
        if inc.date is not None:
            for group in groups_of(inc, "developer"):
                key = (period_of(inc.date, "month"), group)
                counts[key] = counts.get(key, 0) + 1
    assert payload["rows"] == [
        {"period": p, "group": g, "incidents": n} for (p, g), n in sorted(counts.items())
    ]
    dated = [i for i in visible if i.date is not None]
    assert payload["summary"] == {
        "by": "developer",
        "period": "month",
        "since": None,
        "until": None,
        "where": {},
        "incidents": len(dated),
        "unclassified": sum(1 for i in dated if not i.roles["developer"]),
        "undated": len(visible) - len(dated),
        "snapshot_date": "2026-02-22",
    }
    assert result.stderr == ""  # with json the summary is in the document


def test_trends_limit(fixture_db: str) -> None:
    result = ok(fixture_db, "trends", "--by", "harmed", "--format", "csv", "--limit", "2")
    assert len(result.stdout.splitlines()) == 3


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_trends_plot(fixture_db: str, tmp_path: Path, suffix: str) -> None:
    chart = tmp_path / f"modes{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ok(
            fixture_db,
            "trends",
            "--by",
            "failure_mode",
            "--period",
            "quarter",
            "--plot",
            str(chart),
            "--style",
            "lines" if suffix == ".svg" else "stacked",
            "--format",
            "csv",
        )
    assert result.stderr.endswith(f"chart written to {chart}\n")
    assert chart.stat().st_size > 10_000
    if suffix == ".svg":
        text = chart.read_text(encoding="utf-8")
        assert "AI incidents per quarter by failure mode" in text
        assert "AIID snapshot of 2026-02-22" in text


def test_trends_errors(fixture_db: str, tmp_path: Path) -> None:
    result = invoke(fixture_db, "trends", "--by", "colour")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot group by 'colour'\nHint: Group by one of")
    result = invoke(fixture_db, "trends", "--by", "deployer", "--where", "deployer")
    assert result.exit_code == 1
    assert "Error: filter 'deployer' is not KEY=VALUE" in result.stderr
    result = invoke(fixture_db, "trends", "--by", "deployer", "--plot", str(tmp_path / "x.gif"))
    assert result.exit_code == 1
    assert "Error: cannot draw a chart into 'x.gif'\nHint: Name a .png or .svg file.\n" in (
        result.stderr
    )


def test_export_incidents_formats(fixture_db: str, tmp_path: Path) -> None:
    fixture = make_fixture()
    public = fixture.visible()
    everyone = fixture.visible(include_private=True)

    result = ok(fixture_db, "export", "incidents", "--format", "csv", quiet=True)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["title"] for r in rows] == [i.title for i in public]
    assert {r["source"] for r in rows} == {"aiid", "feed"}
    first = next(i for i in public if len(i.roles["deployer"]) == 2)
    row = next(r for r in rows if r["title"] == first.title)
    assert row["deployers"] == "; ".join(first.roles["deployer"])

    out = tmp_path / "all.jsonl"
    result = ok(
        fixture_db,
        "export",
        "incidents",
        "--format",
        "jsonl",
        "--out",
        str(out),
        "--include-private",
    )
    assert result.stdout == ""
    assert result.stderr.endswith(f"{len(everyone)} incidents exported to {out}\n")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["failure_modes"] for line in lines] == [
        i.labels("mode") for i in everyone
    ]
    assert not (tmp_path / "all.jsonl.partial").exists()

    out = tmp_path / "public.parquet"
    ok(fixture_db, "export", "incidents", "--format", "parquet", "--out", str(out), quiet=True)
    table = pq.read_table(out)
    assert table.num_rows == len(public)
    assert table.column("techniques").to_pylist() == [i.labels("technique") for i in public]

    result = invoke(fixture_db, "export", "incidents", "--format", "parquet")
    assert result.exit_code == 1
    assert result.stderr == "Error: parquet is binary: name a file\nHint: Add --out FILE.parquet.\n"

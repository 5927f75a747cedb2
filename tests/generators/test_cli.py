"""`incidentdb generate` and `incidentdb export suite` through click, with exact output."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from generators_support import make_labelled_store

from incidentdb.cli import cli


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "store.sqlite"
    make_labelled_store(f"sqlite:///{path}").close()
    return str(path)


def invoke(db: str, *args: str, quiet: bool = True) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*(["--quiet"] if quiet else []), "--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


def test_generate_prints_counts_per_kind(db: str) -> None:
    code, out, _ = invoke(
        db, "generate", "--suite", "nightly", "--variants", "1", "--format", "csv"
    )
    assert code == 0
    assert out == ("kind,cases\nagentic,4\ndistribution_shift,4\nmulti_turn,4\nsingle_turn,8\n")
    code, out, err = invoke(
        db, "generate", "--suite", "nightly", "--variants", "1", "--format", "json", quiet=False
    )
    assert code == 0
    assert "suite nightly: 20 cases from 6 incidents (0 added, 20 unchanged, 0 removed)" in err


def test_generate_with_incident_mode_and_skips(db: str) -> None:
    code, out, err = invoke(
        db,
        "generate",
        "--suite",
        "one",
        "--incident",
        "17",
        "--incident",
        "3",
        "--mode",
        "agentic",
        "--format",
        "csv",
        quiet=False,
    )
    assert code == 0
    assert out == "kind,cases\nagentic,4\n"
    assert "skipped incident 3: no failure-mode label (classify it first)" in err


def test_generate_errors_are_messages(db: str) -> None:
    code, _, err = invoke(db, "generate", "--suite", "x", "--where", "colour=red")
    assert code == 1
    assert err.startswith("Error: --where 'colour=red' is not KEY=VALUE with KEY one of since,")
    assert "Hint: Example: --where deployer=openai" in err
    code, _, err = invoke(db, "generate", "--suite", "x", "--mode", "chaos")
    assert code == 2 and "Invalid value for '--mode'" in err


def test_export_suite_to_every_harness(db: str, tmp_path: Path) -> None:
    assert invoke(db, "generate", "--suite", "nightly")[0] == 0
    out_dir = tmp_path / "exports"
    code, out, err = invoke(
        db, "export", "suite", "nightly", "--to", "promptfoo", str(out_dir), "--format", "csv"
    )
    assert code == 0
    assert out == f"file\n{out_dir / 'nightly.promptfooconfig.yaml'}\n"
    assert err.count("warning: ") == 3  # follow-ups, per-turn judging, tools (even with --quiet)
    for harness, first in [
        ("inspect_ai", "nightly.inspect.jsonl"),
        ("pyrit", "nightly.pyrit.yaml"),
        ("garak", "nightly.garak_payload.json"),
        ("openai-evals", "nightly.openai-evals.jsonl"),
        ("jsonl.v1", "nightly.cases.jsonl"),
    ]:
        code, out, _ = invoke(
            db,
            "export",
            "suite",
            "nightly",
            "--to",
            harness,
            str(tmp_path / harness),
            "--format",
            "csv",
        )
        assert code == 0
        assert out.splitlines()[1] == str(tmp_path / harness / first)


def test_export_errors(db: str, tmp_path: Path) -> None:
    code, _, err = invoke(db, "export", "suite", "missing", "--to", "jsonl", str(tmp_path))
    assert code == 1
    assert err == (
        "Error: no suite named 'missing' (suites: none yet)\n"
        "Hint: Build one with `incidentdb generate --suite NAME`.\n"
    )
    invoke(db, "generate", "--suite", "s")
    code, _, err = invoke(db, "export", "suite", "s", "--to", "excel", str(tmp_path))
    assert code == 1
    assert err.startswith(
        "Error: no generator named 'excel.v1'; registered: garak.v1, inspect_ai.v1, jsonl.v1, "
        "openai-evals.v1, promptfoo.v1, pyrit.v1"
    )

"""Every exporter against golden files: byte-identical output, and the losses it reports.

Set INCIDENTDB_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change (which,
for a released exporter name, means a new `.vN`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from generators_support import CONTEXTS

from generators import HARNESSES, cases_for_incident, exporter_for
from generators._export import Warnings
from generators.promptfoo.writer import promptfoo_test
from incidentdb import ExportError, RegistryError, TestCase, generators

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("INCIDENTDB_UPDATE_GOLDEN"))


def golden_cases() -> list[TestCase]:
    cases = [c for ctx in CONTEXTS for c in cases_for_incident(ctx, variants=1, seed=7)]
    return sorted(cases, key=lambda c: c.id)  # the order a stored suite is read in


EXPECTED_WARNINGS = {
    "inspect_ai": 0,
    "jsonl": 0,
    "promptfoo": 3,
    "pyrit": 4,
    "garak": 4,
    "openai-evals": 3,
}


@pytest.mark.parametrize("harness", HARNESSES)
def test_export_matches_golden_files(harness: str, tmp_path: Path) -> None:
    cases = golden_cases()
    assert len(cases) == 14
    result = exporter_for(harness).export(cases, tmp_path / "a", suite="golden suite")
    again = exporter_for(harness).export(cases, tmp_path / "b", suite="golden suite")
    assert result.cases == 14
    assert result.exporter == f"{harness}.v1"
    assert len(result.warnings) == EXPECTED_WARNINGS[harness], result.warnings
    assert result.warnings == again.warnings
    folder = GOLDEN / harness
    for path in result.files:
        assert path.name.startswith("golden_suite")
        data = path.read_bytes()
        assert data == (tmp_path / "b" / path.name).read_bytes()  # byte-identical
        if UPDATE:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / path.name).write_bytes(data)
        assert data == (folder / path.name).read_bytes(), f"{harness}: {path.name} changed"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in result.files)


def test_warnings_name_the_loss_and_the_cases() -> None:
    cases = golden_cases()
    crescendo = [c.id for c in cases if c.follow_ups]
    warnings = Warnings()
    for case in cases:
        promptfoo_test(case, warnings)
    rendered = warnings.render()
    follow = next(w for w in rendered if "follow-up" in w)
    assert follow == (
        "promptfoo sends one request per test: scripted follow-up turns are kept in "
        f"vars.follow_ups but not played (2 cases: {crescendo[0]}, {crescendo[1]})"
    )


def test_jsonl_is_lossless(tmp_path: Path) -> None:
    cases = golden_cases()
    (path,) = exporter_for("jsonl").export(cases, tmp_path, suite="s").files
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [TestCase.from_json(line) for line in lines] == cases


def test_registry_and_errors(tmp_path: Path) -> None:
    assert [n for n in generators.names() if n.endswith(".v1")] == [
        "garak.v1",
        "inspect_ai.v1",
        "jsonl.v1",
        "openai-evals.v1",
        "promptfoo.v1",
        "pyrit.v1",
    ]
    assert type(exporter_for("promptfoo.v1")) is type(exporter_for("promptfoo"))
    with pytest.raises(RegistryError, match=r"no generator named 'excel.v1'; registered: garak"):
        exporter_for("excel")
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        exporter_for("jsonl").export(golden_cases(), target, suite="s")

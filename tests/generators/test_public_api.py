"""The generators package's public API, and the demo's export step."""

from __future__ import annotations

from pathlib import Path

import generators
from generators import demo_exports
from incidentdb import Store


def test_exported_names() -> None:
    assert sorted(generators.__all__) == sorted(
        [
            "BUILDERS",
            "HARNESSES",
            "MODES",
            "MUTATORS",
            "ExportResult",
            "Exporter",
            "GenerateResult",
            "cases_for_incident",
            "demo_exports",
            "export_suite",
            "exporter_for",
            "generate_suite",
        ]
    )
    for name in generators.__all__:
        assert hasattr(generators, name), name
    assert sorted(generators.BUILDERS) == [
        "agentic.v1",
        "distribution_shift.v1",
        "multi_turn.v1",
        "single_turn.v1",
    ]


def test_demo_exports_to_every_harness(labelled_sqlite: Store, tmp_path: Path) -> None:
    generated, exports = demo_exports(labelled_sqlite, tmp_path / "exports")
    assert generated.cases == 20
    assert [e.exporter for e in exports] == [
        "inspect_ai.v1",
        "promptfoo.v1",
        "pyrit.v1",
        "garak.v1",
        "openai-evals.v1",
        "jsonl.v1",
    ]
    assert all(e.cases == 20 for e in exports)
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == [
        "garak",
        "inspect_ai",
        "jsonl",
        "openai-evals",
        "promptfoo",
        "pyrit",
    ]

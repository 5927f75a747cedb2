"""Tier 3: `taxonomy eval` of the shipped default on the shared dev labels (prints figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from incidentdb.cli import cli
from taxonomy import _default

SNAPSHOT = "aiid_data/TanviPatel9722+AI-incident-snapshot/data"


@pytest.mark.shared
@pytest.mark.slow
def test_eval_default_on_dev_labels(
    shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = shared_dir / "labels" / "dev.jsonl"
    snapshot = shared_dir / SNAPSHOT
    if not labels.exists() or not snapshot.is_dir():
        pytest.skip("dev labels or the 2026 snapshot are missing from ../shared")
    monkeypatch.setenv(_default.CACHE_ENV, str(tmp_path / "cache"))
    db = str(tmp_path / "store.sqlite")
    runner = CliRunner()
    ingested = runner.invoke(cli, ["--quiet", "--db", db, "ingest", "aiid", str(snapshot)])
    assert ingested.exit_code == 0, ingested.output
    result = runner.invoke(
        cli,
        ["--quiet", "--db", db, "taxonomy", "eval", "--labels", str(labels), "--format", "json"],
    )
    assert result.exit_code == 0, (result.output, result.exception)
    figures = json.loads(result.stdout)
    assert set(figures["labels"]) == {
        "multi_turn",
        "agentic",
        "distribution_shift",
        "adversarial",
        "misuse",
    }
    # Figures are reported, not asserted: CI prints them.
    print(f"\ndefault {figures['model']['version']} on {figures['incidents']} dev incidents")
    for mode, s in figures["labels"].items():
        low, high = figures["intervals"][mode]["f1"]
        print(
            f"  {mode:20} P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f} "
            f"[{low:.3f}, {high:.3f}] n={s['support']}  cv F1 {figures['cv']['labels'][mode]['f1']:.3f}"
        )
    low, high = figures["intervals"]["macro_f1"]["f1"]
    print(f"  macro-F1 {figures['macro_f1']:.3f} [{low:.3f}, {high:.3f}]")
    print(f"  5-fold CV macro-F1 (trained on dev + examples) {figures['cv']['macro_f1']:.3f}")

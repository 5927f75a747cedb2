"""Exporting a stored suite, and the demo's last step: one suite exported to every harness."""

from __future__ import annotations

from pathlib import Path

from generators._export import ExportResult, exporter_for
from generators._generate import GenerateResult, generate_suite
from incidentdb import Store

__all__ = ["HARNESSES", "demo_exports", "export_suite"]

HARNESSES = ("inspect_ai", "promptfoo", "pyrit", "garak", "openai-evals", "jsonl")
"""The harness names `export suite --to` takes (each is `<name>.v1` in the registry)."""


def export_suite(store: Store, suite: str, to: str, out: str | Path) -> ExportResult:
    """Write suite `suite` into folder `out` in harness `to`'s format (`promptfoo`, `jsonl.v1`).

    Raises:
        NotFoundError: no suite of that name.
        RegistryError: no exporter of that name (the message lists them).
        ExportError: `out` exists and is not a folder.
    """
    exporter = exporter_for(to)
    store.get_suite(suite)  # a missing suite fails before any file is written
    return exporter.export(store.suite_cases(suite), Path(out), suite=suite)


def demo_exports(
    store: Store, out: str | Path, *, suite: str = "demo", variants: int = 1, seed: int = 0
) -> tuple[GenerateResult, list[ExportResult]]:
    """Generate `suite` from every labelled incident and export it to every harness.

    Each harness gets a sub-folder of `out` named after it.
    """
    generated = generate_suite(store, suite, variants=variants, seed=seed)
    exports = [export_suite(store, suite, h, Path(out) / h) for h in HARNESSES]
    return generated, exports

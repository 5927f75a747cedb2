"""The public API is exactly what __all__ names; changes to it are deliberate."""

from __future__ import annotations

import incidentdb


def test_exported_names() -> None:
    assert sorted(incidentdb.__all__) == sorted(
        [
            "SILENT",
            "CASE_SCHEMA_VERSION",
            "JudgeSpec",
            "Message",
            "Provenance",
            "TechniqueRef",
            "TestCase",
            "Tool",
            "ToolCall",
            "ToolCallCheck",
            "SuiteResult",
            "ArchiveError",
            "ExportError",
            "CompanyIncident",
            "DocumentFormatError",
            "ClassificationRecord",
            "DecisionError",
            "DuplicateRecord",
            "EntityRecord",
            "EntityRole",
            "HarmCategory",
            "IncidentDBError",
            "IncidentRecord",
            "IngestError",
            "IngestResult",
            "IngestWriter",
            "InvalidInputError",
            "Ingester",
            "MigrationError",
            "NotFoundError",
            "Progress",
            "QueryError",
            "Registry",
            "RegistryError",
            "ReplayError",
            "CaseRecord",
            "RunRecorder",
            "ReportRecord",
            "ReportType",
            "SnapshotFormatError",
            "SourceError",
            "SourceKind",
            "Store",
            "StoreError",
            "SubmissionRecord",
            "TaxonomyRecord",
            "TranslationRecord",
            "Trends",
            "__version__",
            "generators",
            "ingesters",
        ]
    )
    for name in incidentdb.__all__:
        assert hasattr(incidentdb, name), name


def test_every_error_derives_from_the_base() -> None:
    for name in incidentdb.__all__:
        obj = getattr(incidentdb, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, incidentdb.IncidentDBError), name


def test_core_does_not_import_the_other_packages() -> None:
    import subprocess
    import sys

    code = (
        "import sys, incidentdb, incidentdb._store, incidentdb._writer;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('ingest', 'taxonomy', 'generators')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

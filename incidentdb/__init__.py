"""incidentdb: an AI incident database and regression-test generator.

The public API is what ``__all__`` names; everything in underscored modules is private.

>>> from incidentdb import Store
>>> store = Store("sqlite:///incidents.db")          # created and migrated on first use
>>> store.ingest("aiid.v1", "backup-20260222.tar.bz2")  # doctest: +SKIP
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidentdb._cases import (
        CASE_SCHEMA_VERSION,
        JudgeSpec,
        Message,
        Provenance,
        TechniqueRef,
        TestCase,
        Tool,
        ToolCall,
        ToolCallCheck,
    )
    from incidentdb._company import CompanyIncident, HarmCategory, ReportType
    from incidentdb._errors import (
        ArchiveError,
        DecisionError,
        DocumentFormatError,
        ExportError,
        IncidentDBError,
        IngestError,
        InvalidInputError,
        MigrationError,
        NotFoundError,
        QueryError,
        RegistryError,
        ReplayError,
        SnapshotFormatError,
        SourceError,
        StoreError,
    )
    from incidentdb._progress import SILENT, Progress
    from incidentdb._records import (
        ClassificationRecord,
        DuplicateRecord,
        EntityRecord,
        EntityRole,
        IncidentRecord,
        ReportRecord,
        SourceKind,
        SubmissionRecord,
        TaxonomyRecord,
        TranslationRecord,
    )
    from incidentdb._registry import Registry, generators, ingesters
    from incidentdb._runs import CaseRecord, RunRecorder
    from incidentdb._store import Ingester, IngestResult, Store
    from incidentdb._suites import SuiteResult
    from incidentdb._trends import Trends
    from incidentdb._writer import IngestWriter

# Where each public name lives. Importing the package loads none of them: a command that
# needs only the store does not pay for pydantic's case models, the company reports, the
# trends (about 0.3 s of start-up), and `from incidentdb import X` loads X's module then.
_EXPORTS: dict[str, str] = {
    "ArchiveError": "incidentdb._errors",
    "CASE_SCHEMA_VERSION": "incidentdb._cases",
    "CaseRecord": "incidentdb._runs",
    "ClassificationRecord": "incidentdb._records",
    "CompanyIncident": "incidentdb._company",
    "DecisionError": "incidentdb._errors",
    "DocumentFormatError": "incidentdb._errors",
    "DuplicateRecord": "incidentdb._records",
    "EntityRecord": "incidentdb._records",
    "EntityRole": "incidentdb._records",
    "ExportError": "incidentdb._errors",
    "HarmCategory": "incidentdb._company",
    "IncidentDBError": "incidentdb._errors",
    "IncidentRecord": "incidentdb._records",
    "IngestError": "incidentdb._errors",
    "IngestResult": "incidentdb._store",
    "IngestWriter": "incidentdb._writer",
    "Ingester": "incidentdb._store",
    "InvalidInputError": "incidentdb._errors",
    "JudgeSpec": "incidentdb._cases",
    "Message": "incidentdb._cases",
    "MigrationError": "incidentdb._errors",
    "NotFoundError": "incidentdb._errors",
    "Progress": "incidentdb._progress",
    "Provenance": "incidentdb._cases",
    "QueryError": "incidentdb._errors",
    "Registry": "incidentdb._registry",
    "RegistryError": "incidentdb._errors",
    "ReplayError": "incidentdb._errors",
    "ReportRecord": "incidentdb._records",
    "ReportType": "incidentdb._company",
    "RunRecorder": "incidentdb._runs",
    "SILENT": "incidentdb._progress",
    "SnapshotFormatError": "incidentdb._errors",
    "SourceError": "incidentdb._errors",
    "SourceKind": "incidentdb._records",
    "Store": "incidentdb._store",
    "StoreError": "incidentdb._errors",
    "SubmissionRecord": "incidentdb._records",
    "SuiteResult": "incidentdb._suites",
    "TaxonomyRecord": "incidentdb._records",
    "TechniqueRef": "incidentdb._cases",
    "TestCase": "incidentdb._cases",
    "Tool": "incidentdb._cases",
    "ToolCall": "incidentdb._cases",
    "ToolCallCheck": "incidentdb._cases",
    "TranslationRecord": "incidentdb._records",
    "Trends": "incidentdb._trends",
    "generators": "incidentdb._registry",
    "ingesters": "incidentdb._registry",
}

__version__ = "0.1.0"

__all__ = [
    "CASE_SCHEMA_VERSION",
    "SILENT",
    "ArchiveError",
    "CaseRecord",
    "ClassificationRecord",
    "CompanyIncident",
    "DecisionError",
    "DocumentFormatError",
    "DuplicateRecord",
    "EntityRecord",
    "EntityRole",
    "ExportError",
    "HarmCategory",
    "IncidentDBError",
    "IncidentRecord",
    "IngestError",
    "IngestResult",
    "IngestWriter",
    "Ingester",
    "InvalidInputError",
    "JudgeSpec",
    "Message",
    "MigrationError",
    "NotFoundError",
    "Progress",
    "Provenance",
    "QueryError",
    "Registry",
    "RegistryError",
    "ReplayError",
    "ReportRecord",
    "ReportType",
    "RunRecorder",
    "SnapshotFormatError",
    "SourceError",
    "SourceKind",
    "Store",
    "StoreError",
    "SubmissionRecord",
    "SuiteResult",
    "TaxonomyRecord",
    "TechniqueRef",
    "TestCase",
    "Tool",
    "ToolCall",
    "ToolCallCheck",
    "TranslationRecord",
    "Trends",
    "__version__",
    "generators",
    "ingesters",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'incidentdb' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

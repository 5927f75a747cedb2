"""incidentdb: an AI incident database and regression-test generator.

The public API is what ``__all__`` names; everything in underscored modules is private.

>>> from incidentdb import Store
>>> store = Store("sqlite:///incidents.db")          # created and migrated on first use
>>> store.ingest("aiid.v1", "backup-20260222.tar.bz2")  # doctest: +SKIP
"""

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

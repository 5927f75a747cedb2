"""incidentdb: an AI incident database and regression-test generator.

The public API is what ``__all__`` names; everything in underscored modules is private.

>>> from incidentdb import Store
>>> store = Store("sqlite:///incidents.db")          # created and migrated on first use
>>> store.ingest("aiid.v1", "backup-20260222.tar.bz2")  # doctest: +SKIP
"""

from incidentdb._errors import (
    ArchiveError,
    IncidentDBError,
    IngestError,
    MigrationError,
    NotFoundError,
    QueryError,
    RegistryError,
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
from incidentdb._store import Ingester, IngestResult, Store
from incidentdb._trends import Trends
from incidentdb._writer import IngestWriter

__version__ = "0.1.0"

__all__ = [
    "SILENT",
    "ArchiveError",
    "ClassificationRecord",
    "DuplicateRecord",
    "EntityRecord",
    "EntityRole",
    "IncidentDBError",
    "IncidentRecord",
    "IngestError",
    "IngestResult",
    "IngestWriter",
    "Ingester",
    "MigrationError",
    "NotFoundError",
    "Progress",
    "QueryError",
    "Registry",
    "RegistryError",
    "ReportRecord",
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

"""The one exception tree of incidentdb.

Every error the library raises on purpose derives from :class:`IncidentDBError`; the CLI turns
each into a message with a hint and a non-zero exit code. The tree::

    IncidentDBError
    ├── StoreError                  the database cannot be opened, migrated or queried
    │   ├── MigrationError          the schema is not at the revision this version needs
    │   └── QueryError              a query's parameters are invalid (dimension, period, filter)
    ├── NotFoundError               an incident, report or other record does not exist
    ├── RegistryError               no plug-in of that name (lists the names that exist)
    └── IngestError                 an ingest run failed; nothing of it was written
        ├── SourceError             the source cannot be reached or opened (URL, path)
        ├── ArchiveError            an archive is truncated, corrupt or unsafe
        └── SnapshotFormatError     a file in a snapshot is malformed (names file and row)
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "IncidentDBError",
    "IngestError",
    "MigrationError",
    "NotFoundError",
    "QueryError",
    "RegistryError",
    "SnapshotFormatError",
    "SourceError",
    "StoreError",
]


class IncidentDBError(Exception):
    """Base class of every error incidentdb raises on purpose.

    Attributes:
        hint: one sentence telling the user what to do about it, or None.
    """

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class StoreError(IncidentDBError):
    """The database cannot be opened, migrated or queried."""


class MigrationError(StoreError):
    """The schema is not at the revision this version of incidentdb needs."""

    hint = "Run `incidentdb db upgrade`."


class NotFoundError(IncidentDBError):
    """A requested record does not exist."""


class RegistryError(IncidentDBError):
    """A plug-in name is not registered."""


class IngestError(IncidentDBError):
    """An ingest run failed; the store is as it was before the run."""


class SourceError(IngestError):
    """The source of an ingest cannot be reached or opened."""


class ArchiveError(IngestError):
    """An archive is truncated, corrupt, or holds an unsafe member."""


class SnapshotFormatError(IngestError):
    """A file inside a snapshot is malformed.

    Attributes:
        file: the file's name inside the snapshot.
        row: the 1-based row (CSV, counting the header as row 1) or document number (BSON).
    """

    def __init__(
        self, file: str, row: int | None, message: str, *, hint: str | None = None
    ) -> None:
        where = f"{file}, row {row}" if row is not None else file
        super().__init__(f"{where}: {message}", hint=hint)
        self.file = file
        self.row = row


class QueryError(StoreError):
    """A query's parameters are invalid (an unknown dimension, period or filter)."""

"""The one exception tree of incidentdb.

Every error the library raises on purpose derives from :class:`IncidentDBError`; the CLI turns
each into a message with a hint and a non-zero exit code. The tree::

    IncidentDBError
    ├── StoreError                  the database cannot be opened, migrated or queried
    │   ├── MigrationError          the schema is not at the revision this version needs
    │   └── QueryError              a query's parameters are invalid (dimension, period, filter)
    ├── NotFoundError               an incident, report or other record does not exist
    ├── RegistryError               no plug-in of that name (lists the names that exist)
    ├── InvalidInputError           a company incident breaks the schema (names every field)
    ├── DecisionError               an editor decision cannot apply (merge an AIID incident…)
    ├── EvaluationDataError         the data an evaluation reads is missing or malformed
    ├── ClassifierError             a failure-mode classifier cannot be trained or loaded
    ├── LabelError                  a label or a labels file is invalid (names file and line)
    ├── ExportError                 an export cannot be written (OUT is a file, …)
    ├── ReplayError                 a replay cannot go on (endpoint refuses, API key missing)
    └── IngestError                 an ingest run failed; nothing of it was written
        ├── SourceError             the source cannot be reached or opened (URL, path)
        ├── ArchiveError            an archive is truncated, corrupt or unsafe
        ├── SnapshotFormatError     a file in a snapshot is malformed (names file and row)
        └── DocumentFormatError     documents of a source (AVID JSON) are malformed (file, field)
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "ClassifierError",
    "DecisionError",
    "DocumentFormatError",
    "EvaluationDataError",
    "ExportError",
    "IncidentDBError",
    "IngestError",
    "InvalidInputError",
    "LabelError",
    "MigrationError",
    "NotFoundError",
    "QueryError",
    "RegistryError",
    "ReplayError",
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


class DecisionError(IncidentDBError):
    """An editor decision (merge, move, accept, reject) cannot apply to what it names."""


class EvaluationDataError(IncidentDBError):
    """The data an evaluation reads is missing or malformed (names the path)."""

    hint = "Point --data at the shared data folder (the one holding aiid_data/)."


class ClassifierError(IncidentDBError):
    """A failure-mode classifier cannot be trained, loaded or used.

    Raised, among others, for a saved model written by an incompatible version.
    """

    hint = "Retrain it with `incidentdb taxonomy train`, or leave out --model for the default."


class LabelError(IncidentDBError):
    """A failure-mode label, or a labels file, is invalid.

    Attributes:
        file: the labels file, when the error is in one.
        line: the 1-based line of that file.
    """

    hint = 'A labels file has one JSON object a line: {"incident_id": N, "labels": [...]}.'

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = f"{file}, line {line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}{message}", hint=hint)
        self.file = file
        self.line = line


class ExportError(IncidentDBError):
    """An export cannot be written: the output path is not a folder, or a case cannot be
    expressed at all in the harness's format."""

    hint = "Give a folder path for OUT; it is created when missing."


class ReplayError(IncidentDBError):
    """A replay cannot go on: the endpoint refuses every request (wrong URL, key or model), or
    the API key's environment variable is not set. Results recorded so far are kept."""


class InvalidInputError(IncidentDBError):
    """Input a user wrote (a company incident file, prompt answers) breaks the schema.

    Attributes:
        source: the file (or "input") the problems are in.
        problems: ``(field, message)`` pairs; the field is a dotted path such as
            ``ai_system.name``.
    """

    hint = "Fix the named fields and run the command again; nothing was written."

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        lines = "; ".join(f"{field}: {message}" for field, message in problems)
        super().__init__(f"{source}: {lines}")
        self.source = source
        self.problems = problems


class DocumentFormatError(IngestError):
    """One or more documents of a source (AVID JSON files) are malformed.

    Attributes:
        problems: ``(file, field, message)`` triples, every problem found in the source; the
            field is a dotted path such as ``impact.avid.sep_view[0]``.
    """

    hint = "Nothing was imported. Fix or remove the named files (or pass --lenient)."

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        files = sorted({file for file, _, _ in problems})
        lines = "\n".join(f"  {file}: {field}: {message}" for file, field, message in problems)
        super().__init__(f"{len(files)} invalid document(s):\n{lines}")
        self.problems = problems


class QueryError(StoreError):
    """A query's parameters are invalid (an unknown dimension, period or filter)."""

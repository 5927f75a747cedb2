"""The `avid.v1` ingester: AVID reports and vulnerabilities into the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from incidentdb import DocumentFormatError, IngestWriter, Progress
from incidentdb._external import ExternalIncidentRecord, write_external
from ingest.avid.fetch import read_documents
from ingest.avid.parse import parse_document

__all__ = ["AvidIngester"]


@dataclass
class _Loaded:
    records: list[tuple[ExternalIncidentRecord, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class AvidIngester:
    """Imports AVID JSON: single files, folders, garak `*.avid.jsonl`.

    Every document is validated before anything is written: one invalid document fails the
    whole run, naming every file and field at fault, and the store stays as it was.

    Args:
        lenient: repair the drift seen in the real AVID database (SEP names matched by code,
            empty classof, metrics in other shapes) instead of refusing those documents.
    """

    name = "avid.v1"

    def __init__(self, lenient: bool = False) -> None:
        self.lenient = lenient

    @contextmanager
    def open(self, source: str, progress: Progress) -> Iterator[_Loaded]:
        from taxonomy import load_taxonomy

        progress.stage("reading AVID documents")
        docs, notes = read_documents(source)
        taxonomy = load_taxonomy()
        loaded = _Loaded(notes=list(notes))
        problems: list[tuple[str, str, str]] = []
        by_id: dict[str, int] = {}
        for doc in docs:
            progress.advance()
            if doc.error is not None:
                problems.append((doc.locator, "(file)", doc.error))
                continue
            parsed = parse_document(doc.data, lenient=self.lenient, taxonomy=taxonomy)
            problems.extend((doc.locator, where, message) for where, message in parsed.problems)
            loaded.notes.extend(f"{doc.locator}: {note}" for note in parsed.notes)
            if parsed.record is None:
                continue
            known = by_id.get(parsed.record.external_id)
            if known is None:
                by_id[parsed.record.external_id] = len(loaded.records)
                loaded.records.append((parsed.record, doc.locator))
            elif loaded.records[known][0] != parsed.record:
                loaded.notes.append(
                    f"{parsed.record.external_id} appears more than once; "
                    f"{doc.locator} replaces {loaded.records[known][1]}"
                )
                loaded.records[known] = (parsed.record, doc.locator)
        if problems:
            raise DocumentFormatError(problems)
        yield loaded

    def load(self, loaded: _Loaded, writer: IngestWriter, progress: Progress) -> None:
        progress.stage("AVID incidents", total=len(loaded.records))
        write_external(writer, loaded.records)
        for note in loaded.notes:
            writer.note(note)

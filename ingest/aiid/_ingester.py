"""The `aiid.v1` ingester: AIID snapshot (archive, folder or URL) into the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from incidentdb import IngestError, IngestWriter, Progress, TaxonomyRecord
from ingest._prefetch import prefetched, produced_in_process
from ingest.aiid.fetch import open_snapshot_folder
from ingest.aiid.snapshot import Snapshot

__all__ = ["AiidIngester"]

# From this size of reports file on, reports are parsed in a separate process, and a first
# import builds the full-text index of reports in a thread of its own. Starting a process costs
# about a second (a fresh interpreter imports the parser); a file this big takes longer than
# that to parse.
PROCESS_PARSE_BYTES = 32 * 1024 * 1024


class AiidIngester:
    """Imports an AI Incident Database snapshot, every export generation from 2021 on.

    Args:
        allow_older: import a snapshot older than one already imported. Its records replace
            the newer ones it also holds, so this is refused unless asked for.
    """

    name = "aiid.v1"

    def __init__(self, allow_older: bool = False) -> None:
        self.allow_older = allow_older

    @contextmanager
    def open(self, source: str, progress: Progress) -> Iterator[Snapshot]:
        with open_snapshot_folder(source, progress) as folder:
            yield Snapshot(folder)

    def load(self, snapshot: Snapshot, writer: IngestWriter, progress: Progress) -> None:
        taken = snapshot.taken_at
        newest = writer.latest_source_date(self.name)
        if taken is not None and newest is not None and taken < newest and not self.allow_older:
            raise IngestError(
                f"this snapshot ({taken:%Y-%m-%d}) is older than one already imported "
                f"({newest:%Y-%m-%d}); importing it would replace newer records with older ones",
                hint="Pass --allow-older to import it anyway.",
            )
        writer.source_date = taken
        # Order matters: names before the incidents that use them, duplicates before incidents
        # (merged ids are skipped), reports before incidents (links find them), incidents before
        # the classifications that point at them.
        progress.stage("entities")
        writer.entities(snapshot.entities())
        progress.stage("taxonomies")
        taxa = list(snapshot.taxa())
        writer.taxa(taxa)
        known_taxa: dict[str, TaxonomyRecord] = {
            **writer.stored_taxa(),
            **{t.namespace: t for t in taxa},
        }
        progress.stage("duplicates")
        writer.duplicates(snapshot.duplicates())
        progress.stage("reports")
        make_row = writer.report_row_maker()
        reports_file = snapshot.files.get("reports")
        big = reports_file is not None and reports_file.stat().st_size >= PROCESS_PARSE_BYTES
        if big:
            rows = produced_in_process(_report_rows, snapshot.root, make_row)
        else:
            rows = prefetched(map(make_row, snapshot.reports()))
        writer.report_rows(rows, index_apart=big)
        progress.stage("incidents")
        writer.incidents(prefetched(snapshot.incidents()))
        progress.stage("classifications")
        writer.classifications(snapshot.classifications(known_taxa))
        progress.stage("submissions")
        writer.submissions(snapshot.submissions())
        progress.stage("translations")
        writer.translations(snapshot.translations())
        modelled_elsewhere = [name for name in snapshot.ignored if not _is_metadata(name)]
        if modelled_elsewhere:
            writer.note(
                "not imported (incidentdb does not model these): " + ", ".join(modelled_elsewhere)
            )
        metadata = len(snapshot.ignored) - len(modelled_elsewhere)
        if metadata:
            writer.note(
                f"skipped {metadata} metadata file(s) (mongodump metadata, licence, copies)"
            )


def _report_rows(root: Path, make_row: Any) -> Iterator[tuple[Any, ...]]:
    """The reports of the snapshot at `root` as rows to write (run in the parsing process)."""
    return map(make_row, Snapshot(root).reports())


def _is_metadata(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.endswith((".metadata.json", ".decoded.json")) or base in (
        "prelude.json",
        "license.txt",
    )

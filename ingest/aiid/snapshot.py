"""Find the collections in an extracted AIID snapshot folder and read them as records.

An official weekly snapshot (``backup-YYYYMMDDHHMMSS.tar.bz2``) extracts to
``mongodump_full_snapshot/`` with CSV exports at the top, mongodump BSON in ``aiidprod/`` and
report translations in ``translations/``. Copies of older snapshots found in the wild keep only
some of those files and sometimes flatten the layout, so files are recognised by name, directly
in the root or in its ``aiidprod/`` and ``translations/`` folders. When a collection exists as
both BSON and CSV the BSON is read: it is complete (variants, editor notes, implicated systems)
where the CSV export keeps a fixed subset of columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeVar

from bson import ObjectId

from incidentdb._errors import SnapshotFormatError, SourceError
from incidentdb._records import (
    ClassificationRecord,
    DuplicateRecord,
    EntityRecord,
    IncidentRecord,
    ReportRecord,
    SubmissionRecord,
    TaxonomyRecord,
    TranslationRecord,
)
from ingest.aiid.parse import (
    classification_from_document,
    classification_layout,
    classifications_from_csv,
    duplicate_from_document,
    duplicates_from_csv,
    entity_from_document,
    incident_from_document,
    incidents_from_csv,
    iter_bson_documents,
    quickadd_from_csv,
    quickadd_from_document,
    report_from_document,
    reports_from_csv,
    submission_from_document,
    submissions_from_csv,
    taxonomy_from_document,
    translation_from_document,
)

__all__ = ["Snapshot"]

R = TypeVar("R")

# Searched in this order, so aiidprod/x.bson wins over a stray x.bson at the top.
_FOLDERS: Final = ("aiidprod", "", "translations")
_BSON_COLLECTIONS: Final = frozenset(
    {
        "classifications",
        "duplicates",
        "entities",
        "incidents",
        "quickadd",
        "reports",
        "submissions",
        "taxa",
    }
)
_CSV_COLLECTIONS: Final = frozenset(
    {"duplicates", "incidents", "quickadd", "reports", "submissions"}
)
_TRANSLATED_REPORTS: Final = re.compile(r"^reports_[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?$")
_HEADER_BYTES: Final = 64 * 1024
_OBJECT_ID: Final = re.compile(r"ObjectId\(([0-9a-fA-F]{24})\)")


class Snapshot:
    """An extracted AIID snapshot folder, read collection by collection.

    Every reader is an iterator that streams its file and is empty when the snapshot lacks the
    collection. Collections are keyed by name (``"incidents"``, ``"taxa"`` …); collections that
    span several files get one key per file: ``"classifications:MIT"`` for
    ``classifications_MIT.csv``, ``"translations:reports_en"`` for
    ``translations/reports_en.bson``.

    Args:
        root: the extracted folder (``mongodump_full_snapshot/``), or a folder whose only
            subfolder is that.

    Raises:
        SourceError: ``root`` is not a folder.
        SnapshotFormatError: no file in it is one a snapshot holds.
    """

    def __init__(self, root: Path) -> None:
        root = Path(root)
        if not root.is_dir():
            raise SourceError(f"{root} is not a folder")
        found = _scan(root)
        if not found.files:
            inner = [child for child in root.iterdir() if child.is_dir()]
            if len(inner) == 1:
                root, found = inner[0], _scan(inner[0])
        if not found.files:
            raise SnapshotFormatError(
                str(root),
                None,
                "no AIID snapshot file found (expected incidents.csv, classifications_*.csv, "
                "aiidprod/*.bson or translations/*.bson)",
            )
        self.root = root
        self._found = found

    def __repr__(self) -> str:
        return f"Snapshot({str(self.root)!r}, generation={self.generation!r})"

    @property
    def files(self) -> dict[str, Path]:
        """The file read for each collection, by collection key (sorted)."""
        return dict(self._found.files)

    @property
    def ignored(self) -> list[str]:
        """Files present but not imported, relative to the root (sorted).

        Collections incidentdb does not model (checklists, candidates, migrations …), mongodump
        metadata, derived ``*.decoded.json`` copies, ``license.txt``, and CSV exports superseded
        by the BSON dump of the same collection.
        """
        return list(self._found.ignored)

    @cached_property
    def generation(self) -> str:
        """Which export generation this is: "2021", "2023", "2025", "2026" or "unknown".

        Told from the classification CSVs' layout (2024+ per-namespace files say "2026", the
        two older ``classifications_cset.csv`` layouts "2023" and "2021"); failing that, a
        mongodump of the main database says "2025".
        """
        layouts = {_layout(path) for path in self._found.classification_csvs}
        for generation in ("2026", "2023", "2021"):
            if generation in layouts:
                return generation
        if self._found.has_main_dump:
            return "2025"
        return "unknown"

    @cached_property
    def taken_at(self) -> dt.datetime | None:
        """When the snapshot was taken, as far as its content tells: the creation time of its
        newest incident (MongoDB ObjectIds carry one). None without incidents.

        A cheap pre-pass over the incidents' ``_id`` column only; malformed rows are left for
        the real parse to report.
        """
        path = self._found.files.get("incidents")
        if path is None:
            return None
        newest = 0
        try:
            if path.suffix == ".bson":
                with path.open("rb") as stream:
                    for document in iter_bson_documents(stream, self._name(path)):
                        oid = document.get("_id")
                        if isinstance(oid, ObjectId):
                            newest = max(newest, int(oid.generation_time.timestamp()))
            else:
                with path.open(encoding="utf-8", errors="replace", newline="") as text:
                    for row in csv.DictReader(text):
                        match = _OBJECT_ID.fullmatch((row.get("_id") or "").strip())
                        if match:
                            newest = max(newest, int(match.group(1)[:8], 16))
        except (SnapshotFormatError, csv.Error):
            return None
        return dt.datetime.fromtimestamp(newest, dt.UTC).replace(tzinfo=None) if newest else None

    def has(self, collection: str) -> bool:
        """Whether the snapshot holds ``collection`` ("classifications" counts any of them)."""
        prefix = collection + ":"
        return any(key == collection or key.startswith(prefix) for key in self._found.files)

    def entities(self) -> Iterator[EntityRecord]:
        """The entities of ``entities.bson`` (the CSV export has none), less blank placeholders."""
        for entity in self._read("entities", entity_from_document, None):
            if entity is not None:
                yield entity

    def taxa(self) -> Iterator[TaxonomyRecord]:
        """The taxonomy definitions of ``taxa.bson``."""
        yield from self._read("taxa", taxonomy_from_document, None)

    def incidents(self) -> Iterator[IncidentRecord]:
        """The incidents, from ``incidents.bson`` or else ``incidents.csv``."""
        yield from self._read("incidents", incident_from_document, incidents_from_csv)

    def reports(self) -> Iterator[ReportRecord]:
        """The reports (and variants), from ``reports.bson`` or else ``reports.csv``."""
        yield from self._read("reports", report_from_document, reports_from_csv)

    def duplicates(self) -> Iterator[DuplicateRecord]:
        """The merged incidents, from ``duplicates.bson`` or else ``duplicates.csv``."""
        yield from self._read("duplicates", duplicate_from_document, duplicates_from_csv)

    def submissions(self) -> Iterator[SubmissionRecord]:
        """Pending submissions, then quick-add links (kind ``"quickadd"``)."""
        yield from self._read("submissions", submission_from_document, submissions_from_csv)
        yield from self._read("quickadd", quickadd_from_document, quickadd_from_csv)

    def translations(self) -> Iterator[TranslationRecord]:
        """The report translations of every ``translations/reports*.bson``, by file name."""
        for key in self._keys("translations:"):
            yield from self._read(key, translation_from_document, None)

    def classifications(
        self, taxa: Mapping[str, TaxonomyRecord] | None = None
    ) -> Iterator[ClassificationRecord]:
        """The classifications, from ``classifications.bson`` or else every classification CSV.

        Args:
            taxa: taxonomy definitions by namespace, used to type and split the plain-text
                values of 2024+ CSVs. None reads this snapshot's own ``taxa.bson``; a
                namespace missing from them falls back to a built-in table.

        Yields:
            The classifications, file by file in key order.
        """
        if "classifications" in self._found.files:
            yield from self._read("classifications", classification_from_document, None)
            return
        keys = self._keys("classifications:")
        if not keys:
            return
        if taxa is None:
            taxa = {taxonomy.namespace: taxonomy for taxonomy in self.taxa()}
        for key in keys:
            path = self._found.files[key]
            with path.open("rb") as stream:
                yield from classifications_from_csv(stream, self._name(path), taxa)

    def _keys(self, prefix: str) -> list[str]:
        return [key for key in self._found.files if key.startswith(prefix)]

    def _name(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _read(
        self,
        key: str,
        from_document: Callable[[dict[str, Any], str, int], R],
        from_csv: Callable[[BinaryIO, str], Iterator[R]] | None,
    ) -> Iterator[R]:
        path = self._found.files.get(key)
        if path is None:
            return
        name = self._name(path)
        with path.open("rb") as stream:
            if path.suffix == ".bson":
                for number, document in enumerate(iter_bson_documents(stream, name), start=1):
                    yield from_document(document, name, number)
            elif from_csv is not None:
                yield from from_csv(stream, name)


class _Found:
    """What a scan of a snapshot folder turned up."""

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self.ignored: list[str] = []
        self.classification_csvs: list[Path] = []
        self.has_main_dump = False


def _scan(root: Path) -> _Found:
    bson_files: dict[str, Path] = {}
    csv_files: dict[str, Path] = {}
    ignored: list[Path] = []
    found = _Found()
    for folder in _FOLDERS:
        directory = root / folder if folder else root
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if not path.is_file():
                continue
            key = _bson_key(path, folder) if path.suffix == ".bson" else None
            if key is not None:
                if key in bson_files:
                    ignored.append(path)
                else:
                    bson_files[key] = path
                    found.has_main_dump |= folder == "aiidprod" and key in _BSON_COLLECTIONS
                continue
            key = _csv_key(path) if path.suffix == ".csv" else None
            if key is None or key in csv_files:
                ignored.append(path)
                continue
            csv_files[key] = path
            if key.startswith("classifications:"):
                found.classification_csvs.append(path)
    chosen = dict(bson_files)
    for key, path in csv_files.items():
        superseded = key in bson_files or (
            key.startswith("classifications:") and "classifications" in bson_files
        )
        if superseded:
            ignored.append(path)
        else:
            chosen[key] = path
    found.files = dict(sorted(chosen.items()))
    found.ignored = sorted(path.relative_to(root).as_posix() for path in ignored)
    return found


def _bson_key(path: Path, folder: str) -> str | None:
    stem = path.stem
    if folder == "translations":
        # The translations database holds reports (one collection per language before 2024,
        # one with a language field since) and incidents, which incidentdb does not model.
        if stem == "reports" or _TRANSLATED_REPORTS.match(stem):
            return f"translations:{stem}"
        return None
    if _TRANSLATED_REPORTS.match(stem):
        return f"translations:{stem}"
    return stem if stem in _BSON_COLLECTIONS else None


def _csv_key(path: Path) -> str | None:
    stem = path.stem
    if stem in _CSV_COLLECTIONS:
        return stem
    if stem.startswith("classifications_") and len(stem) > len("classifications_"):
        return f"classifications:{stem[len('classifications_') :]}"
    return None


def _layout(path: Path) -> str | None:
    """The layout of a classification CSV, from its header line only."""
    with path.open("rb") as stream:
        head = stream.read(_HEADER_BYTES)
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    return classification_layout(header)

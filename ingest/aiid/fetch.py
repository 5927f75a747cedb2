"""Getting a snapshot onto disk: a URL, a `.tar.bz2` archive, or an extracted folder."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from incidentdb import SourceError
from incidentdb._progress import SILENT, Progress
from ingest._archive import extract_archive

__all__ = ["SNAPSHOT_FOLDER", "open_snapshot_folder"]

SNAPSHOT_FOLDER = "mongodump_full_snapshot"


@contextmanager
def open_snapshot_folder(source: str, progress: Progress = SILENT) -> Iterator[Path]:
    """Yield the folder holding the snapshot's files; temporary files go when the block ends.

    Raises:
        SourceError: the path does not exist or the URL cannot be downloaded.
        ArchiveError: the archive is truncated, corrupt or unsafe.
    """
    if source.startswith(("https://", "http://")):
        # httpx costs a tenth of a second to import; only URLs need it.
        from ingest._http import download

        with tempfile.TemporaryDirectory(prefix="incidentdb-") as tmp:
            name = source.rstrip("/").rsplit("/", 1)[-1] or "snapshot.tar.bz2"
            archive = download(source, Path(tmp) / name, progress=progress)
            yield _extracted(archive, Path(tmp) / "extracted", progress)
        return
    path = Path(source).expanduser()
    if path.is_dir():
        yield _snapshot_root(path)
        return
    if path.is_file():
        with tempfile.TemporaryDirectory(prefix="incidentdb-") as tmp:
            yield _extracted(path, Path(tmp), progress)
        return
    raise SourceError(
        f"{source}: no such file or folder",
        hint="Give a backup-*.tar.bz2 file, an extracted mongodump_full_snapshot/ folder, "
        "or an https:// URL.",
    )


def _extracted(archive: Path, destination: Path, progress: Progress) -> Path:
    progress.stage(f"extracting {archive.name}")
    destination.mkdir(parents=True, exist_ok=True)
    extract_archive(archive, destination)
    return _snapshot_root(destination)


def _snapshot_root(folder: Path) -> Path:
    """The snapshot folder inside `folder`: itself, or its only (or mongodump_*) subfolder."""
    inner = folder / SNAPSHOT_FOLDER
    if inner.is_dir():
        return inner
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and not any(folder.glob("*.csv")):
        return entries[0]
    return folder

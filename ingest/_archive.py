"""Safe reading of snapshot archives: no absolute paths, no `..`, no links out, bounded sizes."""

from __future__ import annotations

import tarfile
from pathlib import Path

from incidentdb import ArchiveError

__all__ = ["MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "extract_archive"]

# A real AIID snapshot unpacks to about 500 MB, its biggest member (translated reports) to 164 MB.
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_MEMBERS = 10_000


def extract_archive(
    archive: Path,
    destination: Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Extract a tar archive (bz2, gzip, xz or plain) into `destination`, refusing unsafe members.

    Raises:
        ArchiveError: the archive is truncated or corrupt, or a member is unsafe or too large.
    """
    name = archive.name
    total = 0
    count = 0
    compression = _compression(archive)
    try:
        with tarfile.open(
            archive, mode="r:*" if compression is None else f"r:{compression}"
        ) as tar:  # type: ignore[call-overload]
            for member in tar:
                count += 1
                if count > max_members:
                    raise ArchiveError(f"{name}: more than {max_members} members; refusing")
                _check_member(name, member, max_member_bytes)
                total += member.size
                if total > max_total_bytes:
                    raise ArchiveError(
                        f"{name}: unpacks to more than {max_total_bytes:,} bytes; refusing"
                    )
                # The 'data' filter refuses absolute paths, '..', device files and links that
                # point outside the destination, and drops set-id bits.
                tar.extract(member, destination, filter="data")
    except ArchiveError:
        raise
    except tarfile.FilterError as exc:
        raise ArchiveError(f"{name}: unsafe member refused: {exc}") from exc
    except (tarfile.ReadError, tarfile.CompressionError, EOFError, OSError) as exc:
        if compression is not None or count > 0:
            raise ArchiveError(
                f"{name}: archive is truncated or corrupt after {count} member(s) ({exc})",
                hint="Download the snapshot again.",
            ) from exc
        raise ArchiveError(
            f"{name}: not a readable tar archive ({exc})",
            hint="Is the download complete? A snapshot is a backup-YYYYMMDDHHMMSS.tar.bz2 file.",
        ) from exc
    if count == 0:
        raise ArchiveError(f"{name}: the archive is empty")


_MAGIC = {b"BZh": "bz2", b"\x1f\x8b": "gz", b"\xfd7zXZ\x00": "xz"}


def _compression(archive: Path) -> str | None:
    """The compression its first bytes announce, so a cut-off .bz2 reads as truncated."""
    try:
        with archive.open("rb") as f:
            head = f.read(6)
    except OSError as exc:
        raise ArchiveError(f"{archive.name}: cannot read ({exc})") from exc
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _check_member(archive: str, member: tarfile.TarInfo, max_member_bytes: int) -> None:
    path = member.name
    if path.startswith(("/", "\\")) or Path(path).is_absolute():
        raise ArchiveError(f"{archive}: member {path!r} has an absolute path; refusing")
    if ".." in Path(path).parts:
        raise ArchiveError(f"{archive}: member {path!r} climbs out with '..'; refusing")
    if member.issym() or member.islnk():
        target = member.linkname
        if target.startswith("/") or ".." in Path(target).parts:
            raise ArchiveError(f"{archive}: link {path!r} points outside ({target!r}); refusing")
    if member.isdev() or member.isfifo():
        raise ArchiveError(f"{archive}: member {path!r} is a device or pipe; refusing")
    if member.size > max_member_bytes:
        raise ArchiveError(
            f"{archive}: member {path!r} is {member.size:,} bytes, over the "
            f"{max_member_bytes:,}-byte limit; refusing"
        )

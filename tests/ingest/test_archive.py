"""Snapshot archives are extracted safely or refused with a clear error."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from incidentdb import ArchiveError
from ingest._archive import extract_archive


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:bz2") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_extracts_a_good_archive(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "backup-20260222000000.tar.bz2",
        {"mongodump_full_snapshot/incidents.csv": b"a,b\n1,2\n"},
    )
    extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out/mongodump_full_snapshot/incidents.csv").read_bytes() == b"a,b\n1,2\n"


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("/etc/evil.csv", "absolute path"),
        ("mongodump_full_snapshot/../../evil.csv", "climbs out"),
    ],
)
def test_refuses_members_that_escape(tmp_path: Path, member: str, message: str) -> None:
    archive = _tar(tmp_path / "bad.tar.bz2", {member: b"x"})
    with pytest.raises(ArchiveError, match=message):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "evil.csv").exists()


def test_refuses_links_out_of_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("mongodump_full_snapshot/passwd")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(ArchiveError, match="points outside"):
        extract_archive(archive, tmp_path / "out")


def test_refuses_oversized_members(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "big.tar.bz2", {"big.csv": b"x" * 5000})
    with pytest.raises(ArchiveError, match="over the 4,000-byte limit"):
        extract_archive(archive, tmp_path / "out", max_member_bytes=4000)
    with pytest.raises(ArchiveError, match="unpacks to more than 3,000 bytes"):
        extract_archive(archive, tmp_path / "out2", max_total_bytes=3000)


def test_truncated_archive(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "full.tar.bz2", {f"m/{i}.csv": bytes(range(256)) * 400 for i in range(5)}
    )
    data = archive.read_bytes()
    cut = tmp_path / "cut.tar.bz2"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="truncated or corrupt"):
        extract_archive(cut, tmp_path / "out")


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "backup.tar.bz2"
    junk.write_text("<html>Not Found</html>")
    with pytest.raises(ArchiveError, match="not a readable tar archive"):
        extract_archive(junk, tmp_path / "out")

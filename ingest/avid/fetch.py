"""Reading AVID documents from disk: one JSON file, a garak `*.avid.jsonl`, or a folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incidentdb import SourceError

__all__ = ["RawDocument", "read_documents"]


@dataclass(frozen=True)
class RawDocument:
    """One decoded document, or why it could not be decoded; `locator` names file and line."""

    locator: str
    data: Any = None
    error: str | None = None


def _read_json(path: Path, shown: str) -> list[RawDocument]:
    try:
        return [RawDocument(shown, json.loads(path.read_text(encoding="utf-8")))]
    except json.JSONDecodeError as exc:
        return [RawDocument(shown, error=f"not valid JSON: {exc.msg} (line {exc.lineno})")]
    except (OSError, UnicodeDecodeError) as exc:
        return [RawDocument(shown, error=f"cannot read: {exc}")]


def _read_jsonl(path: Path, shown: str) -> list[RawDocument]:
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [RawDocument(shown, error=f"cannot read: {exc}")]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{shown}:{number}"
        try:
            out.append(RawDocument(where, json.loads(line)))
        except json.JSONDecodeError as exc:
            out.append(RawDocument(where, error=f"not valid JSON: {exc.msg}"))
    return out


def _looks_like_avid(doc: RawDocument) -> bool:
    return isinstance(doc.data, dict) and "data_type" in doc.data


def read_documents(source: str) -> tuple[list[RawDocument], list[str]]:
    """The documents at `source` and notes on files skipped.

    A folder is searched recursively for `*.json` and `*.jsonl`; there, JSON files that are not
    AVID documents (no `data_type`, e.g. a manifest) are skipped with a note. A file named
    directly must be one.

    Raises:
        SourceError: `source` does not exist or holds no documents.
    """
    path = Path(source)
    if path.is_file():
        reader = _read_jsonl if path.name.endswith(".jsonl") else _read_json
        return reader(path, path.name), []
    if not path.is_dir():
        raise SourceError(f"{source}: no such file or folder")
    docs: list[RawDocument] = []
    skipped: list[str] = []
    for file in sorted(path.rglob("*")):
        if not file.is_file():
            continue
        shown = file.relative_to(path).as_posix()
        if file.name.endswith(".jsonl"):
            docs.extend(_read_jsonl(file, shown))
        elif file.suffix == ".json":
            found = _read_json(file, shown)
            if found[0].error is None and not _looks_like_avid(found[0]):
                skipped.append(shown)
                continue
            docs.extend(found)
    if not docs:
        raise SourceError(f"{source}: no AVID documents (*.json, *.jsonl) found")
    notes = (
        [f"skipped {len(skipped)} non-AVID JSON file(s): {', '.join(skipped)}"] if skipped else []
    )
    return docs, notes

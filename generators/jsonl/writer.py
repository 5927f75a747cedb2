"""`jsonl.v1`: one canonical TestCase JSON per line (`<suite>.cases.jsonl`), lossless.

`TestCase.from_json` reads each line back to an equal case.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from generators._export import ExportResult, file_stem, open_text, prepare_folder
from incidentdb import TestCase

__all__ = ["JsonlExporter"]


class JsonlExporter:
    """Writes `<suite>.cases.jsonl`: every field of every case, nothing lost."""

    name: ClassVar[str] = "jsonl.v1"

    def export(self, cases: Iterable[TestCase], out: Path, *, suite: str) -> ExportResult:
        path = prepare_folder(out) / f"{file_stem(suite)}.cases.jsonl"
        count = 0
        with open_text(path) as handle:
            for case in cases:
                handle.write(case.to_json())
                handle.write("\n")
                count += 1
        return ExportResult(self.name, [path], count, [])

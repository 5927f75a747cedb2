"""What every exporter shares: the protocol, the result, warnings, deterministic file writing.

An exporter is a class registered under a versioned name (``promptfoo.v1``) in the
``incidentdb.generators`` entry-point group. It writes a suite's cases into a folder in its
harness's format and returns an :class:`ExportResult` whose warnings name everything the harness
cannot express (and where in the output it was kept instead): nothing is dropped silently.
Output is byte-identical for the same cases: keys are sorted or fixed, line ends are ``\\n``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, Protocol

import yaml

from incidentdb import TestCase
from incidentdb._errors import ExportError
from incidentdb._registry import generators

__all__ = [
    "ExportResult",
    "Exporter",
    "Warnings",
    "dump_json",
    "dump_yaml",
    "exporter_for",
    "file_stem",
    "open_text",
]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    exporter: str
    files: list[Path]
    cases: int
    warnings: list[str] = field(default_factory=list)


class Exporter(Protocol):
    """A writer of one harness's format."""

    name: ClassVar[str]

    def export(self, cases: Iterable[TestCase], out: Path, *, suite: str) -> ExportResult: ...


class Warnings:
    """Collects what a harness cannot express, once per kind of loss, with the cases affected."""

    def __init__(self) -> None:
        self._cases: dict[str, list[str]] = {}

    def add(self, message: str, case: TestCase) -> None:
        ids = self._cases.setdefault(message, [])
        if not ids or ids[-1] != case.id:
            ids.append(case.id)

    def render(self) -> list[str]:
        out = []
        for message, ids in self._cases.items():
            shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
            out.append(f"{message} ({len(ids)} case{'s' if len(ids) != 1 else ''}: {shown})")
        return out


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_stem(suite: str) -> str:
    """A file-name-safe form of a suite name (`nightly regressions` → `nightly_regressions`)."""
    return _UNSAFE.sub("_", suite).strip("._") or "suite"


def prepare_folder(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise ExportError(
            f"{out} is a file; exports are written into a folder",
            hint="Give a folder path (it is created when missing).",
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextmanager
def open_text(path: Path) -> Iterator[IO[str]]:
    """A text file opened for writing with UTF-8 and `\\n` line ends on every platform."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        yield handle


def dump_json(value: Any, *, indent: int | None = None) -> str:
    """JSON with sorted keys and non-ASCII kept, compact unless `indent` is given."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, indent=indent, separators=separators
    )


_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _str_presenter(dumper: Any, data: str) -> Any:
    # Block style keeps multi-line prompts readable; quoting otherwise is PyYAML's choice.
    style = "|" if "\n" in data and not data.endswith((" ", "\t")) and "\r" not in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


class _BlockDumper(_Dumper):
    pass


_BlockDumper.add_representer(str, _str_presenter)


def dump_yaml(value: Any) -> str:
    """YAML in a fixed key order (as given), unicode kept, no line folding."""
    text: str = yaml.dump(
        value,
        Dumper=_BlockDumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,
        default_flow_style=False,
    )
    return text


def exporter_for(to: str) -> Exporter:
    """The exporter for a harness name (`promptfoo`) or a versioned name (`promptfoo.v1`)."""
    name = to if re.search(r"\.v\d+$", to) else f"{to}.v1"
    cls = generators.get(name)
    exporter: Exporter = cls()
    return exporter

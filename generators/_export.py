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


# YAML forbids these characters raw (PyYAML's reader rejects them); JSON leaves them unescaped.
# NEL and the Unicode line separators are line breaks to YAML 1.1: escaped too.
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Words YAML 1.1 reads as booleans or null, so a key spelled so must be quoted.
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _yaml_str(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar (same escapes, YAML also has \uXXXX).
    quoted = json.dumps(text, ensure_ascii=False)
    return _NON_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _yaml_scalar(value: Any) -> str | None:
    if isinstance(value, str):
        return _yaml_str(value)
    if isinstance(value, float):
        # YAML 1.1 floats need a dot: 1e-05 would read back as a string.
        text = json.dumps(value)
        mantissa, e, exponent = text.partition("e")
        return f"{mantissa}.0{e}{exponent}" if e and "." not in mantissa else text
    if value is None or isinstance(value, bool | int):
        return json.dumps(value)
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list | tuple) and not value:
        return "[]"
    return None


def _yaml_lines(value: Any, pad: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            plain = _PLAIN_KEY.match(key) and key.lower() not in _YAML_WORDS
            name = key if plain else _yaml_str(key)
            scalar = _yaml_scalar(item)
            if scalar is not None:
                out.append(f"{pad}{name}: {scalar}")
            else:
                out.append(f"{pad}{name}:")
                _yaml_lines(item, pad + "  ", out)
        return
    for item in value:
        scalar = _yaml_scalar(item)
        if scalar is not None:
            out.append(f"{pad}- {scalar}")
            continue
        nested: list[str] = []
        _yaml_lines(item, pad + "  ", nested)
        # The first line of a nested block goes on the dash line: "- key: value".
        out.append(f"{pad}- {nested[0][len(pad) + 2 :]}")
        out.extend(nested[1:])


def dump_yaml(value: dict[str, Any]) -> str:
    """Block-style YAML of a JSON-like mapping, keys in the order given, strings double-quoted.

    Written by hand because PyYAML's pure-Python representer took 4 ms a case; every string is
    a JSON string literal (valid YAML), so any text survives a YAML parser unchanged.
    """
    out: list[str] = []
    _yaml_lines(value, "", out)
    return "\n".join(out) + "\n"


def exporter_for(to: str) -> Exporter:
    """The exporter for a harness name (`promptfoo`) or a versioned name (`promptfoo.v1`)."""
    name = to if re.search(r"\.v\d+$", to) else f"{to}.v1"
    cls = generators.get(name)
    exporter: Exporter = cls()
    return exporter

"""Pure parsers for the files of an AIID snapshot: bytes in, interchange records out.

Nothing here touches the filesystem or a database; every function reads a binary stream (or one
decoded BSON document) and yields records from :mod:`incidentdb._records`. Malformed input raises
:class:`~incidentdb._errors.SnapshotFormatError` naming the file and the CSV row (the header is
row 1, a multi-line quoted field belongs to one row) or the BSON document (counted from 1).

Formats handled, by snapshot generation:

- mongoexport CSV (every generation): ``incidents.csv``, ``reports.csv``, ``duplicates.csv``,
  ``submissions.csv``, ``quickadd.csv``; lists are JSON (``[2,3]``, ``["youtube"]``).
- classification CSV in three layouts, told apart by the header:
  2021 ``incident_id,namespace,classifications.<Field>…`` (raw values),
  2023 ``_id,incident_id,namespace,publish,<Field>…`` (each value is the attribute's
  ``value_json``), and 2024+ ``Namespace,Incident ID,Published,<Field>…`` (plain text, lists
  joined with ``", "``).
- mongodump BSON: any collection, one document at a time.

Normalisation shared by all classification formats, so that the same classification read from
any of them gives the same record: the legacy namespace ``CSET`` becomes ``CSETv0``; empty values
(``None``, ``""``, ``[]``, and ``""`` items inside lists) are dropped, so an attribute is either
absent or has a value; a header that repeats a field name (CSETv1 has ``AI System`` as fields 3.2
and 5.2 and the database keeps one value for both) collapses into one attribute, and only a
repeat that disagrees with the first is kept, as ``"AI System (2)"``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import operator
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, TypeVar

import bson
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.errors import BSONError
from pydantic import ValidationError

from incidentdb._errors import SnapshotFormatError
from incidentdb._records import (
    ClassificationRecord,
    DuplicateRecord,
    EntityRecord,
    EntityRole,
    IncidentRecord,
    ReportRecord,
    SourceKind,
    SubmissionRecord,
    TaxonomyRecord,
    TranslationRecord,
)

__all__ = [
    "classification_from_document",
    "classification_layout",
    "classifications_from_csv",
    "duplicate_from_document",
    "duplicates_from_csv",
    "entity_from_document",
    "incident_from_document",
    "incidents_from_csv",
    "iter_bson_documents",
    "iter_csv_rows",
    "quickadd_from_csv",
    "quickadd_from_document",
    "report_from_document",
    "reports_from_csv",
    "submission_from_document",
    "submissions_from_csv",
    "taxonomy_from_document",
    "translation_from_document",
]

# A report's text easily exceeds csv's default 128 KiB field limit; 2**31 - 1 is the largest
# value every platform's C long accepts.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

R = TypeVar("R")

_CHUNK: Final = 1 << 20
_BOM: Final = b"\xef\xbb\xbf"
# MongoDB refuses documents over 16 MiB, so a larger declared size means a corrupt length field,
# and reading it would allocate whatever the garbage says.
_MAX_DOCUMENT: Final = 16 * 1024 * 1024
# DATETIME_AUTO keeps dates Python cannot represent (year 0, year 20000) decodable, so they
# surface as a date error on one field instead of the whole document looking corrupt.
_CODEC: Final[CodecOptions[dict[str, Any]]] = CodecOptions(
    datetime_conversion=DatetimeConversion.DATETIME_AUTO
)

# Evidence for how a CSV writes a quote inside a quoted field. `\"` followed by an ordinary
# character cannot occur with doubled quotes (there a backslash-quote is always followed by a
# second quote, a delimiter or a line end); `""` followed by an ordinary character cannot occur
# with backslash escapes (there `""` is only an empty field).
_BACKSLASH_QUOTE: Final = re.compile(rb'\\"[^",\r\n]')
_DOUBLED_QUOTE: Final = re.compile(rb'(?<!\\)""[^",\r\n]')

_TRUE: Final = frozenset({"true", "True", "TRUE"})
_FALSE: Final = frozenset({"false", "False", "FALSE"})

_LEGACY_NAMESPACES: Final = {"CSET": "CSETv0"}
_MACHINE_NAMESPACES: Final = frozenset({"MIT"})

_ROLE_COLUMNS: Final = (
    ("Alleged deployer of AI system", EntityRole.DEPLOYER),
    ("Alleged developer of AI system", EntityRole.DEVELOPER),
    ("Alleged harmed or nearly harmed parties", EntityRole.HARMED),
    ("implicated_systems", EntityRole.IMPLICATED_SYSTEM),
)

_INCIDENT_COLUMNS: Final = frozenset(
    {
        "_id",
        "incident_id",
        "date",
        "reports",
        "Alleged deployer of AI system",
        "Alleged developer of AI system",
        "Alleged harmed or nearly harmed parties",
        "description",
        "title",
        # Not in the official export, but incidents carry them and a wider export may add them.
        "editor_notes",
        "implicated_systems",
        "epoch_date_modified",
    }
)
_REPORT_COLUMNS: Final = frozenset(
    {
        "_id",
        "incident_id",
        "authors",
        "date_downloaded",
        "date_modified",
        "date_published",
        "date_submitted",
        "description",
        "epoch_date_downloaded",
        "epoch_date_modified",
        "epoch_date_published",
        "epoch_date_submitted",
        "image_url",
        "language",
        "ref_number",
        "report_number",
        "source_domain",
        "submitters",
        "text",
        "title",
        "url",
        "tags",
        "plain_text",
        "is_incident_report",
        "inputs_outputs",
        "editor_notes",
        "cloudinary_id",
        "user",
        "flag",
    }
)
_DUPLICATE_COLUMNS: Final = frozenset({"_id", "duplicate_incident_number", "true_incident_number"})
_SUBMISSION_COLUMNS: Final = frozenset(
    {
        "_id",
        "authors",
        "date_downloaded",
        "date_modified",
        "date_published",
        "date_submitted",
        "image_url",
        "incident_date",
        "incident_id",
        "incident_ids",
        "language",
        "mongodb_id",
        "source_domain",
        "submitters",
        "text",
        "title",
        "url",
    }
)
_QUICKADD_COLUMNS: Final = frozenset(
    {"_id", "incident_id", "url", "date_submitted", "source_domain"}
)


# --------------------------------------------------------------------------------------------
# Errors


class _FieldError(ValueError):
    """One value of a row or document is malformed; the caller adds the file and row."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")


class _InvalidUtf8(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def _document_error(name: str, number: int, message: str) -> SnapshotFormatError:
    error = SnapshotFormatError(name, number, message)
    # SnapshotFormatError words its place as "row N"; BSON files hold documents, so say that,
    # keeping .file and .row for callers that inspect them.
    error.args = (f"{name}, document {number}: {message}",)
    return error


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "record"
    return f"{where}: {first['msg']}"


@contextlib.contextmanager
def _document(name: str, number: int) -> Iterator[None]:
    """Turn a converter's value errors into a SnapshotFormatError naming the document."""
    try:
        yield
    except _FieldError as exc:
        raise _document_error(name, number, str(exc)) from None
    except ValidationError as exc:
        raise _document_error(name, number, _describe(exc)) from None


def _records_from_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    name: str,
    convert: Callable[[dict[str, str]], R],
) -> Iterator[R]:
    for number, row in rows:
        try:
            yield convert(row)
        except _FieldError as exc:
            raise SnapshotFormatError(name, number, str(exc)) from None
        except ValidationError as exc:
            raise SnapshotFormatError(name, number, _describe(exc)) from None


# --------------------------------------------------------------------------------------------
# Streams


def iter_bson_documents(stream: BinaryIO, name: str) -> Iterator[dict[str, Any]]:
    """Yield the documents of a mongodump ``.bson`` file one at a time.

    Only one document is held in memory, so a 121 MB ``reports.bson`` streams in constant space.

    Args:
        stream: the file, opened in binary mode.
        name: the file's name inside the snapshot, for error messages.

    Yields:
        Each document as a dict (ObjectIds and datetimes as bson decodes them).

    Raises:
        SnapshotFormatError: a document is truncated, declares an impossible size, or does not
            decode; the message names the document number.
    """
    number = 0
    while True:
        head = _read_exactly(stream, 4)
        if not head:
            return
        number += 1
        if len(head) < 4:
            raise _document_error(
                name, number, f"truncated document (size field cut after {len(head)} bytes)"
            )
        size = int.from_bytes(head, "little", signed=True)
        if not 5 <= size <= _MAX_DOCUMENT:
            raise _document_error(name, number, f"corrupt document: impossible size {size}")
        body = _read_exactly(stream, size - 4)
        if len(body) < size - 4:
            raise _document_error(
                name,
                number,
                f"truncated document (declared {size} bytes, {len(body) + 4} left)",
            )
        try:
            yield bson.decode(head + body, codec_options=_CODEC)
        except (BSONError, ValueError, OverflowError) as exc:
            raise _document_error(name, number, f"corrupt document: {exc}") from None


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) == size or not data:
        return data
    # Raw and socket-like streams may return short reads before the end.
    parts = [data]
    missing = size - len(data)
    while missing:
        more = stream.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)


def iter_csv_rows(
    stream: BinaryIO,
    name: str,
    *,
    known_columns: Collection[str] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield the rows of a CSV file as ``(row_number, {column: value})``.

    The file is read in 1 MiB chunks and decoded strictly as UTF-8 (a leading BOM is skipped).
    Whether quotes inside quoted fields are doubled (``""``, RFC 4180, mongoexport) or written
    with a backslash (``\\"``) is decided per file from its first chunk. A column name that
    repeats gets a suffix: the second ``AI System`` is ``"AI System (2)"``, the third
    ``"AI System (3)"``. Blank lines are skipped.

    Args:
        stream: the file, opened in binary mode.
        name: the file's name inside the snapshot, for error messages.
        known_columns: if given, every header name (before the repeat suffix) must be one of
            these.

    Yields:
        ``(row_number, row)`` with the header as row 1, so the first data row is 2.

    Raises:
        SnapshotFormatError: the file is empty, is not UTF-8, has an unknown column, a row with
            the wrong number of fields, or broken quoting.
    """
    rows = _iter_fields(stream, name, known_columns)
    _, columns = next(rows)
    for number, fields in rows:
        yield number, dict(zip(columns, fields, strict=True))


def _iter_fields(
    stream: BinaryIO, name: str, known_columns: Collection[str] | None
) -> Iterator[tuple[int, list[str]]]:
    """The engine of :func:`iter_csv_rows`: first ``(1, column names)``, then the rows' fields."""
    chunks = _newline_chunks(stream)
    first = next(chunks, b"")
    offset = 0
    if first.startswith(_BOM):
        first, offset = first[len(_BOM) :], len(_BOM)
    lines = _decoded_lines(itertools.chain((first,), chunks), offset)
    if _BACKSLASH_QUOTE.search(first) and _uses_backslash_escapes(first):
        reader = csv.reader(lines, doublequote=False, escapechar="\\", strict=True)
    else:
        reader = csv.reader(lines, strict=True)
    done = 0  # rows completely read; an error inside the reader is in row done + 1
    try:
        header = next(reader, None)
        if header is None:
            raise SnapshotFormatError(name, None, "empty file: expected a header row")
        done = 1
        if known_columns is not None:
            _check_columns(header, known_columns, name)
        yield done, _unique_columns(header)
        width = len(header)
        for fields in reader:
            done += 1
            if len(fields) != width:
                if not fields:
                    continue
                raise SnapshotFormatError(
                    name, done, f"expected {width} fields as in the header, found {len(fields)}"
                )
            yield done, fields
    except _InvalidUtf8 as exc:
        raise SnapshotFormatError(name, done + 1, f"invalid UTF-8 at byte {exc.offset}") from None
    except csv.Error as exc:
        raise SnapshotFormatError(name, done + 1, f"malformed CSV: {exc}") from None


def _uses_backslash_escapes(sample: bytes) -> bool:
    return len(_BACKSLASH_QUOTE.findall(sample)) > len(_DOUBLED_QUOTE.findall(sample))


def _newline_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Yield blocks of about 1 MiB that end just after a newline (the last one may not).

    Cutting after ``\\n`` never splits a UTF-8 sequence or a ``\\r\\n`` pair, so each block
    decodes on its own and the byte offset of a decoding error is exact.
    """
    pending: list[bytes] = []
    while True:
        block = stream.read(_CHUNK)
        if not block:
            break
        cut = block.rfind(b"\n") + 1
        if not cut:
            pending.append(block)
            continue
        if pending:
            pending.append(block[:cut])
            yield b"".join(pending)
            pending.clear()
        else:
            yield block[:cut]
        if cut < len(block):
            pending.append(block[cut:])
    tail = b"".join(pending)
    if tail:
        yield tail


def _decoded_lines(chunks: Iterable[bytes], offset: int) -> Iterator[str]:
    for chunk in chunks:
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            valid = chunk[: exc.start].decode("utf-8")
            # Hand the reader the complete lines before the bad byte, so that the rows they
            # finish are counted and the error names the row that holds the byte.
            yield from io.StringIO(valid[: valid.rfind("\n") + 1], newline="")
            raise _InvalidUtf8(offset + exc.start) from None
        # newline="" splits lines the way csv expects (keeping \r\n and \r) and, unlike
        # str.splitlines, never on U+2028 and friends, which may sit unquoted inside a field.
        yield from io.StringIO(text, newline="")
        offset += len(chunk)


def _unique_columns(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    columns = []
    for column in header:
        count = seen.get(column, 0) + 1
        seen[column] = count
        columns.append(column if count == 1 else f"{column} ({count})")
    return columns


def _check_columns(header: list[str], known: Collection[str], name: str) -> None:
    for column in header:
        if column not in known:
            expected = ", ".join(sorted(known))
            raise SnapshotFormatError(
                name, 1, f"unknown column {column!r} (expected one of {expected})"
            )


def _fixed_records(
    stream: BinaryIO,
    name: str,
    known: Collection[str],
    wanted: tuple[str, ...],
    required: Collection[str],
    convert: Callable[[tuple[str, ...]], R],
) -> Iterator[R]:
    """Convert the rows of a fixed-schema CSV, each as the tuple of its ``wanted`` columns.

    The hot path of reports and incidents: picking by index (one C call per row) instead of
    building a dict per row, in one generator. A wanted column the file lacks reads as "".
    """
    rows = _iter_fields(stream, name, known)
    _, columns = next(rows)
    for column in required:
        if column not in columns:
            raise SnapshotFormatError(name, 1, f"missing column {column!r}")
    index = {column: i for i, column in enumerate(columns)}
    pick = operator.itemgetter(*(index.get(column, -1) for column in wanted))
    for number, fields in rows:
        fields.append("")  # what index -1, a missing column, reads
        try:
            yield convert(pick(fields))
        except _FieldError as exc:
            raise SnapshotFormatError(name, number, str(exc)) from None
        except ValidationError as exc:
            raise SnapshotFormatError(name, number, _describe(exc)) from None


# --------------------------------------------------------------------------------------------
# Values


def _to_date(value: Any, field: str) -> dt.date | None:
    """A date from any of the shapes AIID stores: ISO text, BSON datetime, epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _date_text(value, field)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch_date(value, field)
    raise _FieldError(field, f"unparseable date {value!r}")


def _date_text(value: str, field: str) -> dt.date | None:
    text = value.strip()
    if len(text) == 10:
        # The common case, "2015-05-19"; the slower paths below handle the rest.
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    if not text:
        return None
    if text.isascii() and text.lstrip("-").isdigit():
        return _epoch_date(int(text), field)
    try:
        # As written, not converted to UTC: AIID stores calendar dates at midnight, and moving
        # "2019-04-13T00:00:00-05:00" to UTC would not change what the source meant.
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise _FieldError(field, f"unparseable date {value!r}") from None


def _epoch_date(value: float, field: str) -> dt.date:
    # AIID's epoch_* fields are seconds; anything past year 5000 in seconds is milliseconds.
    seconds = value / 1000 if abs(value) > 100_000_000_000 else value
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).date()
    except (OverflowError, OSError, ValueError):
        raise _FieldError(field, f"epoch {value!r} is out of range") from None


def _int_text(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if number.is_integer():
        return int(number)
    raise _FieldError(field, f"expected an integer, found {value!r}")


def _to_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or value is None:
        raise _FieldError(field, f"expected an integer, found {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return _int_text(value, field)
    raise _FieldError(field, f"expected an integer, found {value!r}")


def _optional_incident(value: Any, field: str) -> int | None:
    """An incident id where AIID writes 0 or nothing for "no incident proposed"."""
    if value is None or value == "":
        return None
    number = _to_int(value, field)
    return number or None


def _bool_text(value: str, field: str) -> bool | None:
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _FieldError(field, f"expected true or false, found {value!r}")


def _to_bool(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _bool_text(value, field)
    raise _FieldError(field, f"expected true or false, found {value!r}")


def _json_list(value: str | None, field: str) -> list[Any]:
    """A mongoexport list cell: ``[…]`` as JSON; other non-empty text is a one-item list.

    Some AIID documents hold a string where the schema says array; mongoexport writes that
    string as is, so a cell that does not start with ``[`` is taken as one item.
    """
    if not value:
        return []
    if value[0] != "[":
        return [value]
    if value == "[]":
        return []
    try:
        items = json.loads(value)
    except ValueError:
        raise _FieldError(field, f"invalid JSON list {_preview(value)}") from None
    if not isinstance(items, list):
        raise _FieldError(field, f"expected a JSON list, found {_preview(value)}")
    return items


def _strings(items: Iterable[Any]) -> list[str]:
    # Submission author lists carry stray spaces ('["A"," B"]'): strip, and drop empty names.
    return [text for text in (str(item).strip() for item in items if item is not None) if text]


def _text_list(value: str | None, field: str) -> list[str]:
    if not value or value == "[]":
        return []
    if value[:2] == '["' and value[-2:] == '"]' and "\\" not in value:
        # The hot path for mongoexport's compact arrays of strings. Without a backslash no
        # string inside can contain a quote, so '","' can only be a separator.
        return [text for text in map(str.strip, value[2:-2].split('","')) if text]
    return _strings(_json_list(value, field))


def _doc_strings(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return _strings([value])
    if isinstance(value, list | tuple):
        return _strings(value)
    raise _FieldError(field, f"expected a list of strings, found {type(value).__name__}")


def _doc_text(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    raise _FieldError(field, f"expected text, found {type(value).__name__}")


def _doc_title(value: Any) -> str:
    if not isinstance(value, str):
        raise _FieldError("title", "missing" if value is None else "expected text")
    return value


def _report_numbers(items: Iterable[Any], field: str) -> list[int]:
    return [_to_int(item, field) for item in items]


def _preview(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _json_safe(value: Any) -> Any:
    """Turn what bson decodes (ObjectId, datetime, Int64, Decimal128, …) into JSON values."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="milliseconds") + "Z"
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


# --------------------------------------------------------------------------------------------
# Incidents


def _entities_from(
    get: Callable[[str], Any], parse: Callable[[Any, str], list[str]]
) -> dict[EntityRole, list[str]]:
    entities: dict[EntityRole, list[str]] = {}
    for column, role in _ROLE_COLUMNS:
        slugs = parse(get(column), column)
        if slugs:
            entities[role] = slugs
    return entities


_INCIDENT_PICK: Final = (
    "incident_id",
    "date",
    "title",
    "description",
    "editor_notes",
    "reports",
    *(column for column, _ in _ROLE_COLUMNS),
)


def _incident_from_values(values: tuple[str, ...]) -> IncidentRecord:
    number, date, title, description, editor_notes, reports, *role_values = values
    entities: dict[EntityRole, list[str]] = {}
    for (column, role), value in zip(_ROLE_COLUMNS, role_values, strict=True):
        slugs = _text_list(value, column)
        if slugs:
            entities[role] = slugs
    return IncidentRecord(
        incident_id=_int_text(number, "incident_id"),
        date=_date_text(date, "date") if date else None,
        title=title,
        description=description or None,
        editor_notes=editor_notes or None,
        report_numbers=_report_numbers(_json_list(reports, "reports"), "reports"),
        entities=entities,
    )


def incidents_from_csv(stream: BinaryIO, name: str) -> Iterator[IncidentRecord]:
    """Yield the incidents of an ``incidents.csv`` (mongoexport, every generation).

    Args:
        stream: the file, opened in binary mode.
        name: the file's name inside the snapshot, for error messages.

    Yields:
        One IncidentRecord per row; entity lists become ``entities[role]`` (empty roles are
        left out), ``reports`` becomes ``report_numbers``.

    Raises:
        SnapshotFormatError: see :func:`iter_csv_rows`; also a missing ``incident_id`` or
            ``title`` column, a bad number, date or JSON list.
    """
    required = ("incident_id", "title")
    return _fixed_records(
        stream, name, _INCIDENT_COLUMNS, _INCIDENT_PICK, required, _incident_from_values
    )


def incident_from_document(doc: Mapping[str, Any], name: str, number: int) -> IncidentRecord:
    """Convert one document of ``incidents.bson``.

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot, for error messages.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The incident; ``implicated_systems`` become the ``implicated_system`` role. Embeddings,
        epoch fields and other keys are ignored.

    Raises:
        SnapshotFormatError: a field has the wrong type or an unparseable value.
    """
    with _document(name, number):
        get = doc.get
        return IncidentRecord(
            incident_id=_to_int(get("incident_id"), "incident_id"),
            date=_to_date(get("date"), "date"),
            title=_doc_title(get("title")),
            description=_doc_text(get("description"), "description"),
            editor_notes=_doc_text(get("editor_notes"), "editor_notes"),
            report_numbers=_report_numbers(get("reports") or (), "reports"),
            entities=_entities_from(get, _doc_strings),
        )


# --------------------------------------------------------------------------------------------
# Reports


def _cell_date(value: str, epoch: str, column: str) -> dt.date | None:
    """A date column, falling back to its ``epoch_`` twin when empty."""
    if value:
        if len(value) == 10:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        return _date_text(value, column)
    if epoch:
        return _date_text(epoch, "epoch_" + column)
    return None


_REPORT_PICK: Final = (
    "report_number",
    "url",
    "source_domain",
    "title",
    "description",
    "text",
    "plain_text",
    "authors",
    "submitters",
    "date_published",
    "epoch_date_published",
    "date_downloaded",
    "epoch_date_downloaded",
    "date_submitted",
    "epoch_date_submitted",
    "date_modified",
    "epoch_date_modified",
    "language",
    "image_url",
    "tags",
    "is_incident_report",
    "inputs_outputs",
    "editor_notes",
)


def _report_from_values(values: tuple[str, ...]) -> ReportRecord:
    (
        number,
        url,
        source_domain,
        title,
        description,
        text,
        plain_text,
        authors,
        submitters,
        published,
        epoch_published,
        downloaded,
        epoch_downloaded,
        submitted,
        epoch_submitted,
        modified,
        epoch_modified,
        language,
        image_url,
        tags,
        is_incident_report,
        inputs_outputs,
        editor_notes,
    ) = values
    if not number:
        raise _FieldError("report_number", "empty")
    return ReportRecord(
        report_number=_int_text(number, "report_number"),
        url=url or None,
        source_domain=source_domain or None,
        title=title or None,
        description=description or None,
        text=text or None,
        plain_text=plain_text or None,
        authors=_text_list(authors, "authors"),
        submitters=_text_list(submitters, "submitters"),
        date_published=_cell_date(published, epoch_published, "date_published"),
        date_downloaded=_cell_date(downloaded, epoch_downloaded, "date_downloaded"),
        date_submitted=_cell_date(submitted, epoch_submitted, "date_submitted"),
        date_modified=_cell_date(modified, epoch_modified, "date_modified"),
        language=language or None,
        image_url=image_url or None,
        tags=_text_list(tags, "tags"),
        is_incident_report=_bool_text(is_incident_report, "is_incident_report"),
        inputs_outputs=_text_list(inputs_outputs, "inputs_outputs"),
        editor_notes=editor_notes or None,
    )


def reports_from_csv(stream: BinaryIO, name: str) -> Iterator[ReportRecord]:
    """Yield the reports of a ``reports.csv`` (mongoexport).

    Any subset of the known mongoexport columns is accepted as long as it has
    ``report_number``; an empty ``date_*`` falls back to its ``epoch_date_*`` column.

    Args:
        stream: the file, opened in binary mode.
        name: the file's name inside the snapshot, for error messages.

    Yields:
        One ReportRecord per row.

    Raises:
        SnapshotFormatError: see :func:`iter_csv_rows`; also an unknown column, an empty or
            non-numeric ``report_number``, a bad date, boolean or JSON list.
    """
    required = ("report_number",)
    return _fixed_records(
        stream, name, _REPORT_COLUMNS, _REPORT_PICK, required, _report_from_values
    )


def _doc_date(doc: Mapping[str, Any], field: str) -> dt.date | None:
    value = doc.get(field)
    if value is None or value == "":
        epoch = doc.get("epoch_" + field)
        return _to_date(epoch, "epoch_" + field)
    return _to_date(value, field)


def report_from_document(doc: Mapping[str, Any], name: str, number: int) -> ReportRecord:
    """Convert one document of ``reports.bson``.

    Variants are reports too: they carry ``inputs_outputs`` and tags such as
    ``variant:approved``.

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot, for error messages.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The report. Dates may be BSON datetimes, text or (through ``epoch_date_*``) epoch
        seconds; ``_id``, embeddings and other keys are ignored.

    Raises:
        SnapshotFormatError: a field has the wrong type or an unparseable value.
    """
    with _document(name, number):
        get = doc.get
        return ReportRecord(
            report_number=_to_int(get("report_number"), "report_number"),
            url=_doc_text(get("url"), "url"),
            source_domain=_doc_text(get("source_domain"), "source_domain"),
            title=_doc_text(get("title"), "title"),
            description=_doc_text(get("description"), "description"),
            text=_doc_text(get("text"), "text"),
            plain_text=_doc_text(get("plain_text"), "plain_text"),
            authors=_doc_strings(get("authors"), "authors"),
            submitters=_doc_strings(get("submitters"), "submitters"),
            date_published=_doc_date(doc, "date_published"),
            date_downloaded=_doc_date(doc, "date_downloaded"),
            date_submitted=_doc_date(doc, "date_submitted"),
            date_modified=_doc_date(doc, "date_modified"),
            language=_doc_text(get("language"), "language"),
            image_url=_doc_text(get("image_url"), "image_url"),
            tags=_doc_strings(get("tags"), "tags"),
            is_incident_report=_to_bool(get("is_incident_report"), "is_incident_report"),
            inputs_outputs=_doc_strings(get("inputs_outputs"), "inputs_outputs"),
            editor_notes=_doc_text(get("editor_notes"), "editor_notes"),
        )


# --------------------------------------------------------------------------------------------
# Entities, duplicates, translations, submissions


def entity_from_document(doc: Mapping[str, Any], name: str, number: int) -> EntityRecord | None:
    """Convert one document of ``entities.bson`` (``{entity_id, name}``).

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot, for error messages.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The entity, its ``slug`` being AIID's ``entity_id`` (a missing name falls back to it);
        None for a blank placeholder (``entity_id`` empty), which AIID's entity editor leaves
        behind and nothing refers to.

    Raises:
        SnapshotFormatError: ``entity_id`` or ``name`` is not text.
    """
    with _document(name, number):
        slug = _doc_text(doc.get("entity_id"), "entity_id")
        if slug is None:
            return None
        return EntityRecord(slug=slug, name=_doc_text(doc.get("name"), "name") or slug)


_DUPLICATE_PICK: Final = ("duplicate_incident_number", "true_incident_number")


def _duplicate_from_values(values: tuple[str, ...]) -> DuplicateRecord:
    duplicate, true = values
    return DuplicateRecord(
        duplicate_incident_id=_int_text(duplicate, "duplicate_incident_number"),
        true_incident_id=_int_text(true, "true_incident_number"),
    )


def duplicates_from_csv(stream: BinaryIO, name: str) -> Iterator[DuplicateRecord]:
    """Yield the merged incidents of a ``duplicates.csv``.

    Args:
        stream: the file, opened in binary mode.
        name: the file's name inside the snapshot, for error messages.

    Yields:
        One DuplicateRecord per row.

    Raises:
        SnapshotFormatError: see :func:`iter_csv_rows`; also a missing column or a bad number.
    """
    return _fixed_records(
        stream, name, _DUPLICATE_COLUMNS, _DUPLICATE_PICK, _DUPLICATE_PICK, _duplicate_from_values
    )


def duplicate_from_document(doc: Mapping[str, Any], name: str, number: int) -> DuplicateRecord:
    """Convert one document of ``duplicates.bson``.

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot, for error messages.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The duplicate pair.

    Raises:
        SnapshotFormatError: a number is missing or not an integer.
    """
    with _document(name, number):
        return DuplicateRecord(
            duplicate_incident_id=_to_int(
                doc.get("duplicate_incident_number"), "duplicate_incident_number"
            ),
            true_incident_id=_to_int(doc.get("true_incident_number"), "true_incident_number"),
        )


_TRANSLATION_FILE: Final = re.compile(r"reports_([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\.bson$")


def translation_from_document(doc: Mapping[str, Any], name: str, number: int) -> TranslationRecord:
    """Convert one document of a translations collection.

    Older snapshots hold one collection per language (``translations/reports_en.bson``); newer
    ones one ``translations/reports.bson`` whose documents carry ``language``. A ``language``
    in the document wins over the file name.

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot; its ``reports_<lang>`` suffix gives the
            language when the document has none.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The translation.

    Raises:
        SnapshotFormatError: no language can be found, or a field has the wrong type.
    """
    with _document(name, number):
        language = _doc_text(doc.get("language"), "language")
        if language is None:
            match = _TRANSLATION_FILE.search(name)
            if match is None:
                raise _FieldError("language", "missing, and the file name does not give one")
            language = match.group(1)
        return TranslationRecord(
            report_number=_to_int(doc.get("report_number"), "report_number"),
            language=language,
            title=_doc_text(doc.get("title"), "title"),
            text=_doc_text(doc.get("text"), "text"),
            plain_text=_doc_text(doc.get("plain_text"), "plain_text"),
        )


_SUBMISSION_PICK: Final = (
    "incident_id",
    "incident_ids",
    "url",
    "source_domain",
    "title",
    "text",
    "authors",
    "submitters",
    "date_published",
    "date_downloaded",
    "date_submitted",
    "date_modified",
    "incident_date",
    "language",
    "image_url",
)


def _submission_from_values(values: tuple[str, ...]) -> SubmissionRecord:
    (
        incident,
        proposed,
        url,
        source_domain,
        title,
        text,
        authors,
        submitters,
        published,
        downloaded,
        submitted,
        modified,
        incident_date,
        language,
        image_url,
    ) = values
    if not incident and proposed:
        # Newer submissions propose a list of incidents; the record keeps the first.
        incident = next(iter(_json_list(proposed, "incident_ids")), "")
    return SubmissionRecord(
        kind="submission",
        incident_id=_optional_incident(incident, "incident_id"),
        url=url or None,
        source_domain=source_domain or None,
        title=title or None,
        text=text or None,
        authors=_text_list(authors, "authors"),
        submitters=_text_list(submitters, "submitters"),
        date_published=_cell_date(published, "", "date_published"),
        date_downloaded=_cell_date(downloaded, "", "date_downloaded"),
        date_submitted=_cell_date(submitted, "", "date_submitted"),
        date_modified=_cell_date(modified, "", "date_modified"),
        incident_date=_cell_date(incident_date, "", "incident_date"),
        language=language or None,
        image_url=image_url or None,
    )


def submissions_from_csv(stream: BinaryIO, name: str) -> Iterator[SubmissionRecord]:
    """Yield the pending submissions of a ``submissions.csv``.

    Args:
        stream: the file, opened in binary mode.
        name: the file's name inside the snapshot, for error messages.

    Yields:
        One SubmissionRecord (kind ``"submission"``) per row; an ``incident_id`` of 0 or empty
        means none was proposed.

    Raises:
        SnapshotFormatError: see :func:`iter_csv_rows`; also a bad number, date or JSON list.
    """
    return _fixed_records(
        stream, name, _SUBMISSION_COLUMNS, _SUBMISSION_PICK, (), _submission_from_values
    )


def submission_from_document(doc: Mapping[str, Any], name: str, number: int) -> SubmissionRecord:
    """Convert one document of ``submissions.bson``.

    Newer submissions propose a list ``incident_ids``; the record keeps the first.

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot, for error messages.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The submission (kind ``"submission"``).

    Raises:
        SnapshotFormatError: a field has the wrong type or an unparseable value.
    """
    with _document(name, number):
        get = doc.get
        proposed = get("incident_ids")
        if isinstance(proposed, list):
            incident = _optional_incident(proposed[0], "incident_ids") if proposed else None
        else:
            incident = _optional_incident(get("incident_id"), "incident_id")
        return SubmissionRecord(
            kind="submission",
            incident_id=incident,
            url=_doc_text(get("url"), "url"),
            source_domain=_doc_text(get("source_domain"), "source_domain"),
            title=_doc_text(get("title"), "title"),
            text=_doc_text(get("text"), "text"),
            authors=_doc_strings(get("authors"), "authors"),
            submitters=_doc_strings(get("submitters"), "submitters"),
            date_published=_doc_date(doc, "date_published"),
            date_downloaded=_doc_date(doc, "date_downloaded"),
            date_submitted=_doc_date(doc, "date_submitted"),
            date_modified=_doc_date(doc, "date_modified"),
            incident_date=_doc_date(doc, "incident_date"),
            language=_doc_text(get("language"), "language"),
            image_url=_doc_text(get("image_url"), "image_url"),
        )


_QUICKADD_PICK: Final = ("incident_id", "url", "source_domain", "date_submitted")


def _quickadd_from_values(values: tuple[str, ...]) -> SubmissionRecord:
    incident, url, source_domain, submitted = values
    return SubmissionRecord(
        kind="quickadd",
        incident_id=_optional_incident(incident, "incident_id"),
        url=url or None,
        source_domain=source_domain or None,
        date_submitted=_cell_date(submitted, "", "date_submitted"),
    )


def quickadd_from_csv(stream: BinaryIO, name: str) -> Iterator[SubmissionRecord]:
    """Yield the quick-add links of a ``quickadd.csv``.

    Args:
        stream: the file, opened in binary mode.
        name: the file's name inside the snapshot, for error messages.

    Yields:
        One SubmissionRecord (kind ``"quickadd"``) per row; ``incident_id`` 0 means none.

    Raises:
        SnapshotFormatError: see :func:`iter_csv_rows`; also a bad number or date.
    """
    return _fixed_records(
        stream, name, _QUICKADD_COLUMNS, _QUICKADD_PICK, ("url",), _quickadd_from_values
    )


def quickadd_from_document(doc: Mapping[str, Any], name: str, number: int) -> SubmissionRecord:
    """Convert one document of ``quickadd.bson``.

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot, for error messages.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The link as a SubmissionRecord of kind ``"quickadd"``.

    Raises:
        SnapshotFormatError: a field has the wrong type or an unparseable value.
    """
    with _document(name, number):
        return SubmissionRecord(
            kind="quickadd",
            incident_id=_optional_incident(doc.get("incident_id"), "incident_id"),
            url=_doc_text(doc.get("url"), "url"),
            source_domain=_doc_text(doc.get("source_domain"), "source_domain"),
            date_submitted=_doc_date(doc, "date_submitted"),
        )


# --------------------------------------------------------------------------------------------
# Taxonomies


def taxonomy_from_document(doc: Mapping[str, Any], name: str, number: int) -> TaxonomyRecord:
    """Convert one document of ``taxa.bson``.

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot, for error messages.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The taxonomy; ``fields`` is ``field_list`` in order (both ``AI System`` entries of
        CSETv1 included) with BSON values made JSON-safe. ``CSET`` is renamed ``CSETv0``.

    Raises:
        SnapshotFormatError: ``namespace`` is missing or ``field_list`` is not a list of
            objects.
    """
    with _document(name, number):
        namespace = _doc_text(doc.get("namespace"), "namespace")
        if namespace is None:
            raise _FieldError("namespace", "missing")
        fields = doc.get("field_list") or []
        if not isinstance(fields, list) or not all(isinstance(f, Mapping) for f in fields):
            raise _FieldError("field_list", "expected a list of field definitions")
        weight = doc.get("weight")
        return TaxonomyRecord(
            namespace=_LEGACY_NAMESPACES.get(namespace, namespace),
            description=_doc_text(doc.get("description"), "description"),
            weight=None if weight is None else _to_int(weight, "weight"),
            fields=_json_safe(fields),
        )


# --------------------------------------------------------------------------------------------
# Classifications


@dataclass(frozen=True, slots=True)
class _Field:
    """How a taxonomy field's value is written in the 2024+ classification CSV."""

    kind: str  # "text", "bool", "int", "list" (joined with ", ") or "objects" (flattened)
    # Permitted values that contain ", " themselves (casefolded), and the most ", "-separated
    # parts one of them spans: all that greedy splitting of a joined list needs.
    phrases: frozenset[str] = frozenset()
    span: int = 1


_TEXT: Final = _Field("text")


def _list_field(permitted: Iterable[Any]) -> _Field:
    phrases = frozenset(v.casefold() for v in permitted if isinstance(v, str) and ", " in v)
    span = max((phrase.count(", ") + 1 for phrase in phrases), default=1)
    return _Field("list", phrases, span)


def _field_from_definition(definition: Mapping[str, Any]) -> _Field:
    display = definition.get("display_type")
    mongo = definition.get("mongo_type")
    if display == "object-list":
        return _Field("objects")
    # CSETv1's "multi" fields are stored as arrays although their mongo_type says string.
    if display in ("multi", "list") or mongo == "array":
        return _list_field(definition.get("permitted_values") or ())
    if display == "bool" or mongo == "bool":
        return _Field("bool")
    if display == "int" or mongo == "int":
        return _Field("int")
    return _TEXT


# What a snapshot without taxa.bson (the CSV-only 2026 export) still needs to type and split
# classification values, taken from AIID's published taxa. Only permitted values that contain
# ", " are listed: the others never change how a joined list splits.
_BUILTIN_KINDS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "CSETv0": {
        "bool": ("Quality Control", "Lives Lost", "Public Sector Deployment"),
        "list": (
            "Named Entities",
            "Technology Purveyor",
            "Harm Type",
            "Harm Distribution Basis",
            "Infrastructure Sectors",
            "Laws Implicated",
            "Data Inputs",
            "System Developer",
            "Sector of Deployment",
            "Relevant AI functions",
            "AI Techniques",
            "AI Applications",
            "Physical System",
            "Problem Nature",
        ),
    },
    "CSETv1": {
        "int": ("Incident Number", "Lives Lost", "Injuries"),
        "bool": (
            "Quality Control",
            "There is a potentially identifiable specific entity that experienced the harm",
            "Harmed Class of Entities",
            "Estimated Date",
            "Estimated Harm Quantities",
        ),
        "list": (
            "Harm Distribution Basis",
            "Infrastructure Sectors",
            "Operating Conditions",
            "Data Inputs",
            "Sector of Deployment",
            "AI Task",
            "AI tools and methods",
        ),
        "objects": ("Entities",),
    },
    "GMF": {
        "list": tuple(
            f"{certainty} AI {facet}"
            for facet in ("Goal", "Technology", "Technical Failure")
            for certainty in ("Known", "Potential")
        ),
        "objects": tuple(
            f"{certainty} AI {facet} Snippets"
            for facet in ("Goal", "Technology", "Technical Failure")
            for certainty in ("Known", "Potential")
        ),
    },
}
_SECTORS_WITH_COMMAS: Final = (
    "Agriculture, forestry and fishing",
    "Electricity, gas, steam and air conditioning supply",
    "Professional, scientific and technical activities",
    "Arts, entertainment and recreation",
)
_BUILTIN_PHRASES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "CSETv0": {"Sector of Deployment": _SECTORS_WITH_COMMAS},
    "CSETv1": {
        "Sector of Deployment": _SECTORS_WITH_COMMAS,
        "Harm Distribution Basis": (
            "familial status (e.g., having or not having children) or pregnancy",
            "nation of origin, citizenship, immigrant status",
        ),
    },
}


def _builtin_schema(namespace: str) -> dict[str, _Field]:
    # Annotator copies (CSETv1_Annotator-2) share their reviewed taxonomy's fields.
    family = namespace.split("_Annotator", 1)[0]
    phrases = _BUILTIN_PHRASES.get(family, {})
    schema = {}
    for kind, names in _BUILTIN_KINDS.get(family, {}).items():
        for field in names:
            schema[field] = _list_field(phrases.get(field, ())) if kind == "list" else _Field(kind)
    return schema


def _schema(namespace: str, taxa: Mapping[str, TaxonomyRecord]) -> dict[str, _Field]:
    taxonomy = taxa.get(namespace)
    if taxonomy is None:
        return _builtin_schema(namespace)
    return {
        str(definition.get("short_name")): _field_from_definition(definition)
        for definition in taxonomy.fields
    }


def _split_joined(value: str, field: _Field) -> list[str]:
    """Split a ``", "``-joined list, keeping permitted values that contain ``", "`` whole.

    Greedy: at each position take the longest run of parts that is a permitted value, else one
    part. "Arts, entertainment and recreation, information and communication" thus gives
    ["Arts, entertainment and recreation", "information and communication"].
    """
    parts = value.split(", ")
    if len(parts) == 1 or not field.phrases:
        return _strings(parts)
    items = []
    start, count = 0, len(parts)
    while start < count:
        end = min(count, start + field.span)
        while end > start + 1 and ", ".join(parts[start:end]).casefold() not in field.phrases:
            end -= 1
        items.append(", ".join(parts[start:end]))
        start = end
    return _strings(items)


_MISSING: Final = object()


def _clean(value: Any) -> Any:
    """Drop empty values so every format says "no value" the same way: by leaving it out."""
    if value is None or value == "":
        return _MISSING
    if isinstance(value, list):
        items = [item for item in value if item is not None and item != ""]
        return items if items else _MISSING
    return value


def _put(attributes: dict[str, Any], short_name: str, value: Any) -> None:
    """Store one attribute; a repeated short_name is kept only if its value differs."""
    value = _clean(value)
    if value is _MISSING:
        return
    if short_name not in attributes:
        attributes[short_name] = value
        return
    if attributes[short_name] == value:
        return
    count = 2
    while f"{short_name} ({count})" in attributes:
        count += 1
    attributes[f"{short_name} ({count})"] = value


def _source_kind(namespace: str) -> SourceKind:
    if namespace in _MACHINE_NAMESPACES:
        return SourceKind.IMPORTED_MACHINE
    return SourceKind.IMPORTED_HUMAN


_REPEAT_SUFFIX: Final = re.compile(r"^(.*) \((\d+)\)$")


def _base_column(column: str, columns: Collection[str]) -> str:
    """The header name behind a column :func:`iter_csv_rows` renamed for repeating."""
    match = _REPEAT_SUFFIX.match(column)
    if match and match.group(1) in columns:
        return match.group(1)
    return column


@dataclass(frozen=True, slots=True)
class _Column:
    key: str  # the row dict's key
    short_name: str  # the attribute it holds
    field: _Field


def _plan(
    row: Mapping[str, str], skip: Collection[str], prefix: str, schema: Mapping[str, _Field]
) -> list[_Column]:
    """Work out once per file which columns are attributes and how to read them."""
    plan = []
    for key in row:
        if key in skip:
            continue
        short_name = _base_column(key, row)
        if prefix:
            if not short_name.startswith(prefix):
                continue
            short_name = short_name[len(prefix) :]
        plan.append(_Column(key, short_name, schema.get(short_name, _TEXT)))
    return plan


def _from_text(raw: str, field: _Field) -> Any:
    """A 2024+ CSV cell: plain text, typed and split by the field's definition."""
    kind = field.kind
    if kind == "list":
        return _split_joined(raw, field)
    if kind == "bool":
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
    elif kind == "int" and raw.isascii() and raw.lstrip("-").isdigit():
        return int(raw)
    # Object lists arrive flattened to text ("Snippet Text: …, Snippet Text: …") and cannot be
    # rebuilt, so they stay text; a value that does not fit its type stays as written.
    return raw


def _from_json(raw: str, column: str) -> Any:
    """A 2023 CSV cell: the attribute's value_json."""
    try:
        return json.loads(raw)
    except ValueError:
        raise _FieldError(column, f"invalid value_json {_preview(raw)}") from None


def _from_legacy(raw: str, field: _Field) -> Any:
    """A 2021 CSV cell: mongoexport's rendering of the value itself.

    Booleans are ``true``/``false`` and arrays JSON; strings are bare. Fields that later became
    lists were then free text joined with ``"; "`` (sometimes ``", "``).
    """
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    if raw[0] in "[{":
        with contextlib.suppress(ValueError):
            return json.loads(raw)
    if field.kind == "list":
        return [item for piece in raw.split(";") for item in _split_joined(piece.strip(), field)]
    return raw


_LAYOUT_2026: Final = ("Namespace", "Incident ID", "Published")
_LAYOUT_2023: Final = ("_id", "incident_id", "namespace", "publish")
_LAYOUT_2021: Final = ("incident_id", "namespace")
_LEGACY_PREFIX: Final = "classifications."


def classification_layout(columns: Iterable[str]) -> str | None:
    """Name the classification CSV layout a header belongs to.

    Args:
        columns: the header, in order.

    Returns:
        ``"2026"`` (``Namespace,Incident ID,Published,…``, used since 2024), ``"2023"``
        (``_id,incident_id,namespace,publish,…``), ``"2021"``
        (``incident_id,namespace,classifications.…``) or None.
    """
    header = tuple(columns)
    if header[:3] == _LAYOUT_2026:
        return "2026"
    if header[:4] == _LAYOUT_2023:
        return "2023"
    if header[:2] == _LAYOUT_2021 and any(c.startswith(_LEGACY_PREFIX) for c in header[2:]):
        return "2021"
    return None


class _ClassificationRows:
    """Converts the rows of one classification CSV, whatever its layout."""

    def __init__(self, name: str, taxa: Mapping[str, TaxonomyRecord]) -> None:
        self.name = name
        self.taxa = taxa
        self.layout: str | None = None
        self.plans: dict[str, list[_Column]] = {}

    def convert(self, row: dict[str, str]) -> ClassificationRecord:
        if self.layout is None:
            self.layout = classification_layout(row)
            if self.layout is None:
                shown = ", ".join(list(row)[:5])
                raise SnapshotFormatError(
                    self.name,
                    1,
                    f"unrecognised classification header ({shown}, …); expected "
                    "'Namespace,Incident ID,Published,…', '_id,incident_id,namespace,publish,…' "
                    "or 'incident_id,namespace,classifications.…'",
                )
        if self.layout == "2026":
            return self._row_2026(row)
        if self.layout == "2023":
            return self._row_2023(row)
        return self._row_2021(row)

    def _columns(
        self, namespace: str, row: dict[str, str], skip: Collection[str], prefix: str
    ) -> list[_Column]:
        plan = self.plans.get(namespace)
        if plan is None:
            plan = _plan(row, skip, prefix, _schema(namespace, self.taxa))
            self.plans[namespace] = plan
        return plan

    def _record(
        self, namespace: str, incident: str, published: bool | None, attributes: dict[str, Any]
    ) -> ClassificationRecord:
        return ClassificationRecord(
            namespace=namespace,
            incident_ids=[_int_text(incident, "incident_id")],
            attributes=attributes,
            published=published,
            source_kind=_source_kind(namespace),
        )

    def _row_2026(self, row: dict[str, str]) -> ClassificationRecord:
        namespace = _namespace(row["Namespace"])
        attributes: dict[str, Any] = {}
        for column in self._columns(namespace, row, _LAYOUT_2026, ""):
            raw = row[column.key]
            if raw:
                _put(attributes, column.short_name, _from_text(raw, column.field))
        published = _bool_text(row["Published"], "Published")
        return self._record(namespace, row["Incident ID"], published, attributes)

    def _row_2023(self, row: dict[str, str]) -> ClassificationRecord:
        namespace = _namespace(row["namespace"])
        attributes: dict[str, Any] = {}
        for column in self._columns(namespace, row, _LAYOUT_2023, ""):
            raw = row[column.key]
            if raw:
                _put(attributes, column.short_name, _from_json(raw, column.key))
        published = _bool_text(row["publish"], "publish")
        return self._record(namespace, row["incident_id"], published, attributes)

    def _row_2021(self, row: dict[str, str]) -> ClassificationRecord:
        namespace = _namespace(row["namespace"])
        attributes: dict[str, Any] = {}
        skip = (*_LAYOUT_2021, "classifications.Publish")
        for column in self._columns(namespace, row, skip, _LEGACY_PREFIX):
            raw = row[column.key]
            if raw:
                _put(attributes, column.short_name, _from_legacy(raw, column.field))
        published = _bool_text(row.get("classifications.Publish", ""), "classifications.Publish")
        return self._record(namespace, row["incident_id"], published, attributes)


def _namespace(raw: str) -> str:
    if not raw:
        raise _FieldError("namespace", "empty")
    return _LEGACY_NAMESPACES.get(raw, raw)


def classifications_from_csv(
    stream: BinaryIO, name: str, taxa: Mapping[str, TaxonomyRecord]
) -> Iterator[ClassificationRecord]:
    """Yield the classifications of a classification CSV in any of AIID's three layouts.

    The layout is recognised from the header (see :func:`classification_layout`). In the 2024+
    layout values are plain text: a field's definition in ``taxa`` decides its type (``True`` to
    a boolean, ``12`` to an int) and whether it is a list; lists are split on ``", "`` except
    inside permitted values that contain ``", "`` (greedy longest match). For a namespace
    ``taxa`` lacks, a built-in table of AIID's multi-valued, boolean and integer fields is used.
    Object-list fields (GMF snippets, CSETv1 ``Entities``) are exported flattened to text and
    stay text.

    Args:
        stream: the file, opened in binary mode.
        name: the file's name inside the snapshot, for error messages.
        taxa: taxonomy definitions by namespace; may be empty.

    Yields:
        One ClassificationRecord per row (MIT ones with source kind ``imported_machine``).

    Raises:
        SnapshotFormatError: see :func:`iter_csv_rows`; also an unrecognised header, a bad
            incident id or published flag, or (2023 layout) a value that is not JSON.
    """
    rows = iter_csv_rows(stream, name)
    return _records_from_rows(rows, name, _ClassificationRows(name, taxa).convert)


def _incident_ids(doc: Mapping[str, Any]) -> list[int]:
    incidents = doc.get("incidents")
    if isinstance(incidents, list):
        ids = []
        for item in incidents:
            value = item.get("incident_id") if isinstance(item, Mapping) else item
            ids.append(_to_int(value, "incidents"))
        return ids
    if doc.get("incident_id") is not None:
        return [_to_int(doc["incident_id"], "incident_id")]
    return []


def _attribute_list(items: Any, field: str) -> dict[str, Any]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise _FieldError(field, "expected a list of {short_name, value_json}")
    attributes: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("short_name"), str):
            raise _FieldError(field, "expected a list of {short_name, value_json}")
        short_name = item["short_name"]
        raw = item.get("value_json")
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise _FieldError(short_name, "value_json is not text")
        _put(attributes, short_name, _objects(_from_json(raw, short_name), short_name))
    return attributes


def _objects(value: Any, field: str) -> Any:
    """Object-list values nest their own attribute lists; make each object a plain dict."""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, Mapping) and "attributes" in item for item in value)
    ):
        return [_attribute_list(item["attributes"], field) for item in value]
    return value


def classification_from_document(
    doc: Mapping[str, Any], name: str, number: int
) -> ClassificationRecord:
    """Convert one document of ``classifications.bson``.

    The native form is ``{namespace, notes, publish, attributes: [{short_name, value_json}],
    incidents: [{incident_id}]}`` (or a bare ``incident_id``); each ``value_json`` is decoded,
    and object-list values become lists of ``{short_name: value}`` dicts. The pre-2022 form,
    ``{namespace: "CSET", classifications: {Field: value, …, Publish}}``, is read too.

    Args:
        doc: the decoded document.
        name: the file's name inside the snapshot, for error messages.
        number: the document's 1-based position in the file, for error messages.

    Returns:
        The classification; namespace ``CSET`` becomes ``CSETv0``, ``MIT`` ones get source kind
        ``imported_machine``.

    Raises:
        SnapshotFormatError: ``namespace`` is missing, ``attributes`` is malformed, or a
            ``value_json`` is not JSON.
    """
    with _document(name, number):
        namespace = _doc_text(doc.get("namespace"), "namespace")
        if namespace is None:
            raise _FieldError("namespace", "missing")
        namespace = _LEGACY_NAMESPACES.get(namespace, namespace)
        legacy = doc.get("classifications")
        attributes: dict[str, Any] = {}
        if isinstance(legacy, Mapping):
            for short_name, value in legacy.items():
                if short_name != "Publish":
                    _put(attributes, str(short_name), _json_safe(value))
            published = _to_bool(legacy.get("Publish", doc.get("publish")), "Publish")
        else:
            attributes = _attribute_list(doc.get("attributes"), "attributes")
            published = _to_bool(doc.get("publish"), "publish")
        return ClassificationRecord(
            namespace=namespace,
            incident_ids=_incident_ids(doc),
            attributes=attributes,
            published=published,
            notes=_doc_text(doc.get("notes"), "notes"),
            source_kind=_source_kind(namespace),
        )

"""The write side of an ingest: idempotent, batched upserts of records into the store.

An :class:`IngestWriter` lives inside one transaction (the Store opens it); every method compares
content hashes on natural keys, so re-running an import adds and changes nothing, and an
incremental import touches only what changed. Core statements (not ORM units of work) keep a
million-report import fast and its memory bounded by the batch size.
"""

from __future__ import annotations

import datetime as dt
import json
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice, pairwise
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from incidentdb._labels import refresh_current_labels
from incidentdb._models import (
    Classification,
    Duplicate,
    Entity,
    ImportedClassification,
    Incident,
    IncidentEntity,
    IncidentReport,
    IngestRun,
    Report,
    ReportTranslation,
    Submission,
    Taxonomy,
    table_of,
    utc_now,
)
from incidentdb._progress import SILENT, Progress
from incidentdb._records import (
    ClassificationRecord,
    DuplicateRecord,
    EntityRecord,
    IncidentRecord,
    ReportRecord,
    SourceKind,
    SubmissionRecord,
    TaxonomyRecord,
    TranslationRecord,
)
from incidentdb._search import (
    ReportIndexBuilder,
    index_new_reports,
    last_report_pk,
    restore_report_index,
    suspend_report_index,
)
from incidentdb._text import canonical_url, name_from_slug, plain_text_from_markdown

__all__ = ["IngestWriter", "ReportRows"]

T = TypeVar("T")

incidents_t = table_of(Incident)
reports_t = table_of(Report)
links_t = table_of(IncidentReport)
entities_t = table_of(Entity)
roles_t = table_of(IncidentEntity)
taxa_t = table_of(Taxonomy)
class_t = table_of(Classification)
imported_t = table_of(ImportedClassification)
dups_t = table_of(Duplicate)
subs_t = table_of(Submission)
trans_t = table_of(ReportTranslation)
runs_t = table_of(IngestRun)

# Large enough to amortise round trips, small enough for SQLite's bound-parameter limit.
BATCH = 2000


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _value_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class _Bulk:
    """executemany straight to the driver: SQLAlchemy's per-row parameter processing costs more
    than the insert itself when a million reports go in. Values are converted per column type
    once per row here, in the form each driver stores natively."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    def _placeholder(self, table: Table, column: str) -> str:
        if not self.sqlite and isinstance(table.c[column].type, JSON):
            return f"{self.mark}::json"
        return self.mark

    def _converters(self, table: Table, columns: Sequence[str]) -> list[tuple[int, Any]]:
        """(position, function) for the columns whose values the driver cannot take as they are."""
        out: list[tuple[int, Any]] = []
        for position, name in enumerate(columns):
            kind = table.c[name].type
            if isinstance(kind, JSON):
                out.append((position, _json_text))
            elif self.sqlite and isinstance(kind, DateTime):
                out.append((position, _SqliteDatetime()))
            elif self.sqlite and isinstance(kind, Date):
                out.append((position, _sqlite_date))
        return out

    @staticmethod
    def _convert(converters: list[tuple[int, Any]], row: Sequence[Any]) -> tuple[Any, ...]:
        if not converters:
            return tuple(row)
        values = list(row)
        for position, convert in converters:
            value = values[position]
            if value is not None:
                values[position] = convert(value)
        return tuple(values)

    def insert(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        prepared: int = 0,
    ) -> None:
        """INSERT `rows`; their first `prepared` values are already in the driver's form."""
        if not rows:
            return
        marks = ", ".join(self._placeholder(table, c) for c in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        conv = [(i, f) for i, f in self._converters(table, columns) if i >= prepared]
        self.conn.exec_driver_sql(sql, [self._convert(conv, r) for r in rows])

    def load(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        prepared: int = 0,
    ) -> None:
        """Like :meth:`insert`, with ``COPY … FROM STDIN`` on PostgreSQL: one stream instead of
        a statement per row, several times faster for thousands of rows."""
        if self.sqlite or not rows:
            self.insert(table, columns, rows, prepared=prepared)
            return
        conv = [(i, f) for i, f in self._converters(table, columns) if i >= prepared]
        raw = self.conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(self._convert(conv, row))

    def update(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        prepared: int = 0,
    ) -> None:
        """Rows hold the new values of `columns`, then the primary key."""
        if not rows:
            return
        sets = ", ".join(f"{c} = {self._placeholder(table, c)}" for c in columns)
        sql = f"UPDATE {table.name} SET {sets} WHERE id = {self.mark}"
        conv = [(i, f) for i, f in self._converters(table, columns) if i >= prepared]
        self.conn.exec_driver_sql(sql, [self._convert(conv, r) for r in rows])


# One encoder for every value: json.dumps with options builds a new encoder per call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The function that encoder quotes and escapes every string with (C, when available).
_json_string = json.encoder.encode_basestring


def _json_text(value: Any) -> str:
    if type(value) is list:
        if not value:
            return "[]"
        # A list of strings (authors, tags…) joined by hand: the same text as the encoder's
        # (its C string escaper, "," between items): 2.3 µs a report instead of 4.0.
        if all(type(item) is str for item in value):
            return "[" + ",".join(map(_json_string, value)) + "]"
    return _JSON.encode(value)


def _sqlite_date(value: dt.date) -> str:
    return value.isoformat()


class _SqliteDatetime:
    """The format SQLAlchemy's SQLite DateTime type writes and parses; a batch shares one
    timestamp, so the last conversion is remembered."""

    def __init__(self) -> None:
        self._last: tuple[dt.datetime | None, str] = (None, "")

    def __call__(self, value: dt.datetime) -> str:
        if value is not self._last[0]:
            self._last = (value, value.strftime("%Y-%m-%d %H:%M:%S.%f"))
        return self._last[1]


class IngestWriter:
    """Upserts records inside the caller's transaction and counts what it did.

    `counts[kind]` maps outcomes (`added`, `updated`, `unchanged`, …) to numbers.
    """

    def __init__(self, conn: Connection, progress: Progress = SILENT) -> None:
        self.conn = conn
        self.progress = progress
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.notes: list[str] = []
        self._entity_pks: dict[str, int] | None = None
        self._entity_names: dict[int, str] = {}  # filled with _entity_pks
        self._canonical: dict[int, int] | None = None
        # Set by an ingester that knows how recent its data is; recorded with the run.
        self.source_date: dt.datetime | None = None
        # The full-text index of a first import of reports, while a thread still builds it.
        self._index_apart: ReportIndexBuilder | None = None
        # The report numbers such an import stored, in key order: the report with the i-th
        # number has primary key i + 1. Kept while they ascend, so the incidents can find
        # their reports by bisection instead of a query per 2,000 numbers.
        self._first_numbers: array[int] | None = None

    def __enter__(self) -> IngestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def complete(self) -> None:
        """Finish what still runs beside the writer: the full-text index that
        ``report_rows(index_apart=True)`` started. Call it before the transaction commits."""
        if self._index_apart is not None:
            self.progress.stage("search index")
            self._complete_index()

    def close(self) -> None:
        """Stop what still runs beside the writer, completed or not (after a failure)."""
        if self._index_apart is not None:
            self._index_apart.close()
            self._index_apart = None

    def _complete_index(self) -> None:
        """Copy in the full-text index built apart, before anything else reads or edits it."""
        builder = self._index_apart
        if builder is None:
            return
        try:
            built = builder.finish(self.conn)
        finally:
            self.close()
        if not built:
            self.note(
                f"the full-text index of reports was built in the store instead ({builder.error})"
            )
            index_new_reports(self.conn, 0)

    def _index_new_reports(self, after_pk: int) -> None:
        self._complete_index()
        index_new_reports(self.conn, after_pk)

    # -- bookkeeping ---------------------------------------------------------------------------

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return any(
            n for counter in self.counts.values() for k, n in counter.items() if k in _WRITES
        )

    def rows_added(self) -> int:
        """How many records were added or updated, over every kind."""
        return sum(
            n for counter in self.counts.values() for k, n in counter.items() if k in _WRITES
        )

    def summary(self) -> dict[str, dict[str, int]]:
        return {kind: dict(sorted(c.items())) for kind, c in sorted(self.counts.items())}

    def latest_source_date(self, ingester: str) -> dt.datetime | None:
        """The newest data date of earlier successful runs of `ingester`."""
        return self.conn.execute(
            select(func.max(runs_t.c.source_date)).where(
                runs_t.c.ingester == ingester, runs_t.c.outcome.in_(("succeeded", "unchanged"))
            )
        ).scalar()

    def note(self, message: str) -> None:
        """Record something the user should know (shown in the run summary)."""
        self.notes.append(message)

    # -- entities ------------------------------------------------------------------------------

    def _entities(self) -> dict[str, int]:
        if self._entity_pks is None:
            rows = self.conn.execute(
                select(entities_t.c.slug, entities_t.c.id, entities_t.c.name)
            ).all()
            self._entity_pks = {slug: pk for slug, pk, _name in rows}
            self._entity_names = {pk: name for _slug, pk, name in rows}
        return self._entity_pks

    def entities(self, records: Iterable[EntityRecord]) -> None:
        """Upsert entities by slug; a real name replaces one derived from the slug."""
        known = {
            slug: (pk, name, name_known)
            for pk, slug, name, name_known in self.conn.execute(
                select(
                    entities_t.c.id, entities_t.c.slug, entities_t.c.name, entities_t.c.name_known
                )
            )
        }
        counts = self.counts["entities"]
        for batch in _batches(records, BATCH):
            new: dict[str, dict[str, Any]] = {}
            changed = []
            for rec in batch:
                current = known.get(rec.slug)
                if current is None:
                    new[rec.slug] = {"slug": rec.slug, "name": rec.name, "name_known": True}
                elif current[1] != rec.name or not current[2]:
                    changed.append({"_pk": current[0], "name": rec.name, "name_known": True})
                    known[rec.slug] = (current[0], rec.name, True)
                else:
                    counts["unchanged"] += 1
            if new:
                self.conn.execute(insert(entities_t), list(new.values()))
                counts["added"] += len(new)
                # Their keys, so that a later batch naming the same slug updates the right row.
                for slug, pk in self.conn.execute(
                    select(entities_t.c.slug, entities_t.c.id).where(
                        entities_t.c.slug.in_(list(new))
                    )
                ):
                    known[slug] = (pk, new[slug]["name"], True)
            if changed:
                self.conn.execute(
                    update(entities_t)
                    .where(entities_t.c.id == bindparam("_pk"))
                    .values(name=bindparam("name"), name_known=bindparam("name_known")),
                    changed,
                )
                counts["updated"] += len(changed)
            self.progress.advance(len(batch))
        self._entity_pks = None

    def _entity_pk_map(self, slugs: Iterable[str]) -> dict[str, int]:
        pks = self._entities()
        missing = sorted({s for s in slugs if s not in pks})
        if missing:
            before = self._last_pk(entities_t)
            _Bulk(self.conn).insert(
                entities_t,
                ["slug", "name", "name_known"],
                [(s, name_from_slug(s), False) for s in missing],
            )
            added = self._added_since(entities_t, "slug", before, set(missing))
            pks.update(added)
            self._entity_names.update({pk: name_from_slug(slug) for slug, pk in added.items()})
            self.counts["entities"]["added_from_slug"] += len(missing)
        return pks

    def _last_pk(self, table: Table) -> int:
        return int(
            self.conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table.name}").scalar_one()
        )

    def _added_since(self, table: Table, key: str, before: int, wanted: set[Any]) -> dict[Any, int]:
        """`key` → primary key of the rows of `table` this transaction added after `before`.

        One range scan instead of IN lists of thousands of values (SQLAlchemy renders each one
        as a parameter); `wanted` drops rows another writer may have added meanwhile.
        """
        rows = self.conn.exec_driver_sql(
            f"SELECT {key}, id FROM {table.name} WHERE id > {int(before)}"
        ).all()  # one fetchall: iterating a result fetches row by row
        return {k: pk for k, pk in rows if k in wanted}

    # -- taxonomies ----------------------------------------------------------------------------

    def stored_taxa(self) -> dict[str, TaxonomyRecord]:
        """Taxonomy definitions already in the store, by namespace."""
        return {
            ns: TaxonomyRecord(namespace=ns, description=desc, weight=weight, fields=fields or [])
            for ns, desc, weight, fields in self.conn.execute(
                select(taxa_t.c.namespace, taxa_t.c.description, taxa_t.c.weight, taxa_t.c.fields)
            )
        }

    def taxa(self, records: Iterable[TaxonomyRecord]) -> None:
        existing = {
            ns: (pk, h)
            for pk, ns, h in self.conn.execute(
                select(taxa_t.c.id, taxa_t.c.namespace, taxa_t.c.content_hash)
            )
        }
        counts = self.counts["taxonomies"]
        for rec in records:
            h = rec.content_hash()
            row = {
                "namespace": rec.namespace,
                "description": rec.description,
                "weight": rec.weight,
                "fields": rec.fields,
                "content_hash": h,
            }
            current = existing.get(rec.namespace)
            if current is None:
                self.conn.execute(insert(taxa_t), row)
                counts["added"] += 1
            elif current[1] != h:
                self.conn.execute(update(taxa_t).where(taxa_t.c.id == current[0]).values(**row))
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
            self.progress.advance()

    # -- duplicates ----------------------------------------------------------------------------

    def canonical_id(self, incident_id: int) -> int:
        """`incident_id` followed through the duplicates table to the incident it merged into."""
        if self._canonical is None:
            rows = self.conn.execute(
                select(dups_t.c.duplicate_incident_id, dups_t.c.canonical_incident_id)
            )
            self._canonical = {d: c for d, c in rows}
        return self._canonical.get(incident_id, incident_id)

    def duplicates(self, records: Iterable[DuplicateRecord]) -> None:
        """Record merged incidents, resolve chains, and fold already-stored duplicates in."""
        pairs = {
            d: t
            for d, t in self.conn.execute(
                select(dups_t.c.duplicate_incident_id, dups_t.c.true_incident_id)
            )
        }
        counts = self.counts["duplicates"]
        incoming: dict[int, int] = {}
        for rec in records:
            if rec.duplicate_incident_id == rec.true_incident_id:
                self.note(f"duplicate {rec.duplicate_incident_id} points at itself; ignored")
                counts["rejected"] += 1
                continue
            incoming[rec.duplicate_incident_id] = rec.true_incident_id
            self.progress.advance()
        new_pairs = {**pairs, **incoming}
        canonical = _resolve_chains(new_pairs, self.note)
        old_canonical = dict(
            self.conn.execute(
                select(dups_t.c.duplicate_incident_id, dups_t.c.canonical_incident_id)
            ).all()
        )
        for dup, true in incoming.items():
            row = {"true_incident_id": true, "canonical_incident_id": canonical[dup]}
            if dup not in pairs:
                self.conn.execute(insert(dups_t).values(duplicate_incident_id=dup, **row))
                counts["added"] += 1
            elif pairs[dup] != true or old_canonical.get(dup) != canonical[dup]:
                self.conn.execute(
                    update(dups_t).where(dups_t.c.duplicate_incident_id == dup).values(**row)
                )
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        # A chain may have grown at its far end: keep every stored canonical id current.
        for dup in pairs.keys() - incoming.keys():
            if old_canonical.get(dup) != canonical[dup]:
                self.conn.execute(
                    update(dups_t)
                    .where(dups_t.c.duplicate_incident_id == dup)
                    .values(canonical_incident_id=canonical[dup])
                )
                counts["updated"] += 1
        self._canonical = canonical
        for dup, target in sorted(canonical.items()):
            self._fold_incident(dup, target)

    def _fold_incident(self, duplicate_id: int, canonical_id: int) -> None:
        """Merge a stored incident that turned out to be a duplicate into its canonical one."""
        dup = self.conn.execute(
            select(incidents_t.c.id).where(incidents_t.c.incident_id == duplicate_id)
        ).scalar()
        if dup is None:
            return
        target = self.conn.execute(
            select(incidents_t.c.id).where(incidents_t.c.incident_id == canonical_id)
        ).scalar()
        if target is None:
            # The canonical incident is not in this store (partial export): the stored row
            # becomes it, so the merged id never shows as an incident of its own.
            self.conn.execute(
                update(incidents_t).where(incidents_t.c.id == dup).values(incident_id=canonical_id)
            )
        else:
            self._move_children(dup, target)
            self.conn.execute(delete(incidents_t).where(incidents_t.c.id == dup))
            # The duplicate's failure-mode labels moved to the canonical incident.
            refresh_current_labels(self.conn, [target])
        self.counts["incidents"]["merged"] += 1

    def _move_children(self, source_pk: int, target_pk: int) -> None:
        have = {
            r
            for (r,) in self.conn.execute(
                select(links_t.c.report_pk).where(links_t.c.incident_pk == target_pk)
            )
        }
        moving = [
            r
            for (r,) in self.conn.execute(
                select(links_t.c.report_pk).where(links_t.c.incident_pk == source_pk)
            )
            if r not in have
        ]
        if moving:
            self.conn.execute(
                insert(links_t), [{"incident_pk": target_pk, "report_pk": r} for r in moving]
            )
        have_roles = set(
            self.conn.execute(
                select(roles_t.c.entity_pk, roles_t.c.role).where(
                    roles_t.c.incident_pk == target_pk
                )
            ).all()
        )
        roles = [
            {"incident_pk": target_pk, "entity_pk": e, "role": role, "position": pos}
            for e, role, pos in self.conn.execute(
                select(roles_t.c.entity_pk, roles_t.c.role, roles_t.c.position).where(
                    roles_t.c.incident_pk == source_pk
                )
            )
            if (e, role) not in have_roles
        ]
        if roles:
            self.conn.execute(insert(roles_t), roles)
        target_namespaces = {
            ns
            for (ns,) in self.conn.execute(
                select(imported_t.c.namespace).where(imported_t.c.incident_pk == target_pk)
            )
        }
        for table in (class_t, imported_t):
            self.conn.execute(
                update(table)
                .where(
                    table.c.incident_pk == source_pk, table.c.namespace.not_in(target_namespaces)
                )
                .values(incident_pk=target_pk)
            )

    # -- reports -------------------------------------------------------------------------------

    def reports(self, records: Iterable[ReportRecord]) -> None:
        """Upsert reports by report number."""
        self.report_rows(map(self.report_row_maker(), records))

    def report_row_maker(self) -> ReportRows:
        """The function that turns a ReportRecord into a row :meth:`report_rows` takes.

        It is picklable, so an ingester can run it in another process, next to the parsing.
        """
        return ReportRows(sqlite=self.conn.dialect.name == "sqlite")

    def report_rows(self, rows: Iterable[tuple[Any, ...]], *, index_apart: bool = False) -> None:
        """Upsert reports by report number, given as rows made by :meth:`report_row_maker`.

        Rows whose report number is None are counted as rejected. With `index_apart`, a first
        import into an empty SQLite store has its full-text index built by a thread of its own
        (:class:`ReportIndexBuilder`) while the rows, and then the incidents, are written;
        :meth:`complete` copies it in. Worth it for many reports, not for a few thousand (it
        costs a temporary file and a copy).
        """
        counts = self.counts["reports"]
        bulk = _Bulk(self.conn)
        columns = [*REPORT_COLUMNS, "created_at", "updated_at"]
        before = last_report_pk(self.conn)
        # Into an empty table, only a number seen in an earlier batch can already be stored:
        # skipping the look-up saves a query per batch on a first import.
        fresh = before == 0
        seen: set[int] = set()
        suspended = fresh and suspend_report_index(self.conn)
        if fresh and index_apart:
            self._index_apart = ReportIndexBuilder.start(self.conn)
            if self._index_apart is not None:
                self._first_numbers = array("q")
        # The builder indexes rows under the keys they will have, so they are given explicitly.
        explicit = ["id", *columns]
        for batch in _batches(rows, BATCH):
            by_number: dict[int, tuple[Any, ...]] = {}
            for values in batch:
                if values[0] is None:
                    counts["rejected"] += 1
                    continue
                by_number[values[0]] = values
            wanted = [n for n in by_number if n in seen] if fresh else list(by_number)
            existing = {}
            if wanted:
                existing = {
                    number: (pk, h)
                    for number, pk, h in self.conn.execute(
                        select(
                            reports_t.c.report_number, reports_t.c.id, reports_t.c.content_hash
                        ).where(reports_t.c.report_number.in_(wanted))
                    )
                }
            if fresh:
                seen.update(by_number)
            now: Any = utc_now()
            if bulk.sqlite:  # in the form SQLAlchemy's SQLite DateTime stores, once per batch
                now = _SqliteDatetime()(now)
            new, changed = [], []
            for number, values in by_number.items():
                current = existing.get(number)
                if current is None:
                    new.append((*values, now, now))
                elif current[1] == values[_REPORT_HASH]:
                    counts["unchanged"] += 1
                else:
                    changed.append((*values, now, current[0]))
            if new and self._index_apart is not None:
                keyed = [(before + i, *row) for i, row in enumerate(new, 1)]
                bulk.load(reports_t, explicit, keyed, prepared=len(explicit))
                self._index_apart.add([(row[0], row[_TITLE + 1], row[_PLAIN + 1]) for row in keyed])
                self._remember_numbers([row[0] for row in new], before)
                before += len(new)
                counts["added"] += len(new)
            elif new:
                bulk.load(reports_t, columns, new, prepared=len(columns))
                # Indexed batch by batch, so that SQLite tokenises while the next batch is
                # being parsed (in another thread or process).
                self._index_new_reports(before)
                before = last_report_pk(self.conn)
                counts["added"] += len(new)
            if changed:
                # The update trigger edits the full-text index: it must be complete.
                self._complete_index()
                bulk.update(
                    reports_t,
                    [*REPORT_COLUMNS, "updated_at"],
                    changed,
                    prepared=len(REPORT_COLUMNS) + 1,
                )
                counts["updated"] += len(changed)
            self.progress.advance(len(batch))
        if suspended:
            restore_report_index(self.conn)

    def _remember_numbers(self, numbers: list[int], before: int) -> None:
        """Note the numbers of reports just stored with keys before + 1, before + 2, …"""
        known = self._first_numbers
        if known is None:
            return
        if len(known) != before or (known and numbers and numbers[0] <= known[-1]):
            self._first_numbers = None  # not in order: the look-ups query the store
            return
        if any(a >= b for a, b in pairwise(numbers)):
            self._first_numbers = None
            return
        known.extend(numbers)

    def _report_pk_map(self, numbers: Iterable[int]) -> dict[int, int]:
        wanted = sorted(set(numbers))
        pks: dict[int, int] = {}
        known = self._first_numbers
        if known:
            unknown = []
            for number in wanted:
                i = bisect_left(known, number)
                if i < len(known) and known[i] == number:
                    pks[number] = i + 1
                else:
                    unknown.append(number)
            wanted_in_store = unknown
        else:
            wanted_in_store = wanted
        before = last_report_pk(self.conn)
        # An empty reports table (a first import from CSVs without reports.csv) has none of them.
        for chunk in _batches(wanted_in_store if before else [], BATCH):
            rows = self.conn.execute(
                select(reports_t.c.report_number, reports_t.c.id).where(
                    reports_t.c.report_number.in_(chunk)
                )
            )
            pks.update({n: pk for n, pk in rows})
        missing = [n for n in wanted if n not in pks]
        if missing:
            # The incident names reports this snapshot does not carry: keep the link with a
            # stub that a later import (with reports.csv or reports.bson) fills in. The values
            # are in the driver's form already: empty JSON lists, one timestamp.
            sqlite = self.conn.dialect.name == "sqlite"
            now: Any = utc_now()
            if sqlite:
                now = _SqliteDatetime()(now)
            _Bulk(self.conn).insert(
                reports_t,
                [
                    "report_number",
                    "is_stub",
                    "authors",
                    "submitters",
                    "tags",
                    "inputs_outputs",
                    "created_at",
                    "updated_at",
                ],
                [(n, True, "[]", "[]", "[]", "[]", now, now) for n in missing],
                prepared=8,
            )
            self._index_new_reports(before)
            pks.update(self._added_since(reports_t, "report_number", before, set(missing)))
            self.counts["reports"]["stubs"] += len(missing)
        return pks

    # -- incidents -----------------------------------------------------------------------------

    def incidents(self, records: Iterable[IncidentRecord]) -> None:
        """Upsert incidents by AIID incident_id, with their report links and entity roles."""
        counts = self.counts["incidents"]
        # A first import builds the links' and roles' secondary indexes (report, trends) once
        # at the end; their primary keys stay, and with them every look-up made meanwhile.
        deferred = [*self._drop_indexes_of_empty(links_t), *self._drop_indexes_of_empty(roles_t)]
        for batch in _batches(records, BATCH // 2):
            rows: dict[int, tuple[IncidentRecord, str]] = {}
            for rec in batch:
                if self.canonical_id(rec.incident_id) != rec.incident_id:
                    counts["skipped_duplicate"] += 1
                    continue
                rows[rec.incident_id] = (rec, rec.content_hash())
            existing = {
                iid: (pk, h)
                for iid, pk, h in self.conn.execute(
                    select(
                        incidents_t.c.incident_id, incidents_t.c.id, incidents_t.c.content_hash
                    ).where(incidents_t.c.incident_id.in_(list(rows)))
                )
            }
            now = utc_now()
            new, changed = [], []
            for iid, (rec, h) in rows.items():
                row = {
                    "incident_id": iid,
                    "source": "aiid",
                    "date": rec.date,
                    "title": rec.title,
                    "description": rec.description,
                    "editor_notes": rec.editor_notes,
                    "content_hash": h,
                    "updated_at": now,
                }
                current = existing.get(iid)
                if current is None:
                    new.append({**row, "created_at": now})
                elif current[1] != h:
                    changed.append({**row, "_pk": current[0]})
                else:
                    counts["unchanged"] += 1
            if new:
                self.conn.execute(insert(incidents_t), new)
                counts["added"] += len(new)
            if changed:
                self.conn.execute(
                    update(incidents_t)
                    .where(incidents_t.c.id == bindparam("_pk"))
                    .values({k: bindparam(k) for k in changed[0] if k != "_pk"}),
                    changed,
                )
                counts["updated"] += len(changed)
                pks = [row["_pk"] for row in changed]
                # Only AIID's own reports are relinked from its list: reports from news feeds
                # (no report number) joined the incident here, by a run or an editor, and stay.
                aiid_reports = select(reports_t.c.id).where(reports_t.c.report_number.is_not(None))
                self.conn.execute(
                    delete(links_t).where(
                        links_t.c.incident_pk.in_(pks), links_t.c.report_pk.in_(aiid_reports)
                    )
                )
                self.conn.execute(delete(roles_t).where(roles_t.c.incident_pk.in_(pks)))
            touched = [row["incident_id"] for row in new + changed]
            if touched:
                self._link(touched, {iid: rows[iid][0] for iid in touched})
            self.progress.advance(len(batch))
        for ddl in deferred:
            self.conn.exec_driver_sql(ddl)

    def _link(self, incident_ids: list[int], records: dict[int, IncidentRecord]) -> None:
        pk_of = dict(
            self.conn.execute(
                select(incidents_t.c.incident_id, incidents_t.c.id).where(
                    incidents_t.c.incident_id.in_(incident_ids)
                )
            ).all()
        )
        report_pks = self._report_pk_map(n for rec in records.values() for n in rec.report_numbers)
        entity_pks = self._entity_pk_map(
            slug for rec in records.values() for slugs in rec.entities.values() for slug in slugs
        )
        links: list[tuple[int, int]] = []
        # Role rows carry their incident's date and the entity's name (the trends' grouping
        # keys), as classification rows carry the date, so the per-row copy triggers of
        # migrations 0007 and 0008 do not fire on an import. They are made in the driver's form
        # (the date once per incident), so no row is copied again to convert it.
        roles: list[tuple[Any, ...]] = []
        bulk = _Bulk(self.conn)
        day = _sqlite_day if bulk.sqlite else _same
        for iid, rec in records.items():
            ipk = pk_of[iid]
            for report_pk in dict.fromkeys(report_pks[n] for n in rec.report_numbers):
                links.append((ipk, report_pk))
            date = day(rec.date)
            for role, slugs in rec.entities.items():
                for position, slug in enumerate(dict.fromkeys(slugs)):
                    pk = entity_pks[slug]
                    roles.append((ipk, pk, str(role), position, date, self._entity_names[pk]))
        bulk.load(links_t, ["incident_pk", "report_pk"], links)
        bulk.load(
            roles_t,
            ["incident_pk", "entity_pk", "role", "position", "incident_date", "entity_name"],
            roles,
            prepared=6,
        )

    # -- classifications -----------------------------------------------------------------------

    def classifications(self, records: Iterable[ClassificationRecord]) -> None:
        """Replace an incident's imported documents of a namespace when their set changed.

        Counts one outcome per (incident, namespace). A snapshot holds every document of the
        incidents it classifies, so documents missing from it are stale and go.
        """
        counts = self.counts["classifications"]
        # Each value row carries its incident's date (the trends' grouping key) as the driver
        # stores it, so the insert trigger that would otherwise copy it row by row never fires.
        pk_of: dict[int, int] = {}
        date_of: dict[int, Any] = {}
        for iid, pk, date in self.conn.exec_driver_sql(
            f"SELECT incident_id, id, date FROM {incidents_t.name}"
        ):
            pk_of[iid] = pk
            date_of[pk] = date
        grouped: dict[tuple[int, str], dict[str, ClassificationRecord]] = {}
        for rec in records:
            self.progress.advance()
            doc_hash = rec.content_hash()
            for iid in dict.fromkeys(self.canonical_id(i) for i in rec.incident_ids):
                ipk = pk_of.get(iid)
                if ipk is None:
                    counts["skipped_missing_incident"] += 1
                    continue
                grouped.setdefault((ipk, rec.namespace), {})[doc_hash] = rec
        existing: dict[tuple[int, str], set[str]] = defaultdict(set)
        for ipk, ns, h in self.conn.execute(
            select(imported_t.c.incident_pk, imported_t.c.namespace, imported_t.c.doc_hash)
        ):
            existing[(ipk, ns)].add(h)
        imported_kinds = [str(SourceKind.IMPORTED_HUMAN), str(SourceKind.IMPORTED_MACHINE)]
        bulk = _Bulk(self.conn)
        docs_out: list[tuple[Any, ...]] = []
        rows_out: list[tuple[Any, ...]] = []
        # The value rows (twenty per document) are made in the driver's own types, so that they
        # go to executemany as they are, with no per-value conversion; one timestamp per run.
        created: Any = utc_now()
        if bulk.sqlite:
            created = _SqliteDatetime()(created)
        insert_values = (
            f"INSERT INTO {class_t.name} ({', '.join(_CLASSIFICATION_COLUMNS)}) "
            f"VALUES ({', '.join([bulk.mark] * len(_CLASSIFICATION_COLUMNS))})"
        )

        def flush() -> None:
            bulk.insert(imported_t, _IMPORTED_COLUMNS, docs_out)
            if rows_out:
                self.conn.exec_driver_sql(insert_values, rows_out)
            docs_out.clear()
            rows_out.clear()

        deferred = self._drop_indexes_of_empty(class_t) if grouped else []
        # Popping as we go lets the records go as soon as their rows are written: a snapshot of
        # 100,000 classified incidents would otherwise hold every exploded row at once.
        while grouped:
            (ipk, namespace), docs = grouped.popitem()
            stored = existing.get((ipk, namespace))
            if stored == set(docs):
                counts["unchanged"] += 1
                continue
            if stored:
                self.conn.execute(
                    delete(imported_t).where(
                        imported_t.c.incident_pk == ipk, imported_t.c.namespace == namespace
                    )
                )
                self.conn.execute(
                    delete(class_t).where(
                        class_t.c.incident_pk == ipk,
                        class_t.c.namespace == namespace,
                        class_t.c.source_kind.in_(imported_kinds),
                    )
                )
                counts["updated"] += 1
            else:
                counts["added"] += 1
            for doc_hash, rec in docs.items():
                docs_out.append(
                    (
                        ipk,
                        namespace,
                        str(rec.source_kind),
                        rec.published,
                        rec.notes,
                        rec.attributes,
                        doc_hash,
                    )
                )
                rows_out.extend(_classification_rows(ipk, rec, created, date_of.get(ipk)))
            if len(rows_out) >= BATCH * 5:
                flush()
        flush()
        for ddl in deferred:
            self.conn.exec_driver_sql(ddl)

    def _drop_indexes_of_empty(self, table: Table) -> list[str]:
        """Drop the indexes of `table` if it is an empty SQLite table; returns their DDL.

        Building an index once over the finished table is cheaper than keeping it in order
        row by row: for the 40,000 classification rows of the 2026 snapshot, 0.30 CPU-s of
        inserting became 0.20 s. Every index goes, the models' and the raw DDL ones of the
        migrations (the trends' expression index, 0008), and comes back as SQLite recorded
        it. The DDL is part of the ingest's transaction, so a failed import leaves the
        indexes as they were.
        """
        if self.conn.dialect.name != "sqlite":
            return []
        if self.conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
            return []
        indexes = self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table.name,),
        ).all()
        for name, _sql in indexes:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
        return [sql for _name, sql in indexes]

    # -- submissions and translations ----------------------------------------------------------

    def submissions(self, records: Iterable[SubmissionRecord]) -> None:
        counts = self.counts["submissions"]
        known = {h for (h,) in self.conn.execute(select(subs_t.c.content_hash))}
        new: list[dict[str, Any]] = []
        for rec in records:
            self.progress.advance()
            h = rec.content_hash()
            if h in known:
                counts["unchanged"] += 1
                continue
            known.add(h)
            new.append(
                {
                    "content_hash": h,
                    "kind": rec.kind,
                    "incident_id": rec.incident_id,
                    "url": rec.url,
                    "source_domain": rec.source_domain,
                    "title": rec.title,
                    "text": rec.text,
                    "authors": rec.authors,
                    "submitters": rec.submitters,
                    "date_published": rec.date_published,
                    "date_submitted": rec.date_submitted,
                    "incident_date": rec.incident_date,
                    "language": rec.language,
                    "record": rec.model_dump(mode="json"),
                }
            )
            counts["added"] += 1
            if len(new) >= BATCH:
                self.conn.execute(insert(subs_t), new)
                new.clear()
        # One executemany per batch, not a statement per submission.
        if new:
            self.conn.execute(insert(subs_t), new)

    def translations(self, records: Iterable[TranslationRecord]) -> None:
        counts = self.counts["translations"]
        existing = {
            (n, lang): (pk, h)
            for pk, n, lang, h in self.conn.execute(
                select(
                    trans_t.c.id,
                    trans_t.c.report_number,
                    trans_t.c.language,
                    trans_t.c.content_hash,
                )
            )
        }
        for rec in records:
            self.progress.advance()
            h = rec.content_hash()
            row = {
                "report_number": rec.report_number,
                "language": rec.language,
                "title": rec.title,
                "text": rec.text,
                "plain_text": rec.plain_text or plain_text_from_markdown(rec.text),
                "content_hash": h,
            }
            current = existing.get((rec.report_number, rec.language))
            if current is None:
                self.conn.execute(insert(trans_t).values(**row))
                existing[(rec.report_number, rec.language)] = (-1, h)
                counts["added"] += 1
            elif current[1] != h:
                self.conn.execute(update(trans_t).where(trans_t.c.id == current[0]).values(**row))
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1


_WRITES = frozenset({"added", "updated", "merged", "stubs", "added_from_slug"})


REPORT_COLUMNS = (
    "report_number",
    "url",
    "canonical_url",
    "source_domain",
    "title",
    "description",
    "text",
    "plain_text",
    "authors",
    "submitters",
    "date_published",
    "date_downloaded",
    "date_submitted",
    "date_modified",
    "language",
    "image_url",
    "tags",
    "is_incident_report",
    "inputs_outputs",
    "editor_notes",
    "is_stub",
    "content_hash",
)
_REPORT_HASH = REPORT_COLUMNS.index("content_hash")
_TITLE = REPORT_COLUMNS.index("title")
_PLAIN = REPORT_COLUMNS.index("plain_text")


class ReportRows:
    """Makes the REPORT_COLUMNS row of a ReportRecord, every value in the form the driver
    stores: list columns as JSON text, and dates as ISO text on SQLite.

    A plain, picklable object, so that it can run in the process that parses a snapshot.
    """

    def __init__(self, *, sqlite: bool) -> None:
        self.sqlite = sqlite

    def __call__(self, rec: ReportRecord) -> tuple[Any, ...]:
        day = _sqlite_day if self.sqlite else _same
        return (
            rec.report_number,
            rec.url,
            canonical_url(rec.url),
            rec.source_domain,
            rec.title,
            rec.description,
            rec.text,
            rec.plain_text or plain_text_from_markdown(rec.text),
            _json_text(rec.authors),
            _json_text(rec.submitters),
            day(rec.date_published),
            day(rec.date_downloaded),
            day(rec.date_submitted),
            day(rec.date_modified),
            rec.language,
            rec.image_url,
            _json_text(rec.tags),
            rec.is_incident_report,
            _json_text(rec.inputs_outputs),
            rec.editor_notes,
            False,
            # pydantic's model_dump_json is Rust: 6 µs, where json.dumps of the same dict took 15.
            rec.content_hash(),
        )


def _same(value: Any) -> Any:
    return value


def _sqlite_day(value: dt.date | None) -> str | None:
    if value is None:
        return None
    # Reports share their days: four look-ups a report cost 0.5 µs, four isoformat() 1.6.
    text = _DAYS.get(value)
    if text is None:
        if len(_DAYS) >= 100_000:
            _DAYS.clear()
        text = _DAYS[value] = value.isoformat()
    return text


_DAYS: dict[dt.date, str] = {}


_IMPORTED_COLUMNS = (
    "incident_pk",
    "namespace",
    "source_kind",
    "published",
    "notes",
    "attributes",
    "doc_hash",
)
_CLASSIFICATION_COLUMNS = (
    "incident_pk",
    "namespace",
    "attribute",
    "value",
    "value_index",
    "source_kind",
    "published",
    "created_at",
    "incident_date",
)


def _classification_rows(
    incident_pk: int, rec: ClassificationRecord, created: Any, incident_date: Any
) -> Iterator[tuple[Any, ...]]:
    """_CLASSIFICATION_COLUMNS rows: one per value, lists exploded in order, empties left out."""
    namespace, kind, published = rec.namespace, str(rec.source_kind), rec.published
    for attribute, value in rec.attributes.items():
        values = value if isinstance(value, list) else (value,)
        for index, item in enumerate(values):
            # Most values are already text (`type(...) is` is the cheapest test of that).
            text = item if type(item) is str else _value_text(item)
            if text:  # neither None nor ""
                yield (
                    incident_pk,
                    namespace,
                    attribute,
                    text,
                    index,
                    kind,
                    published,
                    created,
                    incident_date,
                )


def _resolve_chains(pairs: dict[int, int], note: Any) -> dict[int, int]:
    """Follow duplicate → true links to the end of each chain; a cycle stops at its first repeat."""
    canonical: dict[int, int] = {}
    for start in pairs:
        seen = [start]
        current = pairs[start]
        while current in pairs and current not in seen:
            seen.append(current)
            current = pairs[current]
        if current in seen:
            note(f"duplicates form a cycle through {start}; it resolves to {seen[-1]}")
            current = seen[-1]
        canonical[start] = current
    return canonical

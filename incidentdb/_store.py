"""The Store: one object over one database, SQLite or PostgreSQL, for every read and write."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    String,
    distinct,
    extract,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError

from incidentdb import _engine
from incidentdb._errors import IncidentDBError, IngestError, NotFoundError
from incidentdb._models import (
    COUNTED_TABLES,
    Classification,
    Duplicate,
    Entity,
    ImportedClassification,
    Incident,
    IncidentEntity,
    IncidentReport,
    IngestRun,
    Report,
    Source,
    table_of,
    utc_now,
)
from incidentdb._progress import SILENT, Progress
from incidentdb._records import SourceKind
from incidentdb._registry import ingesters
from incidentdb._search import search_rows
from incidentdb._writer import IngestWriter

# The feeds, editor review, labels, suites, replay runs and company reports are imported by
# the methods that use them: an ingest loads none of their modules (about 0.2 s of start-up).
if TYPE_CHECKING:
    from incidentdb import _labelling, _runs
    from incidentdb._cases import TestCase
    from incidentdb._company import CompanyIncident
    from incidentdb._suites import SuiteResult
    from incidentdb._trends import Trends

__all__ = ["IngestResult", "Ingester", "Store"]

incidents_t = table_of(Incident)
reports_t = table_of(Report)
links_t = table_of(IncidentReport)
entities_t = table_of(Entity)
roles_t = table_of(IncidentEntity)
class_t = table_of(Classification)
runs_t = table_of(IngestRun)
sources_t = table_of(Source)
dups_t = table_of(Duplicate)
imported_t = table_of(ImportedClassification)


class Ingester(Protocol):
    """What an ingester plug-in provides (registered under a versioned name, e.g. `aiid.v1`).

    `open` does the I/O that may fail before anything is written (download, extract, locate
    files) and yields whatever `load` needs; `load` runs inside the store's one transaction.
    """

    name: str

    def open(self, source: str, progress: Progress) -> AbstractContextManager[Any]: ...

    def load(self, opened: Any, writer: IngestWriter, progress: Progress) -> None: ...


@dataclass(frozen=True)
class IngestResult:
    """What an ingest run did."""

    run_id: int
    ingester: str
    source: str
    outcome: str  # succeeded | unchanged
    counts: dict[str, dict[str, int]]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Store:
    """An incident store at a SQLAlchemy URL (or a SQLite file path).

    Args:
        url: database URL; None uses INCIDENTDB_DATABASE_URL or the default SQLite file.
        migrate: create or upgrade the schema when the database is new or older.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = _engine.normalise_url(url or _engine.default_database_url())
        self.engine: Engine = _engine.make_engine(self.url)
        # A SQLite store this object created: its first ingest writes without the WAL.
        self._new_sqlite = _engine.ensure_schema(self.engine) if migrate else False

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- schema --------------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        _engine.run_migration(self.engine, "upgrade", revision)

    def downgrade(self, revision: str) -> None:
        _engine.run_migration(self.engine, "downgrade", revision)

    def schema_status(self) -> dict[str, Any]:
        """Current and newest schema revision and the row count of every table."""
        current = _engine.current_revision(self.engine)
        head = _engine.SCHEMA_HEAD
        counts: dict[str, int | None] = {}
        with self.engine.connect() as conn:
            for name, model in COUNTED_TABLES.items():
                counts[name] = (
                    conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()
                    if current is not None
                    else None
                )
        return {
            "url": self.engine.url.render_as_string(hide_password=True),
            "dialect": self.dialect,
            "revision": current,
            "head": head,
            "up_to_date": current == head,
            "tables": counts,
        }

    # -- ingest --------------------------------------------------------------------------------

    def ingest(
        self, ingester: str, source: str, *, progress: Progress = SILENT, **options: Any
    ) -> IngestResult:
        """Run the registered ingester `ingester` (e.g. `"aiid.v1"`) on `source`.

        All writes happen in one transaction: a failure leaves the store as it was, and the
        failure is recorded in `ingest_runs`. Running the same ingest twice changes nothing.

        Raises:
            IngestError: the source could not be read; nothing was written.
        """
        plugin = ingesters.get(ingester)(**options)
        started = time.perf_counter()
        run_id = self._start_run(ingester, source)
        with (
            self._recording_failures(
                run_id,
                f"{ingester} failed on {source}",
                "Nothing was written. Please report this with the source if it persists.",
                progress,
            ),
            plugin.open(source, progress) as opened,
            self._ingest_transaction() as conn,
            IngestWriter(conn, progress) as writer,
        ):
            plugin.load(opened, writer, progress)
            writer.complete()
            if writer.changed and self.dialect == "postgresql":
                # Fresh planner statistics, so that the first queries after a bulk load
                # use the indexes (a sample, so it is quick even on a million rows).
                progress.stage("analyzing")
                conn.exec_driver_sql(f"ANALYZE {', '.join(_WRITTEN_TABLES)}")
        if self.dialect == "postgresql" and writer.rows_added() >= VACUUM_AFTER_ROWS:
            self._vacuum(progress)
        outcome = "succeeded" if writer.changed else "unchanged"
        counts = writer.summary()
        self._finish_run(
            run_id, outcome, counts, None, notes=writer.notes, source_date=writer.source_date
        )
        return IngestResult(
            run_id=run_id,
            ingester=ingester,
            source=source,
            outcome=outcome,
            counts=counts,
            notes=list(writer.notes),
            seconds=time.perf_counter() - started,
        )

    @contextmanager
    def _ingest_transaction(self) -> Iterator[Connection]:
        """The ingest's one transaction; a new SQLite store's first one without the WAL."""
        if not self._new_sqlite:
            with self.engine.begin() as conn:
                yield conn
            return
        self._new_sqlite = False
        with self.engine.connect() as conn, _engine.rollback_journal(conn), conn.begin():
            yield conn

    @contextmanager
    def _recording_failures(
        self, run_id: int, what: str, hint: str, progress: Progress
    ) -> Iterator[None]:
        """Record run `run_id` as failed or interrupted when the block raises, then re-raise.

        A library error passes through as it is; anything else becomes an `IngestError` that
        starts with `what` and carries `hint`.
        """
        try:
            yield
        except IncidentDBError as exc:
            self._finish_run(run_id, "failed", {}, str(exc))
            raise
        except KeyboardInterrupt:
            self._finish_run(run_id, "interrupted", {}, "interrupted by the user")
            raise
        except Exception as exc:
            self._finish_run(run_id, "failed", {}, f"{type(exc).__name__}: {exc}")
            raise IngestError(f"{what}: {type(exc).__name__}: {exc}", hint=hint) from exc
        finally:
            progress.done()

    def _vacuum(self, progress: Progress) -> None:
        """VACUUM after a bulk load on PostgreSQL, outside any transaction.

        Until a table is vacuumed its visibility map is empty, so `count(*)` reads the whole
        heap (0.4 s on a million reports instead of 0.08 s); autovacuum would get there, later.
        """
        progress.stage("vacuuming")
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(_WRITTEN_TABLES)}")
        finally:
            progress.done()

    def _start_run(self, ingester: str, source: str) -> int:
        with self.engine.begin() as conn:
            source_pk = conn.execute(
                select(sources_t.c.id).where(
                    sources_t.c.kind == ingester, sources_t.c.locator == source
                )
            ).scalar()
            if source_pk is None:
                source_pk = conn.execute(
                    insert(sources_t)
                    .values(kind=ingester, locator=source)
                    .returning(sources_t.c.id)
                ).scalar_one()
            else:
                conn.execute(
                    update(sources_t).where(sources_t.c.id == source_pk).values(last_seen=utc_now())
                )
            return conn.execute(
                insert(runs_t)
                .values(ingester=ingester, source_pk=source_pk, outcome="running", counts={})
                .returning(runs_t.c.id)
            ).scalar_one()

    def _finish_run(
        self,
        run_id: int,
        outcome: str,
        counts: dict[str, Any],
        error: str | None,
        notes: list[str] | None = None,
        source_date: dt.datetime | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(runs_t)
                .where(runs_t.c.id == run_id)
                .values(
                    source_date=source_date,
                    outcome=outcome,
                    finished_at=utc_now(),
                    counts={**counts, **({"notes": notes} if notes else {})},
                    error=error,
                )
            )

    def ingest_runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Ingest runs, newest first."""
        query = (
            select(
                runs_t.c.id,
                runs_t.c.ingester,
                sources_t.c.locator.label("source"),
                runs_t.c.started_at,
                runs_t.c.finished_at,
                runs_t.c.outcome,
                runs_t.c.source_date,
                runs_t.c.counts,
                runs_t.c.error,
            )
            .select_from(runs_t.outerjoin(sources_t, sources_t.c.id == runs_t.c.source_pk))
            .order_by(runs_t.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # -- queries -------------------------------------------------------------------------------

    def resolve_incident_id(self, incident_id: int) -> int:
        """`incident_id`, or the incident it was merged into if it is a recorded duplicate."""
        with self.engine.connect() as conn:
            canonical = conn.execute(
                select(dups_t.c.canonical_incident_id).where(
                    dups_t.c.duplicate_incident_id == incident_id
                )
            ).scalar()
        return incident_id if canonical is None else canonical

    def list_incidents(
        self,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        deployer: str | None = None,
        developer: str | None = None,
        harmed: str | None = None,
        taxonomy: list[str] | None = None,
        failure_mode: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Incidents matching every given filter, newest first.

        Entity filters match a slug or a name, case-insensitively. Each `taxonomy` filter is
        `NAMESPACE:ATTRIBUTE=VALUE` (or `NAMESPACE:ATTRIBUTE` for any value). `failure_mode`
        keeps incidents whose effective labels (human decisions over the newest classifier
        run) include that mode or technique id.
        """
        from incidentdb import _labelling
        from incidentdb._filters import parse_taxonomy_spec, with_classification, with_entity

        conditions = []
        if since is not None:
            conditions.append(incidents_t.c.date >= since)
        if until is not None:
            conditions.append(incidents_t.c.date <= until)
        for role, who in (("deployer", deployer), ("developer", developer), ("harmed", harmed)):
            if who:
                conditions.append(incidents_t.c.id.in_(with_entity(role, who)))
        for spec in taxonomy or []:
            parsed = parse_taxonomy_spec(
                spec, example='Example: --taxonomy "MIT:Risk Domain=2. Privacy & Security"'
            )
            conditions.append(incidents_t.c.id.in_(with_classification(*parsed)))
        if failure_mode:
            conditions.append(_labelling.has_failure_mode(incidents_t.c.id, failure_mode))
        report_count = (
            select(func.count())
            .select_from(links_t)
            .where(links_t.c.incident_pk == incidents_t.c.id)
            .scalar_subquery()
        )
        query = (
            select(
                incidents_t.c.id,
                incidents_t.c.incident_id,
                incidents_t.c.date,
                incidents_t.c.title,
                report_count.label("reports"),
            )
            .where(*conditions)
            .order_by(incidents_t.c.date.desc().nulls_last(), incidents_t.c.incident_id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
            names = self._entity_names(conn, [r["id"] for r in rows])
        for row in rows:
            pk = row.pop("id")
            row["deployers"] = names.get((pk, "deployer"), [])
            row["developers"] = names.get((pk, "developer"), [])
        return rows

    def _entity_names(self, conn: Any, incident_pks: list[int]) -> dict[tuple[int, str], list[str]]:
        out: dict[tuple[int, str], list[str]] = {}
        for start in range(0, len(incident_pks), 2000):
            chunk = incident_pks[start : start + 2000]
            rows = conn.execute(
                select(roles_t.c.incident_pk, roles_t.c.role, entities_t.c.name)
                .join(entities_t, entities_t.c.id == roles_t.c.entity_pk)
                .where(roles_t.c.incident_pk.in_(chunk))
                .order_by(roles_t.c.incident_pk, roles_t.c.role, roles_t.c.position)
            )
            for pk, role, name in rows:
                out.setdefault((pk, role), []).append(name)
        return out

    def get_incident(self, incident_id: int) -> dict[str, Any]:
        """One incident with its reports, entities by role and classifications.

        A merged (duplicate) id resolves to the incident it was merged into.

        Raises:
            NotFoundError: no such incident.
        """
        from incidentdb import _labelling

        canonical = self.resolve_incident_id(incident_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(incidents_t).where(incidents_t.c.incident_id == canonical)
            ).first()
            if row is None:
                hint = (
                    f"{incident_id} was merged into {canonical}, which is not in this store."
                    if canonical != incident_id
                    else "List incidents with `incidentdb incidents list`."
                )
                raise NotFoundError(f"no incident {incident_id}", hint=hint)
            pk = row.id
            reports = [
                dict(r._mapping)
                for r in conn.execute(
                    select(
                        reports_t.c.report_number,
                        reports_t.c.title,
                        reports_t.c.url,
                        reports_t.c.source_domain,
                        reports_t.c.date_published,
                        reports_t.c.language,
                        reports_t.c.is_incident_report,
                        reports_t.c.is_stub,
                        reports_t.c.inputs_outputs,
                    )
                    .join(links_t, links_t.c.report_pk == reports_t.c.id)
                    .where(links_t.c.incident_pk == pk)
                    .order_by(reports_t.c.report_number)
                )
            ]
            entities: dict[str, list[dict[str, str]]] = {}
            for role, slug, name in conn.execute(
                select(roles_t.c.role, entities_t.c.slug, entities_t.c.name)
                .join(entities_t, entities_t.c.id == roles_t.c.entity_pk)
                .where(roles_t.c.incident_pk == pk)
                .order_by(roles_t.c.role, roles_t.c.position)
            ):
                entities.setdefault(role, []).append({"slug": slug, "name": name})
            classifications = [
                dict(r._mapping)
                for r in conn.execute(
                    select(
                        class_t.c.namespace,
                        class_t.c.attribute,
                        class_t.c.value,
                        class_t.c.source_kind,
                        class_t.c.published,
                        class_t.c.model_name,
                        class_t.c.model_version,
                        class_t.c.confidence,
                    )
                    .where(class_t.c.incident_pk == pk)
                    .order_by(
                        class_t.c.namespace,
                        class_t.c.source_kind,
                        class_t.c.id,
                        class_t.c.value_index,
                    )
                )
            ]
            merged = [
                d
                for (d,) in conn.execute(
                    select(dups_t.c.duplicate_incident_id)
                    .where(dups_t.c.canonical_incident_id == canonical)
                    .order_by(dups_t.c.duplicate_incident_id)
                )
            ]
            failure_modes = _labelling.effective_modes(conn, pk)
        return {
            "incident_id": row.incident_id,
            "requested_id": incident_id,
            "date": row.date,
            "title": row.title,
            "description": row.description,
            "editor_notes": row.editor_notes,
            "source": row.source,
            "entities": entities,
            "reports": reports,
            "classifications": classifications,
            "failure_modes": failure_modes,
            "merged_duplicates": merged,
        }

    def search(self, query: str, *, limit: int | None = 20) -> list[dict[str, Any]]:
        """Incidents ranked by full-text relevance of their title, description and reports."""
        with self.engine.connect() as conn:
            hits = search_rows(conn, query, limit)
            if not hits:
                return []
            pks = [h["incident_pk"] for h in hits]
            incidents = {
                r.id: r
                for r in conn.execute(
                    select(
                        incidents_t.c.id,
                        incidents_t.c.incident_id,
                        incidents_t.c.date,
                        incidents_t.c.title,
                    ).where(incidents_t.c.id.in_(pks))
                )
            }
            numbers = [h["report_number"] for h in hits if h["report_number"] is not None]
            titles = dict(
                conn.execute(
                    select(reports_t.c.report_number, reports_t.c.title).where(
                        reports_t.c.report_number.in_(numbers)
                    )
                ).all()
            )
        results = []
        for hit in hits:
            inc = incidents[hit["incident_pk"]]
            results.append(
                {
                    "incident_id": inc.incident_id,
                    "date": inc.date,
                    "title": inc.title,
                    "score": round(float(hit["score"]), 4),
                    "matches": hit["matches"],
                    "best_report": hit["report_number"],
                    "best_report_title": titles.get(hit["report_number"]),
                }
            )
        return results

    def stats(self, *, top: int = 10) -> dict[str, Any]:
        """Counts by year, top deployers and developers, and classification coverage."""
        sqlite = self.dialect == "sqlite"
        # On SQLite dates are ISO text, counted per day in the date index's order (no sort of
        # 100,000 rows by a computed year: 12 ms against 31 ms on a million-report store) and
        # summed per year (the first four characters) below.
        year: Any = (
            type_coerce(incidents_t.c.date, String)  # the stored text, not parsed per row
            if sqlite
            else extract("year", incidents_t.c.date)
        )
        statements: dict[str, Any] = {
            # count(*) of a whole table is a b-tree count; stubs are few and indexed.
            "reports": select(func.count()).select_from(reports_t),
            "report_stubs": select(func.count())
            .select_from(reports_t)
            .where(reports_t.c.is_stub.is_(True)),
            "incidents": select(func.count()).select_from(incidents_t),
            "entities": select(func.count()).select_from(entities_t),
            "duplicates": select(func.count()).select_from(dups_t),
            "by_year": select(year.label("year"), func.count()).group_by(year).order_by(year),
            "imported_coverage": select(
                imported_t.c.namespace,
                imported_t.c.source_kind,
                func.count(distinct(imported_t.c.incident_pk)),
            ).group_by(imported_t.c.namespace, imported_t.c.source_kind),
            "own_coverage": select(
                class_t.c.namespace,
                class_t.c.source_kind,
                func.count(distinct(class_t.c.incident_pk)),
            )
            .where(class_t.c.source_kind.in_((str(SourceKind.HUMAN), str(SourceKind.MODEL))))
            .group_by(class_t.c.source_kind, class_t.c.namespace),
        }
        for role in ("deployer", "developer"):
            # Counted from the (role, entity, incident) index alone; names joined to the top.
            counted = (
                select(roles_t.c.entity_pk, func.count().label("n"))
                .where(roles_t.c.role == role)
                .group_by(roles_t.c.entity_pk)
                .subquery()
            )
            statements[role] = (
                select(entities_t.c.slug, entities_t.c.name, counted.c.n)
                .join(counted, counted.c.entity_pk == entities_t.c.id)
                .order_by(counted.c.n.desc(), entities_t.c.slug)
                .limit(top)
            )
        rows = self._read_together(statements)
        by_year: Counter[int | None] = Counter()
        for key, n in rows["by_year"]:
            if key is not None:
                key = int(key[:4] if sqlite else key)
            by_year[key] += n
        stubs = rows["report_stubs"][0][0]
        totals = {
            "incidents": rows["incidents"][0][0],
            "reports": rows["reports"][0][0] - stubs,
            "report_stubs": stubs,
            "entities": rows["entities"][0][0],
            "duplicates": rows["duplicates"][0][0],
        }
        coverage = [
            {
                "namespace": ns,
                "source_kind": kind,
                "incidents": n,
                "share": round(n / totals["incidents"], 4) if totals["incidents"] else 0.0,
            }
            for ns, kind, n in sorted(
                (ns, kind, int(n))
                for ns, kind, n in [*rows["imported_coverage"], *rows["own_coverage"]]
            )
        ]
        return {
            "totals": totals,
            "by_year": [
                {"year": y, "incidents": n}
                # Where each database orders NULL: first on SQLite, last on PostgreSQL.
                for y, n in sorted(
                    by_year.items(), key=lambda item: ((item[0] is None) != sqlite, item[0] or 0)
                )
            ],
            "top_deployers": [
                {"slug": slug, "name": name, "incidents": n} for slug, name, n in rows["deployer"]
            ],
            "top_developers": [
                {"slug": slug, "name": name, "incidents": n} for slug, name, n in rows["developer"]
            ],
            "classification_coverage": coverage,
        }

    def _read_together(self, statements: dict[str, Any]) -> dict[str, list[Any]]:
        """The rows of independent read-only statements, all as of one moment.

        On PostgreSQL they run at once, each on its own connection, in transactions that share
        the first one's snapshot (``pg_export_snapshot``): a million-row count takes the
        server tens of milliseconds, and one after the other they add up. SQLite runs them in
        turn in one transaction.
        """
        if self.dialect != "postgresql":
            with self.engine.connect() as conn:
                return {name: list(conn.execute(stmt)) for name, stmt in statements.items()}
        with self.engine.connect().execution_options(isolation_level="REPEATABLE READ") as leader:
            snapshot = leader.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()

            def read(stmt: Any) -> list[Any]:
                with self.engine.connect().execution_options(
                    isolation_level="REPEATABLE READ"
                ) as conn:
                    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    return list(conn.execute(stmt))

            names = list(statements)
            with ThreadPoolExecutor(max_workers=_PARALLEL_READS) as pool:
                # The leader keeps the snapshot alive; it answers the first statement itself.
                later = {name: pool.submit(read, statements[name]) for name in names[1:]}
                first = list(leader.execute(statements[names[0]]))
                return {names[0]: first, **{name: job.result() for name, job in later.items()}}

    # -- news feeds and editor decisions (logic in _feeds.py and _review.py) -------------------

    def ingest_feeds(self, *, progress: Progress = SILENT, **options: Any) -> IngestResult:
        """Poll every due feed with the `rss.v1` ingester and file what is relevant.

        Options go to the ingester (`worker_id`, `concurrency`, `fulltext`, `all_due`, …).
        Each feed is written in its own transaction, so an interrupted run keeps what it
        stored; the run and each feed's poll are recorded.
        """
        plugin = ingesters.get("rss.v1")(**options)
        started = time.perf_counter()
        try:
            run_id = self._start_run("rss.v1", "feeds")
        except IntegrityError:
            # Another worker registered the source at the same moment; it exists now.
            run_id = self._start_run("rss.v1", "feeds")
        with self._recording_failures(
            run_id,
            "rss.v1 failed",
            "Feeds already stored stay stored. Please report this if it persists.",
            progress,
        ):
            counts, notes = plugin.run(self, run_id, progress)
        changed = counts["entries"]["added"] or counts["reports"]["added"]
        outcome = "succeeded" if changed else "unchanged"
        self._finish_run(run_id, outcome, counts, None, notes=notes)
        return IngestResult(
            run_id=run_id,
            ingester="rss.v1",
            source="feeds",
            outcome=outcome,
            counts=counts,
            notes=notes,
            seconds=time.perf_counter() - started,
        )

    def feed_polls(self, run_id: int) -> list[dict[str, Any]]:
        """What run `run_id` did with each feed: outcome, entries seen/new/duplicate/…, error."""
        from incidentdb import _feeds

        return _feeds.poll_rows(self.engine, run_id)

    def add_feeds(self, feeds: list[tuple[str, str | None, bool]]) -> list[dict[str, Any]]:
        """Register feeds given as (url, name, fulltext); known URLs are left alone."""
        from incidentdb import _feeds

        return _feeds.add_feeds(self.engine, feeds)

    def list_feeds(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Every feed with its state, last outcome and error, and when it is next due."""
        from incidentdb import _feeds

        return _feeds.list_feeds(self.engine, limit=limit)

    def remove_feed(self, ref: str) -> dict[str, Any]:
        """Remove the feed with this id or URL; its entries and reports stay."""
        from incidentdb import _feeds

        return _feeds.remove_feed(self.engine, ref)

    def review_candidates(
        self, *, status: str = "candidate", limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Incidents opened by feed runs, with the incidents they most resemble."""
        from incidentdb import _review

        return _review.list_candidates(self.engine, status=status, limit=limit)

    def incident_reports(self, ref: str) -> list[dict[str, Any]]:
        """The reports of incident `ref` (AIID id or `f12`), with feed entries' scores."""
        from incidentdb import _review

        return _review.incident_reports(self.engine, ref)

    def decide_candidate(self, ref: str, action: str, *, author: str) -> dict[str, Any]:
        """Accept or reject (`action`) the feed incident `ref` (e.g. `"f12"`)."""
        from incidentdb import _review

        return _review.decide_candidate(self.engine, ref, action, author)

    def merge_incidents(self, into: str, merged: str, *, author: str) -> dict[str, Any]:
        """Merge the feed incident `merged` into `into`, recording the decision."""
        from incidentdb import _review

        return _review.merge_incidents(self.engine, into, merged, author)

    def move_report(self, report: str, to: str, *, author: str) -> dict[str, Any]:
        """Move the feed report `report` (e.g. `"r34"`) into incident `to`."""
        from incidentdb import _review

        return _review.move_report(self.engine, report, to, author)

    def editor_decisions(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Editor decisions, newest first."""
        from incidentdb import _review

        return _review.list_decisions(self.engine, limit=limit)

    # -- failure-mode labels (logic in incidentdb/_labelling.py) -------------------------

    def incident_texts(
        self,
        *,
        incident_ids: list[int] | None = None,
        since: dt.date | None = None,
        batch_size: int = 500,
    ) -> Iterator[list[_labelling.IncidentText]]:
        """Incidents for a classifier to read, in batches (see `_labelling.incident_texts`)."""
        from incidentdb import _labelling

        with self.engine.connect() as conn:
            yield from _labelling.incident_texts(
                conn, incident_ids=incident_ids, since=since, batch_size=batch_size
            )

    def classified_by(self, model_name: str, model_version: str, pks: list[int]) -> set[int]:
        """Which incident pks this classifier version has already labelled."""
        from incidentdb import _labelling

        with self.engine.connect() as conn:
            return _labelling.classified_by(conn, model_name, model_version, pks)

    def write_model_tags(
        self,
        model_name: str,
        model_version: str,
        tags_by_incident: dict[int, list[_labelling.ModelTag]],
    ) -> int:
        """Write one classifier run's tags in one transaction; returns rows written."""
        from incidentdb import _labelling

        with self.engine.begin() as conn:
            return _labelling.write_model_tags(conn, model_name, model_version, tags_by_incident)

    def record_label_decisions(
        self, decisions: list[_labelling.HumanDecision], author: str
    ) -> dict[str, int]:
        """Record human label decisions in one transaction (repeats of the newest are skipped).

        Raises:
            NotFoundError: an incident is not in the store; nothing is written.
        """
        from incidentdb import _labelling

        with self.engine.begin() as conn:
            return _labelling.record_decisions(conn, decisions, author)

    # -- test suites (logic in incidentdb._suites) ---------------------------------------------

    def save_suite(
        self,
        name: str,
        cases: Iterable[TestCase],
        *,
        params: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> SuiteResult:
        """Make suite `name` hold exactly `cases`, in one transaction (idempotent)."""
        from incidentdb import _suites

        return _suites.save_suite(self.engine, name, cases, params=params, description=description)

    def suite_cases(self, name: str) -> Iterator[TestCase]:
        """The cases of suite `name` ordered by id. Raises NotFoundError for no such suite."""
        from incidentdb import _suites

        return _suites.iter_suite_cases(self.engine, name)

    def get_suite(self, name: str) -> dict[str, Any]:
        """Suite `name`: parameters, dates and case count. Raises NotFoundError."""
        from incidentdb import _suites

        with self.engine.connect() as conn:
            return _suites.suite_row(conn, name)

    def list_suites(self) -> list[dict[str, Any]]:
        from incidentdb import _suites

        return _suites.list_suites(self.engine)

    # -- replay runs (logic in incidentdb._runs) -----------------------------------------------

    def open_run(
        self,
        suite: str,
        endpoint: str,
        model: str,
        params: dict[str, Any] | None = None,
        *,
        resume: int | None = None,
        new: bool = False,
    ) -> _runs.RunRecorder:
        """Resume run `resume`, else the newest unfinished run of the same suite, endpoint and
        model (unless `new`), else start one. Raises NotFoundError for a wrong `resume`."""
        from incidentdb import _runs

        return _runs.RunRecorder.open(
            self.engine, suite, endpoint, model, params or {}, resume=resume, new=new
        )

    def list_runs(
        self, *, suite: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Replay runs, newest first, with counts and overall attack success rate."""
        from incidentdb import _runs

        return _runs.list_runs(self.engine, suite=suite, limit=limit)

    def get_run(self, run_id: int) -> dict[str, Any]:
        """A run with its summary (ASR per failure mode and technique). Raises NotFoundError."""
        from incidentdb import _runs

        return _runs.run_summary(self.engine, run_id)

    def run_results(self, run_id: int) -> list[dict[str, Any]]:
        """Every result of a run with transcript and verdicts. Raises NotFoundError."""
        from incidentdb import _runs

        return _runs.run_results(self.engine, run_id)

    def diff_runs(self, a: int, b: int) -> list[dict[str, Any]]:
        """Cases that regressed (passed in A, failed in B) or were fixed. Raises NotFoundError."""
        from incidentdb import _runs

        return _runs.diff_runs(self.engine, a, b)

    # -- company incidents and reports (logic in _company.py and _reports/) --------------------

    def add_company_incident(self, record: CompanyIncident) -> tuple[str, str]:
        """Record an organisation's own incident, or update the one with its `reference`.

        Returns:
            Its id (`C-1`) and `"added"`, `"updated"` or `"unchanged"`.
        """
        from incidentdb import _company

        with self.engine.begin() as conn:
            number, outcome = _company.add_company_incident(conn, record)
        return f"C-{number}", outcome

    def company_incident(self, incident: str) -> dict[str, Any]:
        """The stored facts of company incident `incident` (`C-1`).

        Raises:
            NotFoundError: no such company incident.
        """
        from incidentdb import _company

        ref = _company.parse_incident_ref(incident)
        if ref.kind != "company":
            raise NotFoundError(f"{incident} is not a company incident (C-n)")
        with self.engine.connect() as conn:
            facts = _company.company_facts(conn, _company.incident_pk(conn, ref))
        assert facts is not None
        facts.pop("number")
        return {"id": str(ref), **facts}

    def report(
        self,
        template: str,
        incident: str | int,
        *,
        report_type: str | None = None,
        as_of: dt.date | None = None,
    ) -> dict[str, Any]:
        """Fill the report template `template` (`eu-ai-act.v1`, `oecd.v1`) for an incident.

        `incident` is an AIID number, a company id (`C-1`) or an AVID id; `as_of` (default
        today) dates the report and the deadline status.
        """
        from incidentdb._reports import fill_report

        with self.engine.connect() as conn:
            return fill_report(
                conn,
                template,
                incident,
                report_type=report_type,
                as_of=as_of or dt.date.today(),
            )

    def incident_facts(self, incident: str | int) -> dict[str, Any]:
        """The flat facts reports and exports read, for any incident id (see `report`)."""
        from incidentdb import _company
        from incidentdb._reports import incident_facts

        with self.engine.connect() as conn:
            return incident_facts(conn, _company.parse_incident_ref(incident))

    def external_incident(self, incident: str) -> dict[str, Any]:
        """An imported external document (AVID) as stored, with its id, kind and file.

        Raises:
            NotFoundError: no such document in this store.
        """
        from incidentdb import _company
        from incidentdb._models_compliance import ExternalIncident

        ext_t = table_of(ExternalIncident)

        ref = _company.parse_incident_ref(incident)
        if ref.kind != "external":
            raise NotFoundError(f"{incident} is not an imported AVID id")
        with self.engine.connect() as conn:
            pk = _company.incident_pk(conn, ref)
            row = conn.execute(
                select(
                    ext_t.c.source,
                    ext_t.c.external_id,
                    ext_t.c.kind,
                    ext_t.c.locator,
                    ext_t.c.document,
                ).where(ext_t.c.incident_pk == pk)
            ).one()
        return {
            "id": row.external_id,
            "source": row.source,
            "kind": row.kind,
            "locator": row.locator,
            "document": row.document,
        }

    def company_incidents(
        self, *, as_of: dt.date | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Company incidents with their Art. 73 deadline, the most urgent first."""
        from incidentdb._reports import company_incidents

        with self.engine.connect() as conn:
            return company_incidents(conn, as_of=as_of or dt.date.today(), limit=limit)

    # -- trends and exports (logic in _trends.py and _export.py) --------------------------------

    def trends(
        self,
        *,
        by: str,
        period: str = "year",
        since: dt.date | None = None,
        until: dt.date | None = None,
        where: dict[str, list[str]] | None = None,
        include_private: bool = False,
    ) -> Trends:
        """Incidents per period and group, counted in the database.

        Args:
            by: ``failure_mode``, ``technique``, ``deployer``, ``developer``, ``harmed`` or
                ``taxonomy:NAMESPACE:ATTRIBUTE``.
            period: ``month`` (``2024-07``), ``quarter`` (``2024-Q3``) or ``year`` (``2024``).
            since: first day counted; until: last day counted.
            where: filters that must all hold, e.g. ``{"deployer": ["Acme"], "failure_mode":
                ["agentic"], "taxonomy": ["MIT:Entity=AI"]}``.
            include_private: count the organisation's own (``company``) incidents too.

        Returns:
            A :class:`Trends`; ``pandas.DataFrame(result.rows)`` takes its rows as they are.

        Raises:
            QueryError: an unknown dimension, period or filter.
        """
        from incidentdb._trends import trends

        with self.engine.connect() as conn:
            return trends(
                conn,
                by=by,
                period=period,
                since=since,
                until=until,
                where=where,
                include_private=include_private,
            )

    def export_incidents(
        self,
        out: BinaryIO,
        fmt: str,
        *,
        include_private: bool = False,
        progress: Progress = SILENT,
    ) -> int:
        """Write every incident with its labels and entities to `out` as csv, jsonl or parquet.

        Streamed in batches, so memory stays bounded whatever the store's size. Returns the
        number of incidents written.
        """
        from incidentdb._export import export_incidents

        with self.engine.connect() as conn:
            return export_incidents(
                conn, out, fmt, include_private=include_private, progress=progress
            )


# Tables an ingest writes; PostgreSQL gets fresh statistics on them after one.
_WRITTEN_TABLES = (
    *COUNTED_TABLES,
    "incident_reports",
    "incident_entities",
    "imported_classifications",
)
# Connections Store.stats reads with at once on PostgreSQL (within the default pool of 5 + 10).
_PARALLEL_READS = 4
# On PostgreSQL an ingest that added this many rows is followed by VACUUM (ANALYZE).
VACUUM_AFTER_ROWS = 10_000

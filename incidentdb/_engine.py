"""Opening databases: the default location, engine settings per dialect, and migrations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidentdb._errors import MigrationError, StoreError

# SQLAlchemy is imported inside the functions that open a database, so that `incidentdb
# --version` and `--help`, which read DATABASE_URL_ENV from here, start without it.
if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection, Engine

__all__ = ["DATABASE_URL_ENV", "SCHEMA_HEAD", "default_database_url", "make_engine"]

# The newest migration revision. Opening an up-to-date store compares against this constant, so
# alembic (a quarter of a second to import) loads only when a migration has to run; a test
# checks it against alembic's own view of the migrations.
SCHEMA_HEAD = "0008"

DATABASE_URL_ENV = "INCIDENTDB_DATABASE_URL"
HOME_ENV = "INCIDENTDB_HOME"


def default_database_url() -> str:
    """The store used when neither `--db` nor INCIDENTDB_DATABASE_URL names one.

    `$INCIDENTDB_HOME/incidentdb.sqlite`, else `$XDG_DATA_HOME/incidentdb/incidentdb.sqlite`,
    else `~/.local/share/incidentdb/incidentdb.sqlite`.
    """
    if os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV]
    home = os.environ.get(HOME_ENV)
    if home:
        folder = Path(home)
    else:
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        folder = Path(data_home) / "incidentdb"
    return f"sqlite:///{folder / 'incidentdb.sqlite'}"


def normalise_url(url: str) -> str:
    """Accept a bare file path for SQLite and plain postgresql:// URLs (psycopg 3 driver)."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers query while an ingest writes; NORMAL sync is safe with WAL.
    import sqlite3

    cursor = dbapi_conn.cursor()
    # While a new store's first ingest holds it in rollback-journal mode (`rollback_journal`),
    # the switch fails at once ("locked"); this connection reads in that mode meanwhile.
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):  # any other failure is the store's problem, not a race
            raise
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`, creating the SQLite file's folder when needed."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}", hint="Try sqlite:///path.db") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers too much; issue BEGIN ourselves so a whole
        # ingest is one transaction that readers never see half-done.
        event.listen(engine, "connect", _disable_pysqlite_transactions)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "connect", _postgres_session)
        return engine
    raise StoreError(
        f"unsupported database {parsed.get_backend_name()!r}",
        hint="Use a sqlite:/// or postgresql:// URL.",
    )


def _postgres_session(dbapi_conn: Any, _record: Any) -> None:
    # JIT compilation costs more than it saves on the short queries a store makes (measured:
    # 0.7 s of JIT on a 10 ms search).
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_conn.commit()


def _disable_pysqlite_transactions(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(files("incidentdb") / "migrations"))
    return cfg


def head_revision() -> str:
    """The newest revision as alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision; None for a database incidentdb has not migrated."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import OperationalError

    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        raise StoreError(f"cannot open the database: {exc.orig}") from exc


def run_migration(engine: Engine, action: str, revision: str) -> None:
    """Run alembic `upgrade` or `downgrade` to `revision` on `engine`."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def check_models(engine: Engine) -> None:
    """Raise if the models and the migrations disagree (`alembic check`)."""
    from alembic import command

    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.check(cfg)


def ensure_schema(engine: Engine) -> bool:
    """Create and migrate a new or older store; refuse one newer than this code.

    A new SQLite store is created from `SQLITE_SCHEMA` (the migrations' result, recorded) and then
    migrated on by alembic if that script is behind the migrations: replaying the script takes a
    few milliseconds, where importing alembic and running every migration took 0.3-0.6 s.

    Returns:
        Whether this call created a new, empty SQLite store.
    """
    from sqlalchemy import inspect

    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return False
    if current is None and inspect(engine).get_table_names():
        tables = ", ".join(sorted(inspect(engine).get_table_names())[:5])
        raise MigrationError(
            f"the database holds tables ({tables}, …) but no incidentdb schema version",
            hint="Point --db at an empty database or one incidentdb created.",
        )
    created = current is None and engine.dialect.name == "sqlite"
    if created:
        current = _create_sqlite_schema(engine)
        if current == SCHEMA_HEAD:
            return True
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise MigrationError(
            f"the database is at revision {current}, which this incidentdb does not know",
            hint="Upgrade incidentdb: the database was migrated by a newer version.",
        )
    run_migration(engine, "upgrade", "head")
    return created


@contextmanager
def rollback_journal(conn: Connection) -> Iterator[None]:
    """Run the block (one transaction on `conn`, a SQLite connection outside any) with SQLite's
    rollback journal instead of the WAL, then go back to the WAL.

    For the first import into a new store: through the WAL every page is written twice, into
    the log at commit and into the file at the checkpoint; with a rollback journal a page the
    file did not have yet is written once and journals nothing (2026 AIID CSVs: a 20 MB store,
    0.03-0.06 CPU-s less). If another connection has the file open, the mode cannot change and
    the block simply runs with the WAL.

    Meanwhile other connections read the store as it was before, except while the pages are
    written: at commit, and, for an import larger than the page cache (64 MB), from the moment
    SQLite spills pages to the file until the commit; they wait for that (busy timeout 30 s),
    where the WAL would have let them read throughout.
    """
    import sqlite3

    raw: Any = conn.connection.driver_connection
    try:
        switched = raw.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    except sqlite3.OperationalError:  # locked by another connection: stay in WAL
        switched = False
    try:
        yield
    finally:
        if switched:
            # Should this fail, every new connection asks for the WAL again.
            with suppress(sqlite3.OperationalError):
                raw.execute("PRAGMA journal_mode=WAL")


# -- a new SQLite store from a recorded schema ---------------------------------------------------

SQLITE_SCHEMA = "sqlite_schema.sql"  # in incidentdb/migrations/
_REVISION_LINE = "-- revision: "


def sqlite_schema_script(engine: Engine) -> str:
    """The SQL that recreates the schema of the SQLite database `engine` (which alembic made).

    Every object of `sqlite_master` in creation order, less those SQLite makes itself (FTS5
    shadow tables, automatic indexes), then the alembic revision. Write it to `SQLITE_SCHEMA`
    with `python -m incidentdb._engine` after adding a migration; a test compares a store
    created from it with one that alembic migrated.
    """
    with engine.connect() as conn:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
        shadow = {
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM pragma_table_list WHERE type = 'shadow'"
            )
        }
        objects = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).all()
        stats = conn.exec_driver_sql(
            "SELECT tbl, idx, stat FROM sqlite_stat1 ORDER BY tbl, idx"
            if any(name == "sqlite_stat1" for name, _ in objects)
            else "SELECT 1 WHERE 0"
        ).all()
    lines = [
        "-- The schema alembic's migrations create on SQLite, replayed to create a new store.",
        "-- Generated by `python -m incidentdb._engine`; do not edit.",
        f"{_REVISION_LINE}{revision}",
    ]
    for name, sql in objects:
        if name in shadow:
            continue
        if name == "sqlite_stat1":
            # SQLite creates this table itself; analysing the schema table makes it, empty.
            lines.append("ANALYZE sqlite_schema;")
            lines.extend(
                f"INSERT INTO sqlite_stat1 VALUES ({_sql_literal(tbl)}, {_sql_literal(idx)}, "
                f"{_sql_literal(stat)});"
                for tbl, idx, stat in stats
            )
        else:
            lines.append(f"{sql};")
    lines.append(f"INSERT INTO alembic_version (version_num) VALUES ({_sql_literal(revision)});")
    return "\n".join(lines) + "\n"


def _sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def recorded_sqlite_schema() -> str | None:
    """The text of `SQLITE_SCHEMA`; None if the package carries none."""
    resource = files("incidentdb") / "migrations" / SQLITE_SCHEMA
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def _create_sqlite_schema(engine: Engine) -> str | None:
    """Replay `SQLITE_SCHEMA` on the new database of `engine` in one transaction; returns the
    revision it reached (None when the package carries no script)."""
    import sqlite3

    script = recorded_sqlite_schema()
    if script is None:
        return None
    revision = next(
        (
            line.removeprefix(_REVISION_LINE).strip()
            for line in script.splitlines()
            if line.startswith(_REVISION_LINE)
        ),
        None,
    )
    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
        assert dbapi is not None
        try:
            # IMMEDIATE: a second process creating the same store waits, then finds the tables.
            dbapi.executescript(f"BEGIN IMMEDIATE;\n{script}COMMIT;")
        except sqlite3.Error as exc:
            if dbapi.in_transaction:
                dbapi.execute("ROLLBACK")
            error = exc
        else:
            return revision
    created = current_revision(engine)  # another process may have created it meanwhile
    if created is None:
        raise StoreError(f"cannot create the database schema: {error}")
    return created


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        made = make_engine(f"sqlite:///{tmp}/schema.db")
        run_migration(made, "upgrade", "head")
        text_out = sqlite_schema_script(made)
        made.dispose()
    target = Path(__file__).parent / "migrations" / SQLITE_SCHEMA
    target.write_text(text_out, encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)

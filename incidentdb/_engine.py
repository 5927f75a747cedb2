"""Opening databases: the default location, engine settings per dialect, and migrations."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from incidentdb._errors import MigrationError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["DATABASE_URL_ENV", "SCHEMA_HEAD", "default_database_url", "make_engine"]

# The newest migration revision. Opening an up-to-date store compares against this constant, so
# alembic (a quarter of a second to import) loads only when a migration has to run; a test
# checks it against alembic's own view of the migrations.
SCHEMA_HEAD = "0007"

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
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`, creating the SQLite file's folder when needed."""
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


def ensure_schema(engine: Engine) -> None:
    """Create and migrate a new or older store; refuse one newer than this code."""
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return
    if current is None and inspect(engine).get_table_names():
        tables = ", ".join(sorted(inspect(engine).get_table_names())[:5])
        raise MigrationError(
            f"the database holds tables ({tables}, …) but no incidentdb schema version",
            hint="Point --db at an empty database or one incidentdb created.",
        )
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise MigrationError(
            f"the database is at revision {current}, which this incidentdb does not know",
            hint="Upgrade incidentdb: the database was migrated by a newer version.",
        )
    run_migration(engine, "upgrade", "head")

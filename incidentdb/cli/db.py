"""`incidentdb db`: schema migrations and status."""

from __future__ import annotations

import click

from incidentdb import Store
from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import echo_json, format_option, output_rows


@click.group()
def db() -> None:
    """Create, migrate and inspect the database."""


@db.command()
@click.argument("revision", default="head")
@pass_app
def upgrade(app: AppContext, revision: str) -> None:
    """Migrate the schema up to REVISION (default: the newest)."""
    store = Store(app.db_url, migrate=False)
    try:
        store.upgrade(revision)
        status = store.schema_status()
    finally:
        store.close()
    click.echo(f"schema at revision {status['revision']} ({status['url']})")


@db.command()
@click.argument("revision")
@pass_app
def downgrade(app: AppContext, revision: str) -> None:
    """Migrate the schema down to REVISION (`base` removes every table)."""
    store = Store(app.db_url, migrate=False)
    try:
        store.downgrade(revision)
        status = store.schema_status()
    finally:
        store.close()
    click.echo(f"schema at revision {status['revision'] or 'base'} ({status['url']})")


@db.command()
@format_option
@pass_app
def status(app: AppContext, fmt: str) -> None:
    """Schema revision and the number of rows in each table."""
    store = Store(app.db_url, migrate=False)
    try:
        info = store.schema_status()
    finally:
        store.close()
    if fmt == "json":
        echo_json(info)
        return
    rows = [
        {"key": "url", "value": info["url"]},
        {"key": "revision", "value": info["revision"] or "(empty database)"},
        {"key": "head", "value": info["head"]},
        {"key": "up_to_date", "value": info["up_to_date"]},
    ] + [{"key": f"rows.{name}", "value": n} for name, n in info["tables"].items()]
    output_rows(rows, fmt, ["key", "value"])

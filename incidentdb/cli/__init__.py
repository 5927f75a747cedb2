"""The `incidentdb` command: thin click groups over the library."""

from __future__ import annotations

import click

from incidentdb import IncidentDBError, __version__
from incidentdb._engine import DATABASE_URL_ENV
from incidentdb.cli._context import AppContext
from incidentdb.cli.classify import classify
from incidentdb.cli.db import db
from incidentdb.cli.demo import demo
from incidentdb.cli.eval import eval_group
from incidentdb.cli.export import export
from incidentdb.cli.export_avid import export_avid
from incidentdb.cli.export_incidents import export_incidents
from incidentdb.cli.export_suite import export_suite
from incidentdb.cli.feeds import feeds, ingest_feeds
from incidentdb.cli.generate import generate
from incidentdb.cli.incidents import incidents
from incidentdb.cli.ingest import ingest
from incidentdb.cli.label import label
from incidentdb.cli.replay import replay
from incidentdb.cli.report import report
from incidentdb.cli.review import merge_incidents, reports, review
from incidentdb.cli.runs import runs
from incidentdb.cli.search import search
from incidentdb.cli.stats import stats
from incidentdb.cli.taxonomy import taxonomy
from incidentdb.cli.trends import trends

__all__ = ["cli", "main"]


class _Group(click.Group):
    """Turns library errors into `Error: …` and `Hint: …` on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except IncidentDBError as exc:
            click.echo(f"Error: {exc}", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing of the unfinished run was written.", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar=DATABASE_URL_ENV,
    metavar="URL",
    help="Database URL or SQLite file (default: ~/.local/share/incidentdb/incidentdb.sqlite; "
    f"env {DATABASE_URL_ENV}).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress or messages on stderr.")
@click.version_option(__version__, prog_name="incidentdb")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, quiet: bool) -> None:
    """incidentdb: AI incidents in a database you can query and test against."""
    app = AppContext(db_url=db_url, quiet=quiet)
    ctx.obj = app
    ctx.call_on_close(app.close)


for command in (
    db,
    ingest,
    incidents,
    search,
    stats,
    demo,
    taxonomy,
    export,
    feeds,
    review,
    reports,
    eval_group,
    classify,
    label,
    generate,
    replay,
    runs,
    report,
    trends,
):
    cli.add_command(command)
ingest.add_command(ingest_feeds)
incidents.add_command(merge_incidents)
export.add_command(export_suite)
export.add_command(export_avid)
export.add_command(export_incidents)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="incidentdb")

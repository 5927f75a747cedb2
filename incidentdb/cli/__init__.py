"""The `incidentdb` command: thin click groups over the library."""

from __future__ import annotations

import gc
from importlib import import_module

import click

from incidentdb import __version__
from incidentdb._engine import DATABASE_URL_ENV
from incidentdb._errors import IncidentDBError
from incidentdb.cli._context import AppContext

__all__ = ["cli", "main"]


# Every command by name, as "module:attribute", and the commands other modules add to a group.
# A command's module is imported only when that command runs (or `--help` lists them all):
# `incidentdb ingest aiid` then loads neither the classifier's, the replay runner's nor the
# reports' code.
_COMMANDS: dict[str, str] = {
    "classify": "incidentdb.cli.classify:classify",
    "db": "incidentdb.cli.db:db",
    "demo": "incidentdb.cli.demo:demo",
    "eval": "incidentdb.cli.eval:eval_group",
    "export": "incidentdb.cli.export:export",
    "feeds": "incidentdb.cli.feeds:feeds",
    "generate": "incidentdb.cli.generate:generate",
    "incidents": "incidentdb.cli.incidents:incidents",
    "ingest": "incidentdb.cli.ingest:ingest",
    "label": "incidentdb.cli.label:label",
    "replay": "incidentdb.cli.replay:replay",
    "report": "incidentdb.cli.report:report",
    "reports": "incidentdb.cli.review:reports",
    "review": "incidentdb.cli.review:review",
    "runs": "incidentdb.cli.runs:runs",
    "search": "incidentdb.cli.search:search",
    "stats": "incidentdb.cli.stats:stats",
    "taxonomy": "incidentdb.cli.taxonomy:taxonomy",
    "trends": "incidentdb.cli.trends:trends",
}
_SUBCOMMANDS: dict[str, list[str]] = {
    "ingest": ["incidentdb.cli.feeds:ingest_feeds"],
    "incidents": ["incidentdb.cli.review:merge_incidents"],
    "export": [
        "incidentdb.cli.export_suite:export_suite",
        "incidentdb.cli.export_avid:export_avid",
        "incidentdb.cli.export_incidents:export_incidents",
    ],
}


def _load(spec: str) -> click.Command:
    module, _, attribute = spec.partition(":")
    command = getattr(import_module(module), attribute)
    assert isinstance(command, click.Command), spec
    return command


class _Group(click.Group):
    """Loads commands on first use, and turns library errors into `Error: …` and `Hint: …` on
    stderr and exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            command = _load(_COMMANDS[cmd_name])
            if isinstance(command, click.Group):
                for spec in _SUBCOMMANDS.get(cmd_name, []):
                    command.add_command(_load(spec))
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        found = super().resolve_command(ctx, args)
        _startup_done()
        return found

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


# The cyclic garbage collector is paused while a command's modules load: importing SQLAlchemy,
# the models and pydantic leaves some 60,000 objects for it to track, which never go, and every
# older-generation collection (during start-up, then while the command runs) re-scans them.
# Once the command is resolved they are frozen out of collection and the collector resumes:
# `ingest aiid` of the 2026 CSVs took 1.51 -> 1.24 CPU-s. Only `main()` does this, not `cli`
# called from a test.
_gc_paused = False


def _startup_done() -> None:
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


def main() -> None:
    """Console-script entry point."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True
    try:
        cli(prog_name="incidentdb")
    finally:
        _startup_done()

"""`incidentdb feeds`: the feed registry; `incidentdb ingest feeds`: poll the due feeds."""

from __future__ import annotations

from pathlib import Path

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import echo_json, format_option, limit_option, output_rows

LIST_COLUMNS = [
    "id",
    "url",
    "name",
    "fulltext",
    "state",
    "last_outcome",
    "last_status",
    "failures",
    "last_polled_at",
    "next_due_at",
    "entries",
    "last_error",
]
POLL_COLUMNS = [
    "feed",
    "url",
    "outcome",
    "status",
    "seen",
    "new",
    "duplicate",
    "rejected",
    "reports",
    "errors",
    "error",
]


@click.group()
def feeds() -> None:
    """Manage the news feeds `ingest feeds` polls."""


@feeds.command()
@click.argument("url")
@click.option("--name", help="A name to show for the feed.")
@click.option("--fulltext", is_flag=True, help="Entries are teasers: fetch each article page.")
@format_option
@pass_app
def add(app: AppContext, url: str, name: str | None, fulltext: bool, fmt: str) -> None:
    """Register the feed at URL (RSS or Atom); a URL already registered is left as it is."""
    rows = app.store().add_feeds([(url, name, fulltext)])
    output_rows(rows, fmt, ["id", "url", "result"])


@feeds.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@format_option
@pass_app
def import_(app: AppContext, file: Path, fmt: str) -> None:
    """Register every feed of an OPML file or of a JSON list in AIID's format."""
    from ingest.rss import read_feed_list

    specs = read_feed_list(file)
    rows = app.store().add_feeds([(s.url, s.name, s.fulltext) for s in specs])
    output_rows(rows, fmt, ["id", "url", "result"])
    added = sum(1 for r in rows if r["result"] == "added")
    app.info(f"{added} feeds added, {len(rows) - added} already registered")


@feeds.command("list")
@format_option
@limit_option
@pass_app
def list_(app: AppContext, fmt: str, limit: int | None) -> None:
    """List feeds with their state, last outcome and error, and when each is next due."""
    output_rows(app.store().list_feeds(limit=limit), fmt, LIST_COLUMNS)


@feeds.command()
@click.argument("feed")
@pass_app
def remove(app: AppContext, feed: str) -> None:
    """Remove FEED (its id or URL). Entries and reports that came from it stay."""
    result = app.store().remove_feed(feed)
    click.echo(
        f"removed feed {result['id']} ({result['url']}); {result['entries_kept']} entries kept"
    )


@click.command("feeds")
@click.option("--fulltext", is_flag=True, help="Fetch every new entry's article page for its text.")
@click.option(
    "--worker-id", help="This worker's name in leases and poll records (default host:pid)."
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Requests in flight at once.",
)
@click.option(
    "--per-host",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Requests in flight at once to one host.",
)
@click.option("--all", "all_due", is_flag=True, help="Poll every feed now, due or not.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to connect and to wait for the server.",
)
@format_option
@click.option("-q", "--quiet", is_flag=True, help="No progress or messages on stderr.")
@pass_app
def ingest_feeds(
    app: AppContext,
    fulltext: bool,
    worker_id: str | None,
    concurrency: int,
    per_host: int,
    all_due: bool,
    timeout: float,
    fmt: str,
    quiet: bool,
) -> None:
    """Poll the due feeds (ingester rss.v1) and file relevant entries as reports.

    Conditional GET makes an unchanged feed cost a 304; failing feeds back off (see
    `feeds list`). With PostgreSQL several workers may run at once: each leases the feeds it
    polls. With SQLite run one worker at a time.
    """
    app.quiet = app.quiet or quiet
    store = app.store()
    result = store.ingest_feeds(
        progress=app.progress(),
        fulltext=fulltext,
        worker_id=worker_id,
        concurrency=concurrency,
        per_host=per_host,
        all_due=all_due,
        timeout=timeout,
    )
    rows = store.feed_polls(result.run_id)
    if fmt == "json":
        echo_json(
            {
                "run_id": result.run_id,
                "ingester": result.ingester,
                "outcome": result.outcome,
                "counts": result.counts,
                "notes": result.notes,
                "feeds": rows,
            }
        )
    else:
        output_rows(rows, fmt, POLL_COLUMNS)
    c = result.counts
    app.info(
        f"run {result.run_id}: {c['feeds']['polled']} feeds polled "
        f"({c['feeds']['not_modified']} unchanged, {c['feeds']['failed']} failed); "
        f"{c['entries']['added']} new entries, {c['entries']['rejected']} rejected, "
        f"{c['reports']['added']} reports, {c['incidents']['added']} candidate incidents "
        f"in {result.seconds:.1f}s"
    )
    for note in result.notes:
        app.info(f"note: {note}")

"""`incidentdb demo`: the whole pipeline on the bundled sample snapshot."""

from __future__ import annotations

from pathlib import Path

import click

from incidentdb import Store
from incidentdb._data import bundled_data
from incidentdb._engine import default_database_url
from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import output_rows
from incidentdb.cli.ingest import summary_rows


def _demo_url(app: AppContext) -> str:
    if app.db_url:
        return app.db_url
    default = default_database_url()
    folder = (
        Path(default.removeprefix("sqlite:///")).parent
        if default.startswith("sqlite:///")
        else Path.cwd()
    )
    return f"sqlite:///{folder / 'demo.sqlite'}"


@click.command()
@click.option(
    "--keep", is_flag=True, help="Add to an existing demo store instead of starting afresh."
)
@pass_app
def demo(app: AppContext, keep: bool) -> None:
    """Build a demo store from the bundled sample snapshot and query it.

    Uses --db if given, else demo.sqlite beside the default store (never the default store
    itself), which is emptied first unless --keep is given.
    """
    url = _demo_url(app)
    sample = bundled_data("sample", "mongodump_full_snapshot")
    if not keep and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    with Store(url) as store:
        click.echo(f"Demo store: {store.engine.url.render_as_string(hide_password=True)}")
        click.echo(f"Ingesting the sample AIID snapshot from {sample} …\n")
        result = store.ingest("aiid.v1", str(sample), progress=app.progress())
        output_rows(
            summary_rows(result),
            "table",
            ["kind", "added", "updated", "unchanged", "other"],
            title="ingested",
        )
        again = store.ingest("aiid.v1", str(sample))
        click.echo(f"\nRe-importing the same snapshot: {again.outcome} (nothing written twice).\n")

        stats = store.stats(top=5)
        output_rows(
            [{"what": k, "count": v} for k, v in stats["totals"].items()], "table", title="stats"
        )
        output_rows(stats["top_deployers"], "table", ["name", "incidents"], title="top deployers")

        click.echo('\n$ incidentdb search "prompt injection" --limit 5')
        output_rows(
            store.search("prompt injection", limit=5),
            "table",
            ["incident_id", "date", "title", "score"],
        )
        click.echo("\n$ incidentdb incidents list --limit 5")
        output_rows(
            store.list_incidents(limit=5),
            "table",
            ["incident_id", "date", "title", "deployers", "reports"],
        )
    click.echo(f"\nExplore it: incidentdb --db {url} incidents show <ID>")

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
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the exported test suites (default: demo-exports beside the demo store).",
)
@pass_app
def demo(app: AppContext, keep: bool, out: Path | None) -> None:
    """Build a demo store from the bundled sample snapshot, classify it and export test suites.

    Uses --db if given, else demo.sqlite beside the default store (never the default store
    itself), which is emptied first unless --keep is given. The generated suite is exported
    to every harness under --out.
    """
    # Imported here: the core package imports the others only inside CLI commands.
    from generators import demo_exports
    from taxonomy import classify

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

        click.echo("\n$ incidentdb classify --all")
        classified = classify(store, progress=app.progress())
        output_rows(
            [
                {"failure_mode": mode, "incidents": n}
                for mode, n in sorted(classified.by_mode.items())
            ]
            + [{"failure_mode": "(none)", "incidents": classified.untagged}],
            "table",
            ["failure_mode", "incidents"],
            title=f"{classified.model_name} {classified.model_version}",
        )

        folder = out or _exports_folder(store)
        click.echo("\n$ incidentdb generate --suite demo && incidentdb export suite demo --to …")
        generated, exports = demo_exports(store, folder)
        output_rows(
            [
                {
                    "harness": e.exporter,
                    "cases": e.cases,
                    "files": len(e.files),
                    "not expressible": len(e.warnings),
                }
                for e in exports
            ],
            "table",
            ["harness", "cases", "files", "not expressible"],
            title=f"suite demo: {generated.cases} cases from {generated.incidents} incidents",
        )
        click.echo(f"Exports written to {folder}")
    click.echo(f"\nExplore it: incidentdb --db {url} incidents show <ID>")


def _exports_folder(store: Store) -> Path:
    """demo-exports beside a SQLite demo store; in the working folder for a server database."""
    database = store.engine.url.database
    if store.dialect == "sqlite" and database:
        return Path(database).parent / "demo-exports"
    return Path.cwd() / "demo-exports"

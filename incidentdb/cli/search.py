"""`incidentdb search`: ranked full-text search."""

from __future__ import annotations

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import format_option, output_rows


@click.command()
@click.argument("query")
@format_option
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="At most N results (default: all)."
)
@pass_app
def search(app: AppContext, query: str, fmt: str, limit: int | None) -> None:
    """Find incidents whose title, description or reports match QUERY, best first."""
    rows = app.store().search(query, limit=limit)
    output_rows(rows, fmt, ["incident_id", "date", "title", "score", "matches", "best_report"])

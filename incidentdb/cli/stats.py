"""`incidentdb stats`: what the store holds."""

from __future__ import annotations

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import echo_json, format_option, output_rows

COLUMNS = {
    "totals": ["what", "count"],
    "by_year": ["year", "incidents"],
    "top_deployers": ["slug", "name", "incidents"],
    "top_developers": ["slug", "name", "incidents"],
    "classification_coverage": ["namespace", "source_kind", "incidents", "share"],
}
SECTIONS = tuple(COLUMNS)


@click.command()
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--section",
    type=click.Choice(SECTIONS),
    default=None,
    help="Only this section (for csv output, one section at a time is clearest).",
)
@format_option
@pass_app
def stats(app: AppContext, top: int, section: str | None, fmt: str) -> None:
    """Counts by year, top deployers and developers, classification coverage."""
    data = app.store().stats(top=top)
    sections = [section] if section else list(SECTIONS)
    if fmt == "json":
        echo_json(data if section is None else {section: data[section]})
        return
    for name in sections:
        value = data[name]
        rows = [{"what": k, "count": v} for k, v in value.items()] if name == "totals" else value
        if fmt == "csv" and len(sections) > 1:
            click.echo(f"# {name}")
        output_rows(rows, fmt, COLUMNS[name], title=name)

"""`incidentdb trends`: incidents per period and group, as a table or a chart."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import echo_json, format_option, limit_option, output_rows

if TYPE_CHECKING:
    from incidentdb._trends import Trends

COLUMNS = ["period", "group", "incidents"]


@click.command()
@click.option(
    "--by",
    required=True,
    metavar="DIMENSION",
    help="failure_mode, technique, deployer, developer, harmed or taxonomy:NS:ATTR "
    '(e.g. "taxonomy:MIT:Risk Domain").',
)
@click.option(
    "--period",
    type=click.Choice(["month", "quarter", "year"]),
    default="year",
    show_default=True,
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="On or after this date.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="On or before this date.")
@click.option(
    "--where",
    "where_specs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only incidents with KEY=VALUE, KEY one of deployer, developer, harmed, failure_mode, "
    'technique, taxonomy (e.g. "taxonomy=MIT:Entity=AI"); repeatable, all must hold.',
)
@click.option("--include-private", is_flag=True, help="Count the organisation's own incidents too.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE.png|FILE.svg",
    help="Also draw a chart into this file.",
)
@click.option(
    "--style",
    type=click.Choice(["stacked", "lines"]),
    default="stacked",
    show_default=True,
    help="Chart style.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Groups named in the chart; the rest are drawn as Other.",
)
@format_option
@limit_option
@pass_app
def trends(
    app: AppContext,
    by: str,
    period: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
    where_specs: tuple[str, ...],
    include_private: bool,
    plot: str | None,
    style: str,
    top: int,
    fmt: str,
    limit: int | None,
) -> None:
    """Incidents per period and group, with how many are unclassified or undated.

    An incident with several groups counts once in each. With --format json the output is one
    object: "rows" and "summary" (incidents in range, unclassified, undated, snapshot date);
    with table or csv the summary goes to stderr.
    """
    from incidentdb._trends import parse_where

    result = app.store().trends(
        by=by,
        period=period,
        since=since.date() if since else None,
        until=until.date() if until else None,
        where=parse_where(where_specs),
        include_private=include_private,
    )
    rows = result.rows[:limit] if limit else result.rows
    if fmt == "json":
        echo_json({"rows": rows, "summary": result.summary()})
    else:
        output_rows(rows, fmt, COLUMNS, title=f"incidents by {result.by} per {period}")
        app.info(summary_line(result))
    if plot:
        from incidentdb._trends_plot import plot_trends

        written = plot_trends(result, plot, style=style, top=top)
        app.info(f"chart written to {written}")


def summary_line(result: Trends) -> str:
    """`N incidents in range; U without a <dimension> (unclassified); D without a date.`"""
    snapshot = f" Snapshot of {result.snapshot_date}." if result.snapshot_date else ""
    return (
        f"{result.incidents} incidents in range; {result.unclassified} without a {result.by} "
        f"(unclassified); {result.undated} without a date (in no period).{snapshot}"
    )

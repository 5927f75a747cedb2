"""`incidentdb review`, `incidents merge`, `reports move`: editor decisions on feed results.

Feed incidents are named `f<id>` and feed reports `r<id>`; plain numbers are AIID ids.
"""

from __future__ import annotations

import click

from incidentdb._review import default_author
from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import format_option, limit_option, output_rows

REVIEW_COLUMNS = ["incident", "date", "title", "reports", "status", "best_matches", "decided_by"]
DECISION_COLUMNS = ["id", "action", "incident", "report", "target", "author", "created_at"]

author_option = click.option(
    "--author", default=default_author, show_default="$USER", help="Who decides."
)


@click.group(invoke_without_command=True)
@click.option(
    "--status",
    type=click.Choice(["candidate", "accepted", "rejected", "merged", "all"]),
    default="candidate",
    show_default=True,
)
@format_option
@limit_option
@click.pass_context
def review(ctx: click.Context, status: str, fmt: str, limit: int | None) -> None:
    """List candidate incidents from feed runs with the incidents they most resemble."""
    if ctx.invoked_subcommand is None:
        app = ctx.find_object(AppContext)
        assert app is not None
        rows = app.store().review_candidates(status=status, limit=limit)
        output_rows(rows, fmt, REVIEW_COLUMNS)


@review.command()
@click.argument("incident")
@author_option
@pass_app
def accept(app: AppContext, incident: str, author: str) -> None:
    """Accept the candidate INCIDENT (f<id>) as an incident."""
    result = app.store().decide_candidate(incident, "accept", author=author)
    click.echo(f"{result['incident']} accepted (decision {result['decision']} by {author})")


@review.command()
@click.argument("incident")
@author_option
@pass_app
def reject(app: AppContext, incident: str, author: str) -> None:
    """Reject the candidate INCIDENT (f<id>): not an incident. Its reports stay with it."""
    result = app.store().decide_candidate(incident, "reject", author=author)
    click.echo(f"{result['incident']} rejected (decision {result['decision']} by {author})")


@review.command()
@click.argument("incident")
@format_option
@pass_app
def show(app: AppContext, incident: str, fmt: str) -> None:
    """List the reports of INCIDENT (f<id> or an AIID id) with their relevance scores."""
    rows = app.store().incident_reports(incident)
    output_rows(rows, fmt, ["report", "date", "title", "url", "score", "evidence"])


@review.command()
@format_option
@limit_option
@pass_app
def decisions(app: AppContext, fmt: str, limit: int | None) -> None:
    """List editor decisions, newest first."""
    output_rows(app.store().editor_decisions(limit=limit), fmt, DECISION_COLUMNS)


@click.command("merge")
@click.argument("into")
@click.argument("merged")
@author_option
@pass_app
def merge_incidents(app: AppContext, into: str, merged: str, author: str) -> None:
    """Merge incident MERGED (a feed incident, f<id>) into INTO: its reports move to INTO."""
    result = app.store().merge_incidents(into, merged, author=author)
    click.echo(
        f"{result['merged']} merged into {result['into']}: {result['reports_moved']} reports "
        f"moved (decision {result['decision']} by {author})"
    )


@click.group()
def reports() -> None:
    """Editor decisions on single reports."""


@reports.command()
@click.argument("report")
@click.option("--to", "to", required=True, help="The incident (AIID id or f<id>).")
@author_option
@pass_app
def move(app: AppContext, report: str, to: str, author: str) -> None:
    """Move the feed REPORT (r<id>) into another incident."""
    result = app.store().move_report(report, to, author=author)
    click.echo(
        f"{result['report']} moved to {result['to']} (decision {result['decision']} by {author})"
    )

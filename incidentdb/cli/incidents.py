"""`incidentdb incidents`: list and show incidents."""

from __future__ import annotations

import datetime as dt

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import echo_json, format_option, limit_option, output_rows

LIST_COLUMNS = ["incident_id", "date", "title", "deployers", "developers", "reports"]


@click.group()
def incidents() -> None:
    """Query incidents."""


@incidents.command("list")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="On or after this date.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="On or before this date.")
@click.option("--deployer", help="Deployer slug or name.")
@click.option("--developer", help="Developer slug or name.")
@click.option("--harmed", help="Harmed party slug or name.")
@click.option(
    "--taxonomy",
    multiple=True,
    metavar="NS:ATTR[=VALUE]",
    help='Classification filter, e.g. "MIT:Risk Domain=2. Privacy & Security" (repeatable).',
)
@click.option(
    "--failure-mode",
    metavar="MODE",
    help="Only incidents labelled with this failure mode or technique id (human labels win "
    "over classifiers).",
)
@format_option
@limit_option
@pass_app
def list_(
    app: AppContext,
    since: dt.datetime | None,
    until: dt.datetime | None,
    deployer: str | None,
    developer: str | None,
    harmed: str | None,
    taxonomy: tuple[str, ...],
    failure_mode: str | None,
    fmt: str,
    limit: int | None,
) -> None:
    """List incidents, newest first, filtered by date, entities and taxonomy values."""
    rows = app.store().list_incidents(
        since=since.date() if since else None,
        until=until.date() if until else None,
        deployer=deployer,
        developer=developer,
        harmed=harmed,
        taxonomy=list(taxonomy),
        failure_mode=failure_mode,
        limit=limit,
    )
    output_rows(rows, fmt, LIST_COLUMNS)


@incidents.command()
@click.argument("incident_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_app
def show(app: AppContext, incident_id: int, fmt: str) -> None:
    """Show one incident: its facts, entities, reports and classifications."""
    inc = app.store().get_incident(incident_id)
    if fmt == "json":
        echo_json(inc)
        return
    lines = []
    if inc["requested_id"] != inc["incident_id"]:
        lines.append(f"(incident {inc['requested_id']} was merged into {inc['incident_id']})")
    lines.append(f"Incident {inc['incident_id']}: {inc['title']}")
    lines.append(f"Date: {inc['date'] or 'unknown'}")
    if inc["description"]:
        lines.append(f"Description: {inc['description']}")
    for role, label in (
        ("deployer", "Deployers"),
        ("developer", "Developers"),
        ("harmed", "Harmed parties"),
        ("implicated_system", "Implicated systems"),
    ):
        if role in inc["entities"]:
            lines.append(f"{label}: " + ", ".join(e["name"] for e in inc["entities"][role]))
    if inc["merged_duplicates"]:
        lines.append("Merged duplicates: " + ", ".join(map(str, inc["merged_duplicates"])))
    lines.append(f"Reports ({len(inc['reports'])}):")
    for r in inc["reports"]:
        if r["is_stub"]:
            lines.append(f"  #{r['report_number']} (not in this store yet)")
            continue
        kind = " [variant]" if r["inputs_outputs"] else ""
        date = f" {r['date_published']}" if r["date_published"] else ""
        lines.append(f"  #{r['report_number']}{date} {r['title'] or ''}{kind}")
        if r["url"]:
            lines.append(f"      {r['url']}")
    if inc.get("failure_modes") is not None:
        believed = [
            f"{f['value']} ({f['source']}"
            + (f" {f['confidence']:.2f})" if f["source"] == "model" else ")")
            for f in inc["failure_modes"]
        ]
        lines.append("Failure modes: " + (", ".join(believed) if believed else "none"))
    if inc["classifications"]:
        lines.append("Classifications:")
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for c in inc["classifications"]:
            if c["value"] is None:  # a classifier's "nothing found" row
                continue
            grouped.setdefault((c["namespace"], c["source_kind"], c["attribute"]), []).append(
                c["value"]
            )
        for (ns, kind, attribute), values in grouped.items():
            lines.append(f"  {ns}: {attribute} = {_short('; '.join(values))}  [{kind}]")
    click.echo("\n".join(lines))


def _short(value: str, width: int = 100) -> str:
    """One line of at most `width` characters: snippets and discussions run to paragraphs."""
    flat = " ".join(value.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"

"""`incidentdb incidents`: list and show incidents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
@click.argument("incident_ref", metavar="INCIDENT_ID")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_app
def show(app: AppContext, incident_ref: str, fmt: str) -> None:
    """Show one incident: its facts, entities, reports and classifications.

    INCIDENT_ID is an AIID number, a company incident (C-1) or an AVID id (AVID-2026-R0062).
    """
    if not incident_ref.strip().isdigit():
        _show_other(app, incident_ref, fmt)
        return
    incident_id = int(incident_ref)
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


# -- company incidents (and other non-AIID ids) --------------------------------------------------


def _show_other(app: AppContext, ref: str, fmt: str) -> None:
    """`show` for a company incident (C-1) or an imported AVID document."""
    from incidentdb._company import parse_incident_ref

    parsed = parse_incident_ref(ref)
    store = app.store()
    record = (
        store.company_incident(ref) if parsed.kind == "company" else store.external_incident(ref)
    )
    if fmt == "json":
        echo_json(record)
        return
    import yaml

    # The id as a comment: a company incident's text is then a file `add --from` takes back.
    click.echo(f"# {record.pop('id')}")
    click.echo(yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=100), nl=False)


# Prompts for `incidents add` without --from: (field path, question, required).
_PROMPTS: list[tuple[str, str, bool]] = [
    ("title", "Short title", True),
    ("description", "What happened", True),
    ("ai_system.name", "AI system name", True),
    ("ai_system.version", "AI system version", False),
    ("ai_system.eu_database_id", "EU database registration number", False),
    ("ai_system.intended_purpose", "Intended purpose", False),
    ("provider.name", "Provider (organisation)", True),
    ("provider.contact_email", "Provider contact e-mail", False),
    ("deployer.name", "Deployer (organisation)", False),
    ("occurrence.date", "Date of occurrence (YYYY-MM-DD)", False),
    ("occurrence.countries", "Countries, ISO codes, comma-separated (e.g. DE,FR)", False),
    ("awareness_date", "Date you became aware (YYYY-MM-DD)", False),
    (
        "harm.categories",
        "Harm categories, comma-separated (death, serious_health_harm, "
        "critical_infrastructure_disruption, fundamental_rights_infringement, property_harm, "
        "environment_harm, widespread_infringement)",
        False,
    ),
    ("harm.description", "Harm caused", False),
    ("people_affected.count", "Number of people affected", False),
    ("people_affected.description", "Who was affected", False),
    ("cause", "Cause, as far as known", False),
]
_LISTS = {"occurrence.countries", "harm.categories"}


def _prompt_incident() -> dict[str, object]:
    data: dict[str, object] = {}
    for path, question, required in _PROMPTS:
        answer = click.prompt(
            question, default=None if required else "", show_default=False
        ).strip()
        if not answer:
            continue
        value: object = (
            [part.strip() for part in answer.split(",") if part.strip()]
            if path in _LISTS
            else answer
        )
        target = data
        *parents, leaf = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})  # type: ignore[assignment]
        target[leaf] = value
    return data


@incidents.command("add", short_help="Record one of your organisation's own incidents (private).")
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A .yaml or .json file with the incident (see the README); prompts when absent.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--example", is_flag=True, help="Print an example incident file (every field) and exit."
)
@pass_app
def add(app: AppContext, source: Path | None, fmt: str, example: bool) -> None:
    """Record one of your organisation's own incidents (private: source "company").

    Re-adding a file with the same `reference` updates that incident. Prints its id (C-1), which
    `incidents show` and `report eu-ai-act|oecd` take.
    """
    from incidentdb._company import load_company_incident, parse_company_incident

    if example:
        from incidentdb._data import bundled_data

        path = bundled_data("reports", "company_incident.example.yaml")
        click.echo(path.read_text(encoding="utf-8"), nl=False)
        return
    record = (
        load_company_incident(source)
        if source is not None
        else parse_company_incident(_prompt_incident(), "answers")
    )
    incident_id, outcome = app.store().add_company_incident(record)
    if fmt == "json":
        echo_json({"id": incident_id, "outcome": outcome})
    else:
        click.echo(f"{incident_id}\t{outcome}")


@incidents.command("company", short_help="Your company incidents and their Article 73 deadlines.")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date the deadline status is computed for (default: today).",
)
@format_option
@limit_option
@pass_app
def company(app: AppContext, as_of: dt.datetime | None, fmt: str, limit: int | None) -> None:
    """List your company incidents with their Art. 73 deadline, the most urgent first."""
    rows = app.store().company_incidents(as_of=as_of.date() if as_of else None, limit=limit)
    output_rows(
        rows,
        fmt,
        [
            "id",
            "reference",
            "date",
            "title",
            "awareness_date",
            "harm",
            "due",
            "article",
            "status",
            "reports_filed",
        ],
    )

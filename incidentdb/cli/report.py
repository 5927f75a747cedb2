"""`incidentdb report`: regulator and framework reports filled from an incident."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from incidentdb.cli._context import AppContext, pass_app

__all__ = ["report"]


@click.group()
def report() -> None:
    """Fill incident reports: EU AI Act Art. 73 (eu-ai-act) and OECD (oecd)."""


def _options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.argument("incident"),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["markdown", "json"]),
                default="markdown",
                show_default=True,
            ),
            click.option(
                "--out",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write to this file instead of stdout.",
            ),
            click.option(
                "--as-of",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Date the report is prepared on (default: today); dates the deadline status.",
            ),
            click.option(
                "--template-version",
                default="v1",
                show_default=True,
                help="Template version; a revised template is a new version.",
            ),
        ]
    ):
        func = option(func)
    return func


def _emit(
    app: AppContext,
    template: str,
    incident: str,
    report_type: str | None,
    fmt: str,
    out: Path | None,
    as_of: dt.datetime | None,
) -> None:
    from incidentdb._reports import render_markdown

    filled = app.store().report(
        template, incident, report_type=report_type, as_of=as_of.date() if as_of else None
    )
    text = (
        json.dumps(filled, ensure_ascii=False, indent=2) + "\n"
        if fmt == "json"
        else render_markdown(filled)
    )
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        app.info(f"wrote {out}")
    missing = len(filled["missing"])
    app.info(
        f"{filled['template']}: {missing} required field(s) missing, "
        f"{len(filled['judgements'])} judgement(s) to confirm with counsel"
    )


@report.command(
    "eu-ai-act", short_help="EU AI Act Article 73 serious-incident report, with its deadline."
)
@_options
@click.option(
    "--type",
    "report_type",
    type=click.Choice(["initial", "follow-up", "combined", "final"]),
    help="Report type (default: initial, or follow-up when earlier reports are recorded).",
)
@pass_app
def eu_ai_act(
    app: AppContext,
    incident: str,
    fmt: str,
    out: Path | None,
    as_of: dt.datetime | None,
    template_version: str,
    report_type: str | None,
) -> None:
    """Serious-incident report under Art. 73 of the EU AI Act, with its deadline.

    INCIDENT is a company incident (C-1), an AIID number or an AVID id. Lists every required
    field still missing and marks (⚖) the legal judgements to confirm with counsel.
    """
    _emit(app, f"eu-ai-act.{template_version}", incident, report_type, fmt, out, as_of)


@report.command("oecd", short_help="A record in the OECD common reporting framework.")
@_options
@pass_app
def oecd(
    app: AppContext,
    incident: str,
    fmt: str,
    out: Path | None,
    as_of: dt.datetime | None,
    template_version: str,
) -> None:
    """A record in the OECD common reporting framework for AI incidents (29 criteria).

    INCIDENT is a company incident (C-1), an AIID number or an AVID id; lists the mandatory
    criteria still missing.
    """
    _emit(app, f"oecd.{template_version}", incident, None, fmt, out, as_of)

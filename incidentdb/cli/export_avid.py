"""`incidentdb export avid`: one incident as an AVID report (avidtools' schema)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from incidentdb.cli._context import AppContext, pass_app

__all__ = ["export_avid"]


@click.command("avid")
@click.argument("incident")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
@pass_app
def export_avid(app: AppContext, incident: str, out: Path | None) -> None:
    """Write INCIDENT as an AVID report (or vulnerability) JSON.

    INCIDENT is an imported AVID id (AVID-2026-R0062), an AIID number or a company incident
    (C-1). Imported AVID documents come back as imported (with known drift repaired); others
    are built from the store's facts.
    """
    # ingest.avid owns the AVID schema; CLI modules may import it (the core may not).
    from ingest.avid.export import avid_document

    document = avid_document(app.store(), incident)
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        app.info(f"wrote {out}")

"""`incidentdb taxonomy`: the failure-mode taxonomy and its crosswalk. Needs no database."""

from __future__ import annotations

from typing import Any

import click

from incidentdb.cli._output import format_option, output_rows
from taxonomy import SCHEMES, load_taxonomy

NODE_COLUMNS = ["id", "parent", "name", "summary"]
CROSSWALK_COLUMNS = ["id", "code", "name", "match", "verified"]


@click.group()
def taxonomy() -> None:
    """The failure-mode taxonomy: modes, techniques, crosswalks to public taxonomies."""


@taxonomy.command()
@click.option(
    "--to",
    "scheme",
    type=click.Choice(SCHEMES),
    default=None,
    help="List the crosswalk to this public taxonomy instead of the nodes.",
)
@format_option
def show(scheme: str | None, fmt: str) -> None:
    """List the failure modes and techniques, or their crosswalk (--to)."""
    tax = load_taxonomy()
    if scheme is None:
        rows: list[dict[str, Any]] = [
            {"id": n.id, "parent": n.parent, "name": n.name, "summary": n.summary}
            for n in tax.nodes
        ]
        output_rows(rows, fmt, NODE_COLUMNS, title=f"Failure-mode taxonomy {tax.version}")
        return
    crosswalk: list[dict[str, Any]] = [
        {"id": n.id, "code": e.code, "name": e.name, "match": e.match, "verified": e.verified}
        for n in tax.nodes
        for e in tax.crosswalk(n.id, scheme)
    ]
    info = tax.scheme_info(scheme)
    output_rows(
        crosswalk, fmt, CROSSWALK_COLUMNS, title=f"{tax.version} → {info.title} ({info.edition})"
    )

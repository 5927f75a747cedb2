"""`incidentdb export incidents`: every incident with its labels, for notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from incidentdb._errors import QueryError
from incidentdb.cli._context import AppContext, pass_app


@click.command("incidents")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file (default: stdout; parquet needs a file).",
)
@click.option(
    "--include-private",
    is_flag=True,
    help="Include the organisation's own (company) incidents; they are left out by default.",
)
@pass_app
def export_incidents(app: AppContext, fmt: str, out: Path | None, include_private: bool) -> None:
    """Incidents with their failure modes, techniques, deployers, developers and harmed parties.

    One row per incident; lists are JSON arrays in jsonl, list columns in parquet and
    "; "-joined in csv. Streamed in batches: memory stays bounded however big the store.
    """
    store = app.store()
    if out is None:
        if fmt == "parquet":
            raise QueryError("parquet is binary: name a file", hint="Add --out FILE.parquet.")
        n = store.export_incidents(
            sys.stdout.buffer, fmt, include_private=include_private, progress=app.progress()
        )
        sys.stdout.buffer.flush()
    else:
        # Into a sibling first, so a failed export never leaves half a file under the name.
        partial = out.with_name(out.name + ".partial")
        try:
            with partial.open("wb") as handle:
                n = store.export_incidents(
                    handle, fmt, include_private=include_private, progress=app.progress()
                )
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    app.info(f"{n} incidents exported" + (f" to {out}" if out else ""))

"""`incidentdb export suite NAME --to HARNESS OUT`: a stored suite in an eval harness's format."""

from __future__ import annotations

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import format_option, output_rows

HARNESS_CHOICES = ("inspect_ai", "promptfoo", "pyrit", "garak", "openai-evals", "jsonl")


@click.command("suite")
@click.argument("name")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="HARNESS",
    help=f"{'|'.join(HARNESS_CHOICES)}, or a versioned exporter name such as promptfoo.v1.",
)
@click.argument("out", type=click.Path(file_okay=False))
@format_option
@pass_app
def export_suite(app: AppContext, name: str, to: str, out: str, fmt: str) -> None:
    """Write suite NAME into folder OUT for an eval harness.

    Prints the files written. What the harness cannot express is listed as warnings on stderr,
    even with --quiet: it is kept in the output's metadata, never dropped silently.
    """
    from generators import export_suite as run_export

    result = run_export(app.store(), name, to, out)
    output_rows(
        [{"file": str(path)} for path in result.files], fmt, ["file"], title=result.exporter
    )
    app.info(f"{result.exporter}: {result.cases} cases")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)

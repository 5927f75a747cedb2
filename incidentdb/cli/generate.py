"""`incidentdb generate`: build a named suite of test cases from incidents and their labels."""

from __future__ import annotations

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import format_option, output_rows

MODE_CHOICES = ("multi_turn", "agentic", "distribution_shift", "adversarial", "misuse")


@click.command()
@click.option("--suite", required=True, help="Name of the suite to build (replaced if it exists).")
@click.option(
    "--incident",
    "incident_ids",
    type=int,
    multiple=True,
    metavar="ID",
    help="An AIID incident id (repeatable); default: every incident with a failure-mode label.",
)
@click.option(
    "--where",
    multiple=True,
    metavar="KEY=VALUE",
    help="Filter the labelled incidents (repeatable): since, until, deployer, developer, harmed, "
    'taxonomy (NS:ATTR=VALUE), search, mode. Example: --where "search=prompt injection".',
)
@click.option(
    "--mode",
    "modes",
    type=click.Choice(MODE_CHOICES),
    multiple=True,
    help="Only incidents and builders of this failure mode (repeatable).",
)
@click.option(
    "--variants",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Mutated variants per single- or multi-turn case.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Generation seed.")
@format_option
@pass_app
def generate(
    app: AppContext,
    suite: str,
    incident_ids: tuple[int, ...],
    where: tuple[str, ...],
    modes: tuple[str, ...],
    variants: int,
    seed: int,
    fmt: str,
) -> None:
    """Generate a suite of replayable adversarial test cases from incidents.

    The same store, options and seed always give the same cases (content-hash ids); generating
    a suite again only adds and removes the cases that changed.
    """
    from generators import generate_suite

    result = generate_suite(
        app.store(),
        suite,
        incident_ids=incident_ids,
        where=where,
        modes=modes,
        variants=variants,
        seed=seed,
        progress=app.progress(),
    )
    rows = [{"kind": kind, "cases": n} for kind, n in result.by_kind.items()]
    output_rows(rows, fmt, ["kind", "cases"], title=f"suite {suite}")
    saved = result.suite
    app.info(
        f"suite {suite}: {result.cases} cases from {result.incidents} incidents "
        f"({saved.added} added, {saved.unchanged} unchanged, {saved.removed} removed)"
    )
    for note in result.skipped[:20]:
        app.info(f"skipped {note}")
    if len(result.skipped) > 20:
        app.info(f"skipped {len(result.skipped) - 20} more incidents")

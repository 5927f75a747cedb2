"""`incidentdb classify`: tag incidents with failure modes (a thin layer over taxonomy.classify)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from incidentdb.cli._context import AppContext, pass_app
from incidentdb.cli._output import format_option, output_rows

COLUMNS = ["what", "count"]


@click.command()
@click.argument("incident_ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Classify every incident.")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), help="Incidents dated on or after this day."
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A model saved by `incidentdb taxonomy train` (default: the shipped classifier).",
)
@format_option
@pass_app
def classify(
    app: AppContext,
    incident_ids: tuple[int, ...],
    all_: bool,
    since: dt.datetime | None,
    model_path: Path | None,
    fmt: str,
) -> None:
    """Tag incidents with failure modes and techniques, with confidence and evidence.

    Give incident IDs, --since DATE or --all. Re-running the same classifier writes nothing;
    a new classifier version adds its tags beside the old ones.
    """
    from taxonomy import classify as run_classify
    from taxonomy import load_classifier

    chosen = sum((bool(incident_ids), all_, since is not None))
    if chosen != 1:
        raise click.UsageError("give incident IDs, --since DATE or --all (exactly one)")
    classifier = load_classifier(model_path) if model_path else None
    result = run_classify(
        app.store(),
        classifier,
        incident_ids=list(incident_ids) if incident_ids else None,
        since=since.date() if since else None,
        progress=app.progress(),
    )
    app.info(
        f"{result.model_name} {result.model_version}: classified {result.classified}, "
        f"already done {result.skipped}"
    )
    rows = [
        {"what": "selected", "count": result.selected},
        {"what": "classified", "count": result.classified},
        {"what": "skipped (already classified by this version)", "count": result.skipped},
        {"what": "rows written", "count": result.rows},
        *({"what": f"tagged {mode}", "count": n} for mode, n in result.by_mode.items()),
        {"what": "no failure mode", "count": result.untagged},
    ]
    output_rows(rows, fmt, COLUMNS, title=f"classify ({result.model_name} {result.model_version})")
